"""Plain `torch.nn` models: no Lightning, no Hydra, no I/O."""

from encoderlab.models.crf import CRF
from encoderlab.models.heads import Pooler, SequenceClassifier, TokenClassifier
from encoderlab.models.lstm import LSTMEncoder
from encoderlab.models.transformer import TransformerEncoder

__all__ = ["CRF", "LSTMEncoder", "Pooler", "SequenceClassifier", "TokenClassifier", "TransformerEncoder"]

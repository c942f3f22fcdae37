"""Plain `torch.nn` models: no Lightning, no Hydra, no I/O."""

from encoderlab.models.heads import Pooler, SequenceClassifier
from encoderlab.models.lstm import LSTMEncoder
from encoderlab.models.transformer import TransformerEncoder

__all__ = ["LSTMEncoder", "Pooler", "SequenceClassifier", "TransformerEncoder"]

"""Plain `torch.nn` models: no Lightning, no Hydra, no I/O."""

from encoderlab.models.heads import Pooler, SequenceClassifier
from encoderlab.models.lstm import LSTMAttentionDecoder, LSTMEncoder
from encoderlab.models.seq2seq import LSTMSeq2Seq, TransformerSeq2Seq
from encoderlab.models.transformer import TransformerDecoder, TransformerEncoder

__all__ = [
    "LSTMAttentionDecoder",
    "LSTMEncoder",
    "LSTMSeq2Seq",
    "Pooler",
    "SequenceClassifier",
    "TransformerDecoder",
    "TransformerEncoder",
    "TransformerSeq2Seq",
]

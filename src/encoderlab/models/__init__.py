"""Plain `torch.nn` models: no Lightning, no Hydra, no I/O. `contract` writes down what an encoder is (the
`Encoder` Protocol and its `Capabilities`); `build` turns a model config into a network for a task.

May import: torch only (and `errors`)."""

from encoderlab.models.bag import BagOfNgramsEncoder
from encoderlab.models.contract import Capabilities, Encoder
from encoderlab.models.crf import CRF
from encoderlab.models.heads import Pooler, SequenceClassifier, TokenClassifier
from encoderlab.models.lstm import LSTMAttentionDecoder, LSTMEncoder
from encoderlab.models.seq2seq import LSTMSeq2Seq, TransformerSeq2Seq
from encoderlab.models.transformer import TransformerDecoder, TransformerEncoder

__all__ = [
    "CRF",
    "BagOfNgramsEncoder",
    "Capabilities",
    "Encoder",
    "LSTMAttentionDecoder",
    "LSTMEncoder",
    "LSTMSeq2Seq",
    "Pooler",
    "SequenceClassifier",
    "TokenClassifier",
    "TransformerDecoder",
    "TransformerEncoder",
    "TransformerSeq2Seq",
]

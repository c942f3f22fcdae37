"""One typed step from a config's `model:` section to the network a task trains.

Two shapes of `model:` exist (kept so users' overrides keep working): encoder families give an `encoder:`
`_target_` section plus `pooling` and `head`, which a task's head goes on; seq2seq families give a whole `net:`.
`ModelConfig.from_dict` reads either, with the defaults in one place, and `build_network` builds what a task asks
for (`SequenceClassification`, `TokenClassification`, `MaskedLM` or `Seq2Seq`). A `char_encoder:` section (token
classification only) adds character features (`models/chars.py`) under the encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, overload

from hydra.utils import get_class, instantiate

from encoderlab.models.chars import CharFeatures, CharWordEncoder
from encoderlab.models.contract import Encoder
from encoderlab.models.heads import HeadConfig, SequenceClassifier, TokenClassifier
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.seq2seq import Seq2SeqModel
from encoderlab.models.vocabulary import Vocabulary


@dataclass(frozen=True)
class ModelConfig:
    """The network part of `model:` (not `name`, `lr`, `embeddings`, ...): an `encoder` section to put a head on,
    or a seq2seq `net` section; each is a Hydra `_target_` mapping completed with the data's vocabulary."""

    encoder: Mapping[str, Any] | None = None
    net: Mapping[str, Any] | None = None
    pooling: str = "cls"
    head: HeadConfig = field(default_factory=HeadConfig)
    char_encoder: Mapping[str, Any] | None = None  # a `models.chars` encoder's `_target_` mapping, or none

    @classmethod
    def from_dict(cls, model: Mapping[str, Any]) -> ModelConfig:
        head = model.get("head") or {}
        known = {f.name for f in fields(HeadConfig)}
        return cls(
            encoder=model.get("encoder"),
            net=model.get("net"),
            pooling=model.get("pooling", cls.pooling),
            head=HeadConfig(**{key: value for key, value in head.items() if key in known}),
            char_encoder=model.get("char_encoder"),
        )

    def section(self, name: str) -> Mapping[str, Any]:
        section = getattr(self, name)
        if section is None:
            raise ValueError(f"this task builds its network from model.{name}, which this model config lacks")
        return section


@dataclass(frozen=True)
class SequenceClassification:
    num_classes: int


@dataclass(frozen=True)
class TokenClassification:
    num_labels: int
    crf: bool = False
    num_chars: int = 0  # rows of the character vocabulary (pad and unk included), for `model.char_encoder`


@dataclass(frozen=True)
class MaskedLM:
    max_predictions_per_seq: int | None = None


@dataclass(frozen=True)
class Seq2Seq:
    """A whole encoder-decoder from `model.net` (its target and sizes say everything)."""


Output = SequenceClassification | TokenClassification | MaskedLM | Seq2Seq


def build_encoder(model: ModelConfig, vocabulary: Vocabulary, **extra: Any) -> Encoder:
    encoder: Encoder = instantiate(
        model.section("encoder"), vocab_size=vocabulary.size, pad_id=vocabulary.pad_id, **extra
    )
    return encoder


def max_word_chars(model: ModelConfig) -> int | None:
    """How many characters of each word `model.char_encoder` reads (its class's default where the config sets none);
    None without a char encoder. The data module keeps that many, and inference too."""
    if model.char_encoder is None:
        return None
    if "max_word_chars" in model.char_encoder:
        return int(model.char_encoder["max_word_chars"])
    char_encoder: type[CharWordEncoder] = get_class(model.char_encoder["_target_"])
    return char_encoder.config_class.max_word_chars


def build_with_chars(model: ModelConfig, vocabulary: Vocabulary, num_chars: int) -> tuple[Encoder, CharFeatures]:
    """The encoder and the character features joined to its token embeddings as its class declares."""
    encoder_cls: type[Encoder] = get_class(model.section("encoder")["_target_"])
    join = encoder_cls.capabilities.input_features
    if not join:
        raise ValueError(f"{model.section('encoder')['_target_']} takes no input features, so no char_encoder")
    if num_chars <= 0:
        raise ValueError("model.char_encoder needs the size of the data's character vocabulary (num_chars)")
    chars: CharWordEncoder = instantiate(model.section("char_encoder"), num_chars=num_chars)
    if join == "concat":
        return build_encoder(model, vocabulary, feature_size=chars.output_size), CharFeatures(chars, join)
    encoder = build_encoder(model, vocabulary)
    return encoder, CharFeatures(chars, join, encoder.get_input_embeddings().embedding_dim)


@overload
def build_network(model: ModelConfig, vocabulary: Vocabulary, output: SequenceClassification) -> SequenceClassifier: ...
@overload
def build_network(model: ModelConfig, vocabulary: Vocabulary, output: TokenClassification) -> TokenClassifier: ...
@overload
def build_network(model: ModelConfig, vocabulary: Vocabulary, output: MaskedLM) -> MaskedLanguageModel: ...
@overload
def build_network(model: ModelConfig, vocabulary: Vocabulary, output: Seq2Seq) -> Seq2SeqModel: ...
def build_network(
    model: ModelConfig, vocabulary: Vocabulary, output: Output
) -> SequenceClassifier | TokenClassifier | MaskedLanguageModel | Seq2SeqModel:
    """The network for `output`: the configured encoder under the task's head, or the configured seq2seq model."""
    if model.char_encoder is not None and not isinstance(output, TokenClassification):
        raise ValueError(f"model.char_encoder gives character features to token classification, not {output}")
    if isinstance(output, Seq2Seq):
        net: Seq2SeqModel = instantiate(model.section("net"), _partial_=True)(vocabulary)
        return net
    if isinstance(output, TokenClassification) and model.char_encoder is not None:
        encoder, chars = build_with_chars(model, vocabulary, output.num_chars)
        return TokenClassifier(encoder, output.num_labels, model.head.dropout, output.crf, chars)
    encoder = build_encoder(model, vocabulary)
    if isinstance(output, SequenceClassification):
        return SequenceClassifier(encoder, output.num_classes, model.pooling, model.head.dropout, model.head.dense)
    if isinstance(output, TokenClassification):
        return TokenClassifier(encoder, output.num_labels, model.head.dropout, output.crf)
    return MaskedLanguageModel(encoder, output.max_predictions_per_seq)

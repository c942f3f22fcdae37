"""One typed step from a config's `model:` section to the network a task trains.

Two shapes of `model:` exist (kept so users' overrides keep working): encoder families give an `encoder:`
`_target_` section plus `pooling` and `head`, which a task's head goes on; seq2seq families give a whole `net:`.
`ModelConfig.from_dict` reads either, with the defaults in one place, and `build_network` builds what a task asks
for (`SequenceClassification`, `TokenClassification`, `MaskedLM` or `Seq2Seq`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, overload

from hydra.utils import instantiate

from encoderlab.models.contract import Encoder
from encoderlab.models.heads import HeadConfig, SequenceClassifier, TokenClassifier
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.seq2seq import Seq2SeqModel


@dataclass(frozen=True)
class ModelConfig:
    """The network part of `model:` (not `name`, `lr`, `embeddings`, ...): an `encoder` section to put a head on,
    or a seq2seq `net` section; each is a Hydra `_target_` mapping completed with the data's vocabulary."""

    encoder: Mapping[str, Any] | None = None
    net: Mapping[str, Any] | None = None
    pooling: str = "cls"
    head: HeadConfig = field(default_factory=HeadConfig)

    @classmethod
    def from_dict(cls, model: Mapping[str, Any]) -> ModelConfig:
        head = model.get("head") or {}
        known = {f.name for f in fields(HeadConfig)}
        return cls(
            encoder=model.get("encoder"),
            net=model.get("net"),
            pooling=model.get("pooling", cls.pooling),
            head=HeadConfig(**{key: value for key, value in head.items() if key in known}),
        )

    def section(self, name: str) -> Mapping[str, Any]:
        section = getattr(self, name)
        if section is None:
            raise ValueError(f"this task builds its network from model.{name}, which this model config lacks")
        return section


@dataclass(frozen=True)
class Vocabulary:
    """What the network must know of the data's tokenizer."""

    size: int
    pad_id: int = 0
    bos_id: int | None = None  # seq2seq only
    eos_id: int | None = None


@dataclass(frozen=True)
class SequenceClassification:
    num_classes: int


@dataclass(frozen=True)
class TokenClassification:
    num_labels: int
    crf: bool = False


@dataclass(frozen=True)
class MaskedLM:
    max_predictions_per_seq: int | None = None


@dataclass(frozen=True)
class Seq2Seq:
    """A whole encoder-decoder from `model.net` (its target and sizes say everything)."""


Output = SequenceClassification | TokenClassification | MaskedLM | Seq2Seq


def build_encoder(model: ModelConfig, vocabulary: Vocabulary) -> Encoder:
    encoder: Encoder = instantiate(model.section("encoder"), vocab_size=vocabulary.size, pad_id=vocabulary.pad_id)
    return encoder


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
    if isinstance(output, Seq2Seq):
        if vocabulary.bos_id is None or vocabulary.eos_id is None:
            raise ValueError("a seq2seq model needs the vocabulary's bos_id and eos_id")
        net: Seq2SeqModel = instantiate(
            model.section("net"),
            vocab_size=vocabulary.size,
            pad_id=vocabulary.pad_id,
            bos_id=vocabulary.bos_id,
            eos_id=vocabulary.eos_id,
        )
        return net
    encoder = build_encoder(model, vocabulary)
    if isinstance(output, SequenceClassification):
        return SequenceClassifier(encoder, output.num_classes, model.pooling, model.head.dropout, model.head.dense)
    if isinstance(output, TokenClassification):
        return TokenClassifier(encoder, output.num_labels, model.head.dropout, output.crf)
    return MaskedLanguageModel(encoder, output.max_predictions_per_seq)

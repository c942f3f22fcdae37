"""The encoder contract: what tasks, fine-tuning, word-vector loading and export may ask of an encoder.

Every encoder (`TransformerEncoder`, `LSTMEncoder`, `BagOfNgramsEncoder`, and any new one) provides all of
`Encoder` below. What only some encoders can do is declared in `capabilities`, never found by probing attributes:
callers ask `encoder.capabilities.<name>` (or, before a model is built, the class attribute of its `_target_`).

A new encoder is one file under `models/` with a class that satisfies `Encoder` and one `conf/model/*.yaml` naming
it; `tests/models/test_contract.py` builds every model config and checks it against this contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Protocol, runtime_checkable

import torch
from torch import nn


@dataclass(frozen=True)
class Capabilities:
    """What an encoder offers beyond the contract. An encoder class declares the capabilities of its default
    settings as a class attribute (read before the model is built); an instance may narrow them (TF-IDF weighting
    turns per-token states off), never widen them."""

    # `hidden[:, t]` stands for token t (token tasks, masked-LM); False: positions weighted to be pooled as a whole
    per_token_states: bool = True
    token_type_ids: bool = False  # reads the segment ids of text pairs (others accept and ignore them)
    unpad: bool = False  # `unpad=true` runs its layers on real tokens only, with the same outputs
    attention_maps: bool = False  # `attention_maps(...)` returns each layer's attention weights `[B, heads, T, T]`
    # a dataclass `config` rebuilds it (`type(encoder)(**asdict(config))`), so `pretrained.save_encoder` can write it
    exportable: bool = False
    # per-token input features (`forward(..., features=[B, T, F])`, character features) join its token embeddings
    # before the first layer: "concat" (built with `feature_size=F`, its first layer reads E + F), "add" (F must be
    # the embedding width; callers project to it); "" takes none
    input_features: str = ""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))

    def lacks(self, wanted: Iterable[str]) -> list[str]:
        """Which of the `wanted` capabilities these lack; an unknown name is a programming error."""
        wanted = list(wanted)
        unknown = [name for name in wanted if name not in self.names()]
        if unknown:
            raise ValueError(f"unknown encoder capabilities {unknown}; choose from {', '.join(self.names())}")
        return [name for name in wanted if not getattr(self, name)]


class EncodesTokens(Protocol):
    """An encoder's `forward`, and its call (through `nn.Module.__call__`, hooks included)."""

    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor: ...


class EncodesTokensWithFeatures(Protocol):
    """`EncodesTokens` with per-token input `features [B, T, F]`, for an encoder with the `input_features`
    capability."""

    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
    ) -> torch.Tensor: ...


@runtime_checkable
class Encoder(Protocol):
    """`forward(input_ids [B, T], attention_mask [B, T], token_type_ids=None) -> hidden [B, T, hidden_size]`;
    padding (on the right) never changes the outputs at real positions."""

    capabilities: Capabilities
    # the encoder config key that sets the token-embedding width (named when word vectors don't fit it)
    embedding_size_key: str

    @property
    def hidden_size(self) -> int:
        """Width of each output position (what a head on top reads)."""
        ...

    __call__: EncodesTokens

    @property
    def forward(self) -> EncodesTokens: ...

    def get_input_embeddings(self) -> nn.Embedding:
        """The token-embedding table (rows are tokenizer ids): word vectors load into it, a masked-LM head ties to
        it."""
        ...

    def set_input_embeddings(self, embedding: nn.Embedding) -> None:
        """Replace the token-embedding table; the encoder reads the new one from then on."""
        ...

    def embedding_block(self) -> nn.Module:
        """The input side below the first layer: what `finetune.freeze_embeddings` freezes and layer-wise LR decay
        puts at depth 0 (the token table, and whatever sits with it: positions, their norm)."""
        ...

    def layer_stack(self) -> Sequence[nn.Module]:
        """The layers, input side first, that `finetune.freeze_layers` freezes and layer-wise LR decay gives depths
        1..L; empty for an encoder without separable layers (an `nn.LSTM`, a bag of n-grams)."""
        ...

    @property
    def needs_fit(self) -> bool:
        """True while statistics that must be counted on the training split (with `fit`) are missing."""
        ...

    def fit(self, train_token_ids: Iterable[Sequence[int]]) -> None:
        """Count whatever statistics the encoder takes from the training split (the encoded training texts, one id
        list each); a no-op for an encoder that needs none. Called once, before training."""
        ...


@runtime_checkable
class AttentionMapsEncoder(Encoder, Protocol):
    """An encoder with the `attention_maps` capability."""

    def attention_maps(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """Each layer's attention probabilities `[B, heads, T, T]`."""
        ...


@runtime_checkable
class FeatureInputEncoder(Encoder, Protocol):
    """An encoder with the `input_features` capability."""

    __call__: EncodesTokensWithFeatures

    @property
    def forward(self) -> EncodesTokensWithFeatures: ...


class ExportableConfig(Protocol):
    """What an `exportable` encoder's dataclass `config` tells about its shape, beside the settings that rebuild it."""

    @property
    def vocab_size(self) -> int: ...

    @property
    def hidden_size(self) -> int: ...

    @property
    def layer_norm_eps(self) -> float: ...


@runtime_checkable
class ExportableEncoder(Encoder, Protocol):
    """An encoder with the `exportable` capability: `type(encoder)(**asdict(encoder.config))` rebuilds it."""

    @property
    def config(self) -> ExportableConfig: ...


class NothingToFit:
    """`Encoder.needs_fit`/`fit` for an encoder that counts nothing on the training split: every weight trains."""

    @property
    def needs_fit(self) -> bool:
        return False

    def fit(self, train_token_ids: Iterable[Sequence[int]]) -> None:
        """Nothing to count."""


class SingleTokenTable:
    """The input side of an encoder that is one token table (`self.<token_table>`) under layers that can't be frozen
    one by one (an `nn.LSTM`, a bag of n-grams): `Encoder`'s embedding and layer accessors."""

    token_table: str  # the attribute holding the `nn.Embedding`

    def get_input_embeddings(self) -> nn.Embedding:
        table = getattr(self, self.token_table)
        assert isinstance(table, nn.Embedding)
        return table

    def set_input_embeddings(self, embedding: nn.Embedding) -> None:
        setattr(self, self.token_table, embedding)

    def embedding_block(self) -> nn.Module:
        return self.get_input_embeddings()

    def layer_stack(self) -> tuple[nn.Module, ...]:
        return ()


@runtime_checkable
class TrainingTokenIds(Protocol):
    """A data module that can hand an encoder its training split for `Encoder.fit`."""

    def training_token_ids(self) -> Iterator[list[int]]: ...


def fit_on_training_split(encoder: Encoder, datamodule: object) -> None:
    """Run `encoder.fit` on the data module's training split when the encoder still needs it."""
    if not encoder.needs_fit:
        return
    if not isinstance(datamodule, TrainingTokenIds):
        raise RuntimeError(
            f"{type(encoder).__name__} counts statistics on the training split before training: fit it with a data "
            "module that has training_token_ids() (trainer.fit(task, datamodule=...))"
        )
    encoder.fit(datamodule.training_token_ids())

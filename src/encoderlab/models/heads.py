"""Pooling and prediction heads on top of an encoder's `[B, T, H]` output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import nn

from encoderlab.models.attention import AdditiveAttention
from encoderlab.models.chars import CharFeatures
from encoderlab.models.contract import AttentionMapsEncoder, Encoder, FeatureInputEncoder
from encoderlab.models.crf import CRF
from encoderlab.models.dropout import Dropout

POOLING_CHOICES = ("cls", "mean", "sum", "max", "attention")


class Pooler(nn.Module):
    """Sequence -> vector. `cls`: first token; `mean`/`sum`/`max`: over real tokens only; `attention`: additive
    attention. `sum` is for encoders that weight their own positions (TF-IDF bags)."""

    def __init__(self, hidden_size: int, method: str = "cls") -> None:
        super().__init__()
        if method not in POOLING_CHOICES:
            raise ValueError(f"unknown pooling {method!r}; choose one of {', '.join(POOLING_CHOICES)}")
        self.method = method
        self.attention = AdditiveAttention(hidden_size) if method == "attention" else None
        self.last_weights: torch.Tensor | None = None  # attention weights of the last batch, for inspection

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.method == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        if self.method == "mean":
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        if self.method == "sum":
            return (hidden * mask).sum(1)
        if self.method == "max":
            return hidden.masked_fill(mask == 0, torch.finfo(hidden.dtype).min).amax(1)
        assert self.attention is not None  # built for method == "attention", the one left
        pooled, weights = self.attention(hidden, attention_mask)
        self.last_weights = weights.detach()
        return pooled


@dataclass(frozen=True)
class HeadConfig:
    """`model.head`: what sits between the encoder and the labels."""

    dropout: float = 0.1
    dense: bool = True  # sequence classification only: BERT's dense+tanh pooler before the classifier


class ClassificationHead(nn.Module):
    """Dropout -> optional dense+tanh (BERT's pooler) -> linear to the classes."""

    def __init__(self, hidden_size: int, num_classes: int, dropout: float = 0.1, dense: bool = True) -> None:
        super().__init__()
        self.dense = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh()) if dense else nn.Identity()
        self.dropout = Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.dense(pooled)))


class EncoderWithHead(nn.Module):
    """`forward(input_ids, attention_mask, token_type_ids=None)`: the encoder, then `predict` on its states."""

    encoder: Encoder

    def predict(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.predict(self.encoder(input_ids, attention_mask, token_type_ids), attention_mask)


class SequenceClassifier(EncoderWithHead):
    """Encoder + pooling + head: `forward(input_ids, attention_mask) -> logits [B, C]`. Plain torch, compile-able."""

    def __init__(
        self,
        encoder: Encoder,
        num_classes: int,
        pooling: str = "cls",
        head_dropout: float = HeadConfig.dropout,
        head_dense: bool = HeadConfig.dense,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooler = Pooler(encoder.hidden_size, pooling)
        self.head = ClassificationHead(encoder.hidden_size, num_classes, head_dropout, head_dense)

    def predict(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.pooler(hidden, attention_mask))

    def attention_maps(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """What the model attends to, for visualisation: `layer_<i>` `[B, heads, T, T]` for a Transformer encoder's
        self-attention, `pooling` `[B, T]` for attention pooling; empty for a model with neither (an LSTM, mean)."""
        maps: dict[str, torch.Tensor] = {}
        if self.encoder.capabilities.attention_maps:
            encoder = cast(AttentionMapsEncoder, self.encoder)  # the capability promises the method
            layers = encoder.attention_maps(input_ids, attention_mask, token_type_ids)
            maps.update({f"layer_{i}": weights for i, weights in enumerate(layers, start=1)})
        if self.pooler.attention is not None:
            hidden = self.encoder(input_ids, attention_mask, token_type_ids)
            _, maps["pooling"] = self.pooler.attention(hidden, attention_mask)
        return maps


class TokenClassifier(EncoderWithHead):
    """Encoder + dropout + linear per position: `forward(...) -> emissions [B, T, num_labels]`.

    With `crf=True` it also holds a linear-chain CRF (`self.crf`) that the task trains and decodes over words. With
    `chars` (character features, `models/chars.py`) `forward` also takes `char_ids [B, T, C]`, whose per-token vectors
    join the encoder's token embeddings (the encoder must have the `input_features` capability).
    """

    def __init__(
        self,
        encoder: Encoder,
        num_labels: int,
        dropout: float = HeadConfig.dropout,
        crf: bool = False,
        chars: CharFeatures | None = None,
    ) -> None:
        super().__init__()
        if chars is not None and not encoder.capabilities.input_features:
            raise ValueError(f"{type(encoder).__name__} takes no input features, so no character features")
        self.encoder = encoder
        self.chars = chars
        self.dropout = Dropout(dropout)
        self.classifier = nn.Linear(encoder.hidden_size, num_labels)
        self.crf = CRF(num_labels) if crf else None

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if (char_ids is None) != (self.chars is None):
            raise ValueError(
                "this network reads character features: pass char_ids"
                if self.chars is not None
                else "this network has no character encoder: pass no char_ids"
            )
        if self.chars is None or char_ids is None:
            hidden = self.encoder(input_ids, attention_mask, token_type_ids)
        else:
            encoder = cast(FeatureInputEncoder, self.encoder)  # the capability promises the keyword
            hidden = encoder(input_ids, attention_mask, token_type_ids, features=self.chars(char_ids))
        return self.predict(hidden, attention_mask)

    def predict(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(hidden))

"""BERT-style Transformer encoder (embeddings, N blocks of self-attention + GELU feed-forward, pre- or post-LN) and
the matching decoder (causal self-attention + cross-attention to the encoder + feed-forward), for seq2seq.

Parameter names follow the parts of HF's `BertModel` (word/position/token_type embeddings, attention, intermediate,
output) so weights map both ways; Q, K and V are one fused matrix here and three in HF.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from encoderlab.models.attention import Cache, MultiHeadAttention, keys_to_attend
from encoderlab.models.contract import Capabilities, NothingToFit
from encoderlab.models.dropout import Dropout
from encoderlab.models.unpadding import Packing

# a decoder's incremental state: per layer, the self-attention's keys/values so far and the projected memory
DecoderCache = list[dict[str, Cache]]


@dataclass
class TransformerConfig:
    vocab_size: int
    hidden_size: int = 512
    num_layers: int = 4
    num_heads: int = 8
    intermediate_size: int | None = None  # default 4 * hidden_size
    max_position: int = 512
    type_vocab_size: int = 2
    dropout: float = 0.1
    attention_dropout: float = 0.1
    norm_first: bool = False  # False: post-LN as in BERT; True: pre-LN (more stable for deep or fast schedules)
    layer_norm_eps: float = 1e-12
    pad_id: int = 0
    unpad: bool = False  # run the layers on real tokens only (models/unpadding.py); same outputs at real positions

    def __post_init__(self) -> None:
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size


class Embeddings(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_id)
        self.position_embeddings = nn.Embedding(cfg.max_position, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.layer_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = Dropout(cfg.dropout)
        self.max_position = cfg.max_position

    def forward(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        position_offset: int = 0,
        features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`position_offset`: position of the first token (the number of tokens already decoded, when decoding);
        `features [B, T, hidden_size]`: per-token input features added to the token embeddings."""
        length = input_ids.shape[1] + position_offset
        if length > self.max_position:
            raise ValueError(
                f"sequence length {length} exceeds max_position={self.max_position}; "
                "lower data.max_length or raise the model's max_position"
            )
        positions = torch.arange(position_offset, length, device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None]
        if features is not None:
            x = x + features.to(x.dtype)
        if token_type_ids is None:
            x = x + self.token_type_embeddings.weight[0]
        else:
            x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.layer_norm(x))


class FeedForward(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        inner = cfg.intermediate_size
        assert inner is not None  # TransformerConfig fills it in
        self.intermediate = nn.Linear(cfg.hidden_size, inner)
        self.output = nn.Linear(inner, cfg.hidden_size)
        self.dropout = Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.output(F.gelu(self.intermediate(x))))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(cfg.hidden_size, cfg.num_heads, cfg.attention_dropout)
        self.attention_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.feed_forward = FeedForward(cfg)
        self.output_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = Dropout(cfg.dropout)
        self.norm_first = cfg.norm_first

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None, packing: Packing | None = None) -> torch.Tensor:
        """`x`: `[B, T, H]`, or the packed real tokens `[N, H]` with a `packing` (every step but attention is
        token-wise, so the same code serves both)."""
        if self.norm_first:
            x = x + self.dropout(self.attention(self.attention_norm(x), attn_mask, packing=packing))
            return x + self.feed_forward(self.output_norm(x))
        x = self.attention_norm(x + self.dropout(self.attention(x, attn_mask, packing=packing)))
        return self.output_norm(x + self.feed_forward(x))


def init_bert_weights(module: nn.Module) -> None:
    """BERT's initialisation: N(0, 0.02) for every matrix, zero biases, unit LayerNorm."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)
        if module.padding_idx is not None:
            module.weight.data[module.padding_idx].zero_()


class TransformerStack(nn.Module):
    """What the encoder and the decoder share: embeddings, `num_layers` blocks built by `make_layer`, a final
    LayerNorm under pre-LN, BERT's initialisation. The parts sit directly on the subclass (`embeddings`, `layers`,
    `final_norm`), so parameter names are those of HF's BERT parts."""

    def __init__(self, config: TransformerConfig, make_layer: Callable[[TransformerConfig], nn.Module]) -> None:
        super().__init__()
        self.config = config
        self.embeddings = Embeddings(config)
        self.layers = nn.ModuleList(make_layer(config) for _ in range(config.num_layers))
        self.final_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps) if config.norm_first else None
        self.apply(init_bert_weights)

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    def normed(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's output, through the final LayerNorm under pre-LN."""
        return x if self.final_norm is None else self.final_norm(x)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.config).items() if k != "vocab_size")


class TransformerEncoder(NothingToFit, TransformerStack):
    """`forward(input_ids, attention_mask) -> hidden [B, T, H]`; padding never changes outputs at real positions.
    Satisfies `models.contract.Encoder`. Per-token `features [B, T, H]` (character features, projected to the
    embedding width by the caller) are added to the token embeddings: the width is fixed, pretrained weights fit."""

    config_class = TransformerConfig
    capabilities = Capabilities(
        token_type_ids=True, unpad=True, attention_maps=True, exportable=True, input_features="add"
    )
    embedding_size_key = "hidden_size"

    def __init__(self, vocab_size: int, **settings: Any) -> None:
        """`settings`: the fields of `TransformerConfig` (what `model.encoder.*` sets)."""
        super().__init__(TransformerConfig(vocab_size=vocab_size, **settings), EncoderLayer)

    @classmethod
    def from_config(cls, config: TransformerConfig) -> TransformerEncoder:
        return cls(**asdict(config))

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, embedding: nn.Embedding) -> None:
        self.embeddings.word_embeddings = embedding

    def embedding_block(self) -> nn.Module:
        return self.embeddings

    def layer_stack(self) -> tuple[nn.Module, ...]:
        return tuple(self.layers)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = self.embeddings(input_ids, token_type_ids, features=features)
        if self.config.unpad and attention_mask is not None:
            # positions stay zero; pooling and the masked-LM head read real positions only
            packing = Packing.from_mask(attention_mask)
            return packing.unpack(self._layers(packing.pack(x), None, packing))
        attn_mask = None if attention_mask is None else keys_to_attend(attention_mask)
        return self._layers(x, attn_mask)

    def _layers(self, x: torch.Tensor, attn_mask: torch.Tensor | None, packing: Packing | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, attn_mask, packing)
        return self.normed(x)

    def attention_maps(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> list[torch.Tensor]:
        """Each layer's attention probabilities `[B, heads, T, T]`, for visualisation (a separate, slower pass that
        materialises the matrices; `forward` never computes them)."""
        attn_mask = None if attention_mask is None else keys_to_attend(attention_mask)
        x = self.embeddings(input_ids, token_type_ids)
        maps = []
        for layer in cast(Iterable[EncoderLayer], self.layers):  # a ModuleList yields plain Modules to mypy
            attention_input = layer.attention_norm(x) if layer.norm_first else x
            maps.append(layer.attention.attention_weights(attention_input, attn_mask))
            x = layer(x, attn_mask)
        return maps


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention to the encoder's memory, feed-forward; pre- or post-LN as the encoder."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.attention = MultiHeadAttention(cfg.hidden_size, cfg.num_heads, cfg.attention_dropout)
        self.attention_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.cross_attention = MultiHeadAttention(cfg.hidden_size, cfg.num_heads, cfg.attention_dropout, is_cross=True)
        self.cross_attention_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.feed_forward = FeedForward(cfg)
        self.output_norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = Dropout(cfg.dropout)
        self.norm_first = cfg.norm_first

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        cache: dict[str, Cache] | None = None,
    ) -> torch.Tensor:
        # A single new step attends to all cached steps: causal by construction, so no mask.
        causal = cache is None or "k" not in cache["self"]
        self_cache = None if cache is None else cache["self"]
        cross_cache = None if cache is None else cache["cross"]

        def self_attend(h: torch.Tensor) -> torch.Tensor:
            return self.dropout(self.attention(h, is_causal=causal, cache=self_cache))

        def cross_attend(h: torch.Tensor) -> torch.Tensor:
            return self.dropout(self.cross_attention(h, memory_mask, memory=memory, cache=cross_cache))

        if self.norm_first:
            x = x + self_attend(self.attention_norm(x))
            x = x + cross_attend(self.cross_attention_norm(x))
            return x + self.feed_forward(self.output_norm(x))
        x = self.attention_norm(x + self_attend(x))
        x = self.cross_attention_norm(x + cross_attend(x))
        return self.output_norm(x + self.feed_forward(x))


class TransformerDecoder(TransformerStack):
    """`forward(tgt_ids, memory, memory_mask, cache=None) -> hidden [B, T, H]`; the caller projects to the vocabulary.

    `cache` (from `init_cache`) turns on incremental decoding: pass one new token per call.
    """

    def __init__(self, vocab_size: int, **settings: Any) -> None:
        super().__init__(TransformerConfig(vocab_size=vocab_size, **settings), DecoderLayer)

    @classmethod
    def from_config(cls, config: TransformerConfig) -> TransformerDecoder:
        return cls(**asdict(config))

    @property
    def input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def init_cache(self) -> DecoderCache:
        return [{"self": {}, "cross": {}} for _ in self.layers]

    def forward(
        self,
        tgt_ids: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        cache: DecoderCache | None = None,
    ) -> torch.Tensor:
        offset = 0
        if cache is not None and "k" in cache[0]["self"]:
            offset = cache[0]["self"]["k"].shape[2]
        x = self.embeddings(tgt_ids, position_offset=offset)
        attendable_memory = keys_to_attend(memory_mask)
        for i, layer in enumerate(self.layers):
            x = layer(x, memory, attendable_memory, None if cache is None else cache[i])
        return self.normed(x)

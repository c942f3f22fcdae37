"""Attention modules: multi-head (self and cross) through `F.scaled_dot_product_attention`, and additive attention.

Masks follow one convention everywhere: `attention_mask` is `[B, T]` with 1 (or True) at real tokens and 0 at padding.

Incremental decoding (as fairseq's `incremental_state`): each attention module reads and writes its keys/values in a
`cache` dict it is given. Self-attention appends the new step's keys/values; cross-attention projects the encoder
memory once, on the first step. Every cached tensor is batch-first, so beam search reorders a cache with one
`index_select` per tensor (`reorder_cache`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from encoderlab.models.unpadding import Packing, packed_self_attention

Cache = dict[str, torch.Tensor]


def keys_to_attend(attention_mask: torch.Tensor) -> torch.Tensor:
    """`[B, T]` 1/0 mask -> boolean `[B, 1, 1, T]` mask for SDPA (True = may attend)."""
    return attention_mask.bool()[:, None, None, :]


def reorder_cache(state: Any, indices: torch.Tensor) -> Any:
    """Select batch rows `indices` of every tensor in a (nested dict/list) decoding state, e.g. to follow beams."""
    if isinstance(state, torch.Tensor):
        return state.index_select(0, indices)
    if isinstance(state, dict):
        return {key: reorder_cache(value, indices) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(reorder_cache(value, indices) for value in state)
    return state


class MultiHeadAttention(nn.Module):
    """Multi-head attention with a fused QKV projection for self-attention.

    For cross-attention (`is_cross=True`) queries come from `x` and keys/values from `memory`, through a fused KV
    projection. Weights are laid out so that they map to HF BERT's separate query/key/value matrices by slicing.
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.0, is_cross: bool = False) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size={hidden_size} is not divisible by num_heads={num_heads}")
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.dropout = dropout
        self.is_cross = is_cross
        if is_cross:
            self.q_proj = nn.Linear(hidden_size, hidden_size)
            self.kv_proj = nn.Linear(hidden_size, 2 * hidden_size)
        else:
            self.qkv_proj = nn.Linear(hidden_size, 3 * hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        memory: torch.Tensor | None = None,
        is_causal: bool = False,
        cache: Cache | None = None,
        packing: Packing | None = None,
    ) -> torch.Tensor:
        """`x`: `[B, T, H]`; `attn_mask`: boolean, broadcastable to `[B, heads, T, S]` (True = attend).

        With a `cache`, `x` holds only the new step(s): self-attention attends to the cached keys/values plus its
        own, so no causal mask is needed for a single new step; cross-attention reuses the projected memory.
        With a `packing` (unpadded self-attention), `x` is the packed real tokens `[N, H]` and so is the output.
        """
        if packing is not None:
            heads = (x.shape[0], self.num_heads, self.head_dim)
            q, k, v = (t.reshape(heads) for t in self.qkv_proj(x).chunk(3, dim=-1))
            dropout_p = self.dropout if self.training else 0.0
            return self.out_proj(packed_self_attention(q, k, v, packing, dropout_p).reshape(x.shape))
        if self.is_cross:
            q = self._split_heads(self.q_proj(x))
            if cache is not None and "k" in cache:
                k, v = cache["k"], cache["v"]
            else:
                if memory is None:
                    raise ValueError("cross-attention needs `memory`")
                k, v = (self._split_heads(t) for t in self.kv_proj(memory).chunk(2, dim=-1))
        else:
            q, k, v = (self._split_heads(t) for t in self.qkv_proj(x).chunk(3, dim=-1))
            if cache is not None and "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
        if cache is not None:
            cache["k"], cache["v"] = k, v
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=is_causal and attn_mask is None,
        )
        batch, _, length, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(batch, length, self.hidden_size))

    def attention_weights(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Self-attention probabilities `[B, heads, T, T]` (rows: queries), for inspection only.

        SDPA never returns its weights (the fused kernels never hold them), so this recomputes softmax(QK^T/sqrt(d))
        explicitly, without dropout; `forward` stays on the fused path.
        """
        if self.is_cross:
            raise ValueError("attention_weights is for self-attention")
        q, k, _ = (self._split_heads(t) for t in self.qkv_proj(x).chunk(3, dim=-1))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if attn_mask is not None:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        return scores.float().softmax(dim=-1)


class AdditiveAttention(nn.Module):
    """Bahdanau-style scorer: `score_t = v^T tanh(W h_t (+ U q))`, softmax over real positions.

    With no query it is attention pooling over a sequence; with a query (a decoder state) it is Bahdanau attention.
    """

    def __init__(self, hidden_size: int, attention_size: int | None = None, query_size: int | None = None):
        super().__init__()
        attention_size = attention_size or hidden_size
        self.key_proj = nn.Linear(hidden_size, attention_size, bias=True)
        self.query_proj = nn.Linear(query_size, attention_size, bias=False) if query_size else None
        self.score = nn.Linear(attention_size, 1, bias=False)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """`W h_t` for every position: a decoder computes it once per source and passes it to each step (`attend`)."""
        return self.key_proj(keys)

    def forward(
        self,
        keys: torch.Tensor,
        attention_mask: torch.Tensor,
        query: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns `(context [B, H], weights [B, T])`; padded positions get weight exactly 0."""
        return self.attend(keys, self.project_keys(keys), attention_mask, query)

    def attend(
        self,
        keys: torch.Tensor,
        projected_keys: torch.Tensor,
        attention_mask: torch.Tensor,
        query: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`forward` with the keys' projection (`project_keys(keys)`) computed beforehand."""
        energy = projected_keys
        if query is not None:
            if self.query_proj is None:
                raise ValueError("this AdditiveAttention was built without query_size")
            energy = energy + self.query_proj(query)[:, None, :]
        scores = self.score(torch.tanh(energy)).squeeze(-1)
        scores = scores.masked_fill(~attention_mask.bool(), torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)
        return context, weights

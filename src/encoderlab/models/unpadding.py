"""Unpadding: run an encoder on the real tokens of a padded batch only.

Everything in a Transformer block except attention works token by token, so projections, feed-forward, norms and
dropout can run on the packed `[N, H]` real tokens (N = the mask's sum) instead of all `B * T` positions. Attention
is the one place tokens meet: on CUDA in half precision it runs packed too, through Flash Attention's
variable-length kernel (`torch.nn.attention.varlen.varlen_attn`, sequences delimited by cumulative lengths);
elsewhere (CPU, fp32, attention dropout while training) the packed tokens are scattered back to `[B, T]` for SDPA
and gathered again, so only the attention core pays for the padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

try:  # torch >= 2.10
    from torch.nn.attention.varlen import varlen_attn

    HAS_VARLEN = True
except ImportError:  # pragma: no cover - older torch: always the padded fallback
    HAS_VARLEN = False


@dataclass
class Packing:
    """Where the real tokens of a right-padded `[B, T]` batch sit, to pack `[B, T, ...] -> [N, ...]` and back."""

    index: torch.Tensor  # [N] positions in the flattened B * T grid
    cu_seqlens: torch.Tensor  # [B + 1] int32: sequence b's tokens are packed rows cu[b]:cu[b+1]
    lengths: torch.Tensor  # [B] int32
    mask: torch.Tensor  # [B, T] bool

    @property
    def max_length(self) -> int:
        """The longest sequence, for the varlen kernel only: reading it syncs with the device (and breaks a graph)."""
        return int(self.lengths.max()) if self.lengths.numel() else 0

    @classmethod
    def from_mask(cls, attention_mask: torch.Tensor) -> Packing:
        mask = attention_mask.bool()
        lengths = mask.sum(1, dtype=torch.int32)
        cu_seqlens = F.pad(torch.cumsum(lengths, 0, dtype=torch.int32), (1, 0))
        index = mask.flatten().nonzero().squeeze(1)
        return cls(index, cu_seqlens, lengths, mask)

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(0, 1).index_select(0, self.index)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """`[N, ...] -> [B, T, ...]`, zeros at padded positions."""
        batch, length = self.mask.shape
        grid = x.new_zeros(batch * length, *x.shape[1:])
        return grid.index_copy(0, self.index, x).view(batch, length, *x.shape[1:])


def uses_varlen_kernel(q: torch.Tensor, dropout_p: float) -> bool:
    return HAS_VARLEN and q.is_cuda and q.dtype in (torch.float16, torch.bfloat16) and dropout_p == 0.0


def packed_self_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, packing: Packing, dropout_p: float = 0.0
) -> torch.Tensor:
    """Attention within each sequence of packed `[N, heads, head_dim]` q/k/v; returns `[N, heads, head_dim]`."""
    if uses_varlen_kernel(q, dropout_p):
        cu, longest = packing.cu_seqlens, packing.max_length
        # without return_aux it returns the output alone; torch's signature declares both results for every call
        return varlen_attn(q, k, v, cu, cu, longest, longest)  # type: ignore[return-value]
    q, k, v = (packing.unpack(t).transpose(1, 2) for t in (q, k, v))  # [B, heads, T, head_dim]
    key_mask = packing.mask[:, None, None, :]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, dropout_p=dropout_p)
    return packing.pack(out.transpose(1, 2))

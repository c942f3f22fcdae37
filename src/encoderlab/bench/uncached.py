"""Decoding without a KV cache, the reference that cached decoding is measured against: every step re-runs the
decoder over the whole prefix and keeps only the last position's logits."""

from __future__ import annotations

import torch

from encoderlab.models.seq2seq import Seq2SeqModel


class UncachedDecoding:
    """Wraps a `Seq2SeqModel` in the decoding interface of `greedy_search` / `beam_search`; its state is the prefix."""

    def __init__(self, model: Seq2SeqModel) -> None:
        self.model = model
        self.pad_id, self.bos_id, self.eos_id = model.pad_id, model.bos_id, model.eos_id

    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return self.model.encode(src_ids, src_mask)

    def init_state(self, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return torch.empty(memory.shape[0], 0, dtype=torch.long, device=memory.device)

    def step(
        self, tokens: torch.Tensor, prefix: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        prefix = torch.cat([prefix, tokens.unsqueeze(1)], dim=1)
        return self.model.decode(prefix, memory, src_mask)[:, -1], prefix

    def reorder_state(self, prefix: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        return prefix.index_select(0, indices)

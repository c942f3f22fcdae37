"""Length-sorted batches: texts of similar length share a batch, so little compute goes to padding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from encoderlab.data.collate import pad_sequences


def length_sorted_batches(
    encoded: Sequence[Sequence[int]], batch_size: int, pad_id: int
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """`(indices into encoded, input_ids, attention_mask)` per batch; every index appears exactly once."""
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        input_ids, attention_mask = pad_sequences([encoded[i] for i in indices], pad_id)
        yield indices, input_ids, attention_mask

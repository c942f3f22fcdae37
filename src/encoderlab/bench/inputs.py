"""Synthetic batches, the same tensors for every contender of a case (speed does not depend on which ids)."""

from __future__ import annotations

import torch

from encoderlab.models.masked_lm import IGNORE_INDEX

FIRST_ORDINARY_ID = 5  # after [PAD] [UNK] [CLS] [SEP] [MASK]
MASK_ID = 4


def random_ids(batch: int, length: int, vocab_size: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(FIRST_ORDINARY_ID, vocab_size, (batch, length), generator=generator)


def padded_batch(
    batch: int, length: int, vocab_size: int, generator: torch.Generator, min_length: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and mask with lengths drawn uniformly from `[min_length, length]`, right-padded with 0 to `length`."""
    lengths = torch.randint(min_length or length, length + 1, (batch,), generator=generator)
    mask = (torch.arange(length)[None] < lengths[:, None]).long()
    return random_ids(batch, length, vocab_size, generator) * mask, mask


def masked_lm_batch(
    batch: int, length: int, vocab_size: int, generator: torch.Generator, rate: float = 0.15
) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-length sequences (pretraining packs text, so no padding): `(input_ids, labels)`, `rate` of positions
    replaced by [MASK] and labelled with their original token, `IGNORE_INDEX` elsewhere."""
    ids = random_ids(batch, length, vocab_size, generator)
    masked = torch.rand(batch, length, generator=generator) < rate
    return ids.masked_fill(masked, MASK_ID), ids.masked_fill(~masked, IGNORE_INDEX)

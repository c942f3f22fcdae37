"""BERT's masking for masked-language-model pretraining: choose ~15% of the real tokens as prediction targets;
of those, 80% become `[MASK]`, 10% a random token and 10% stay as they are.

Special tokens (`[CLS]`, `[SEP]`, `[PAD]`, ...) are never chosen. Training batches are masked afresh every time the
collator runs (dynamic masking, as RoBERTa), so each epoch sees new masks; evaluation splits are masked once with a
fixed seed, so their loss is comparable from one validation to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from encoderlab.models.masked_lm import IGNORE_INDEX


@dataclass(frozen=True)
class MaskingRates:
    """How many tokens are masked: `probability` of the real tokens are chosen; of those, `mask_ratio` become
    `[MASK]`, `random_ratio` a random token, and the rest stay as they are."""

    probability: float = 0.15
    mask_ratio: float = 0.8
    random_ratio: float = 0.1


def mask_tokens(
    ids: torch.Tensor,
    special_ids: Sequence[int],
    mask_id: int,
    vocab_size: int,
    rates: MaskingRates = MaskingRates(),
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`ids [B, T]` -> `(inputs, labels)`: labels hold the original token where one was chosen, `IGNORE_INDEX`
    elsewhere. At least one token per call is chosen (when any can be), so a batch never has an empty loss."""
    maskable = ~torch.isin(ids, torch.as_tensor(list(special_ids), dtype=ids.dtype))
    chosen = (torch.rand(ids.shape, generator=generator) < rates.probability) & maskable
    if not chosen.any() and maskable.any():
        candidates = maskable.flatten().nonzero().squeeze(1)
        pick = candidates[torch.randint(len(candidates), (1,), generator=generator)]
        chosen.view(-1)[pick] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE_INDEX))
    roll = torch.rand(ids.shape, generator=generator)
    to_mask = chosen & (roll < rates.mask_ratio)
    to_random = chosen & (roll >= rates.mask_ratio) & (roll < rates.mask_ratio + rates.random_ratio)
    inputs = ids.clone()
    inputs[to_mask] = mask_id
    random_tokens = torch.randint(vocab_size, ids.shape, generator=generator, dtype=ids.dtype)
    inputs[to_random] = random_tokens[to_random]
    return inputs, labels


class MaskedLMCollator:
    """`[{"input_ids": [T]}]` -> `{"input_ids", "attention_mask", "labels"}`, masking each batch afresh.

    Examples that already carry `labels` (evaluation splits, masked once) are only stacked. Blocks are padded to
    one length already; the attention mask is 1 wherever the token is not `[PAD]`.
    """

    def __init__(
        self,
        pad_id: int,
        mask_id: int,
        vocab_size: int,
        special_ids: Sequence[int],
        rates: MaskingRates = MaskingRates(),
    ) -> None:
        self.pad_id = pad_id
        self.mask_id = mask_id
        self.vocab_size = vocab_size
        self.special_ids = sorted(set(special_ids) | {pad_id})
        self.rates = rates

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = torch.stack([torch.as_tensor(ex["input_ids"]) for ex in examples]).long()
        if "labels" in examples[0]:
            # evaluation blocks were masked once; their input_ids are the masked inputs, `original` the clean ones
            original = torch.stack([torch.as_tensor(ex["original"]) for ex in examples]).long()
            labels = torch.stack([torch.as_tensor(ex["labels"]) for ex in examples]).long()
            return {"input_ids": ids, "attention_mask": (original != self.pad_id).long(), "labels": labels}
        # the global RNG: seeded by seed_everything, and per worker by the DataLoader, so workers draw different masks
        inputs, labels = mask_tokens(ids, self.special_ids, self.mask_id, self.vocab_size, self.rates)
        return {"input_ids": inputs, "attention_mask": (ids != self.pad_id).long(), "labels": labels}

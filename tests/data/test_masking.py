"""BERT masking: rates within tolerance on a large random batch; special tokens and padding never chosen."""

from __future__ import annotations

import pytest
import torch

from encoderlab.data.masking import MaskedLMCollator, MaskingRates, mask_tokens
from encoderlab.models.masked_lm import IGNORE_INDEX

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIALS = [PAD, UNK, CLS, SEP, MASK]
VOCAB = 1000


def random_blocks(rows: int = 512, length: int = 128) -> torch.Tensor:
    """`[CLS] tokens [SEP] [PAD]...` with random lengths, some `[UNK]` and a `[SEP]` inside (a document boundary)."""
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, VOCAB, (rows, length), generator=generator)
    ids[torch.rand(rows, length, generator=generator) < 0.02] = UNK
    ids[:, 0], ids[:, 60] = CLS, SEP
    for row, real in enumerate(torch.randint(70, length + 1, (rows,), generator=generator).tolist()):
        ids[row, real - 1] = SEP
        ids[row, real:] = PAD
    return ids


@pytest.mark.parametrize("probability", [0.15, 0.3])
def test_masking_rates_and_never_a_special_or_pad(probability: float) -> None:
    ids = random_blocks()
    inputs, labels = mask_tokens(
        ids, SPECIALS, MASK, VOCAB, MaskingRates(probability), generator=torch.Generator().manual_seed(1)
    )
    special = torch.isin(ids, torch.tensor(SPECIALS))
    chosen = labels != IGNORE_INDEX
    assert not (chosen & special).any(), "a special or padding token was chosen"
    assert torch.equal(inputs[special], ids[special]), "a special or padding token was changed"
    assert torch.equal(labels[chosen], ids[chosen]), "labels hold the original tokens"
    assert torch.equal(inputs[~chosen], ids[~chosen]), "only chosen tokens change"
    n = chosen.sum().item()
    assert n / (~special).sum().item() == pytest.approx(probability, abs=0.005)  # ~50k maskable tokens
    assert (inputs[chosen] == MASK).sum().item() / n == pytest.approx(0.8, abs=0.015)
    kept = (inputs[chosen] == ids[chosen]).sum().item() / n
    assert kept == pytest.approx(0.1, abs=0.01)  # a random token equals the original 1 time in 1000: negligible
    assert 1 - 0.8 - kept == pytest.approx(0.1, abs=0.015)


def test_at_least_one_target_even_for_a_short_batch() -> None:
    ids = torch.tensor([[CLS, 7, SEP, PAD]])
    for seed in range(20):
        _, labels = mask_tokens(
            ids, SPECIALS, MASK, VOCAB, MaskingRates(0.01), generator=torch.Generator().manual_seed(seed)
        )
        assert labels.tolist() == [[IGNORE_INDEX, 7, IGNORE_INDEX, IGNORE_INDEX]]


def test_collator_masks_afresh_each_call_and_masks_out_padding() -> None:
    collate = MaskedLMCollator(PAD, MASK, VOCAB, [UNK, CLS, SEP, MASK])
    examples = [{"input_ids": row} for row in random_blocks(rows=8)]
    torch.manual_seed(0)
    first, second = collate(examples), collate(examples)
    assert torch.equal(first["attention_mask"], (torch.stack([e["input_ids"] for e in examples]) != PAD).long())
    assert not torch.equal(first["labels"], second["labels"]), "dynamic masking: a new mask every time"

"""Dynamic padding and length bucketing."""

from __future__ import annotations

import torch
from torch.utils.data import RandomSampler

from encoderlab.data.collate import ClassificationCollator, pad_sequences
from encoderlab.data.sampler import LengthBucketBatchSampler, SeededRandomSampler


def test_pad_sequences_pads_to_longest_and_to_multiple() -> None:
    ids, mask = pad_sequences([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    ids, _ = pad_sequences([[5, 6, 7], [8]], pad_id=0, multiple_of=8)
    assert ids.shape == (2, 8)


def test_collator_builds_labels_and_token_types() -> None:
    batch = ClassificationCollator(pad_id=0)(
        [
            {"input_ids": [2, 9, 3], "label": 1, "token_type_ids": [0, 0, 0]},
            {"input_ids": [2, 3], "label": 0, "token_type_ids": [0, 0]},
        ]
    )
    assert batch["labels"].tolist() == [1, 0]
    assert batch["input_ids"].shape == batch["token_type_ids"].shape == (2, 3)


def test_bucketing_yields_every_index_once_in_similar_length_batches() -> None:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 100, (1000,), generator=generator).tolist()
    sampler = LengthBucketBatchSampler(
        RandomSampler(range(1000), generator=generator),
        batch_size=32,
        drop_last=False,
        lengths=lengths,
        pool_batches=10,
    )
    batches = list(sampler)
    assert len(batches) == len(sampler) == 32
    assert sorted(i for b in batches for i in b) == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 20, "batches from a length-sorted pool span few lengths (random batches span ~95)"


def test_order_depends_only_on_seed_and_epoch() -> None:
    lengths = list(range(200))

    def order(seed: int, epoch: int) -> list[list[int]]:
        sampler = LengthBucketBatchSampler(SeededRandomSampler(lengths, seed), 16, False, lengths, 4, seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 0) != order(0, 1), "a new order each epoch"
    assert order(0, 1) == order(0, 1), "the same order for the same epoch, e.g. after a resume"
    assert order(0, 1) != order(1, 1)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    order(0, 2)
    assert torch.rand(1) == before, "sampling never touches the global RNG"

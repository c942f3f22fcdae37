"""Batches by token budget (`data.max_tokens`): as many sequences as fit in `max_tokens` padded positions.

Short sentences then come in large batches and long ones in small batches, so every step multiplies matrices of
about the same size (large enough to keep the cores busy) and padding stays small, as fairseq's `--max-tokens`.
Length bucketing is kept: each pool of indices is sorted by length before it is cut into batches.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch.utils.data import Sampler

from encoderlab.data.sampler import LengthBucketBatchSampler


def padded_length(length: int, multiple_of: int | None) -> int:
    return -(-length // multiple_of) * multiple_of if multiple_of else length


def cut_by_budget(
    pool: list[int], lengths: Sequence[int], max_tokens: int, multiple_of: int | None = None
) -> list[list[int]]:
    """Consecutive batches of a length-sorted `pool` whose `size * padded longest` stays within `max_tokens`.
    A single sequence longer than the budget gets a batch of its own."""
    batches: list[list[int]] = []
    batch: list[int] = []
    longest = 0
    for index in pool:
        candidate = max(longest, padded_length(lengths[index], multiple_of))
        if batch and candidate * (len(batch) + 1) > max_tokens:
            batches.append(batch)
            batch, candidate = [], padded_length(lengths[index], multiple_of)
        batch.append(index)
        longest = candidate
    if batch:
        batches.append(batch)
    return batches


class TokenBudgetBatchSampler(LengthBucketBatchSampler):
    """`LengthBucketBatchSampler` whose batches hold up to `max_tokens` padded tokens instead of `batch_size`
    sequences. `batch_size` only sizes the sorting pools (`batch_size * pool_batches` indices each). Resumes
    mid-epoch like its base: the epoch's batches are a function of (seed, epoch) only."""

    def __init__(
        self,
        sampler: Sampler[int],
        batch_size: int,
        drop_last: bool,
        lengths: Sequence[int],
        max_tokens: int,
        pool_batches: int = 50,
        seed: int = 0,
        pad_to_multiple_of: int | None = None,
        start_epoch: int = 0,
        start_batch: int = 0,
    ) -> None:
        # a budget batch has no fixed size to drop short ones by
        super().__init__(sampler, batch_size, False, lengths, pool_batches, seed, start_epoch, start_batch)
        if max_tokens <= 0:
            raise ValueError(f"max_tokens must be positive, got {max_tokens}")
        self.max_tokens = max_tokens
        self.pad_to_multiple_of = pad_to_multiple_of

    def cut_pool(self, pool: list[int]) -> list[list[int]]:
        return cut_by_budget(pool, self.lengths, self.max_tokens, self.pad_to_multiple_of)

    def __len__(self) -> int:
        return sum(1 for _ in self.epoch_batches())

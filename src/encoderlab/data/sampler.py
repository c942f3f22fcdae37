"""Samplers whose order depends only on (seed, epoch): reproducible runs and exact resumes.

Lightning calls `set_epoch` on a loader's sampler and batch sampler before every epoch, also after a resume, so
epoch k draws the same order whether the run got there straight or from a checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized

import torch
from torch.utils.data import BatchSampler, Sampler


class SeededRandomSampler(Sampler[int]):
    """A random permutation of the dataset drawn from `seed + epoch`, independent of the global RNG."""

    def __init__(self, data_source: Sized, seed: int = 0) -> None:
        self.data_source = data_source
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        yield from torch.randperm(len(self.data_source), generator=generator).tolist()

    def __len__(self) -> int:
        return len(self.data_source)


class LengthBucketBatchSampler(BatchSampler):
    """Draws indices from `sampler`, sorts each pool of `batch_size * pool_batches` by length, batches the pool
    and shuffles the batches: batches of similar lengths, so dynamic padding wastes little compute.

    It wraps an index sampler rather than replacing it, so Lightning can swap in a `DistributedSampler` under DDP
    (it re-instantiates batch samplers with the same arguments and a new `sampler`).
    """

    def __init__(
        self,
        sampler: Sampler[int],
        batch_size: int,
        drop_last: bool,
        lengths: Sequence[int],
        pool_batches: int = 50,
        seed: int = 0,
    ) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self.lengths = lengths
        self.pool_batches = pool_batches
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        indices = list(self.sampler)
        pool_size = self.batch_size * self.pool_batches
        batches: list[list[int]] = []
        for start in range(0, len(indices), pool_size):
            pool = sorted(indices[start : start + pool_size], key=lambda i: self.lengths[i])
            batches.extend(pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size))
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        for position in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[position]

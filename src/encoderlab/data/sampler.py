"""Samplers whose order depends only on (seed, epoch), and batch samplers that can start mid-epoch: reproducible runs
and exact resumes.

Lightning calls `set_epoch` on a loader's sampler (also the one inside a batch sampler) before every epoch, also after
a resume, so epoch k draws the same order whether the run got there straight or from a checkpoint. A resumed run's
batch sampler is built knowing where the interrupted one stopped (`TrainPosition`): its first pass draws that epoch's
order and skips the batches already trained, by index, without loading them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence, Sized
from dataclasses import dataclass

import torch
from torch.utils.data import BatchSampler, Sampler


@dataclass(frozen=True)
class TrainPosition:
    """Where training goes on: batch `batch` (0-based) of epoch `epoch`."""

    epoch: int = 0
    batch: int = 0


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


class ResumableBatchSampler(BatchSampler):
    """A `BatchSampler` whose first pass may start at `start_batch` of `start_epoch` (a resumed run's position).

    Both are constructor arguments, not state set later, because Lightning re-instantiates batch samplers with the
    arguments they were built with (and a `DistributedSampler` in place of `sampler`) under DDP. The epoch is handed
    to the sampler at once: loaders with workers draw their first indices when the iterator is created, before
    Lightning's `set_epoch`. `len()` stays the full epoch's, which is what Lightning counts the resumed epoch against.
    """

    def __init__(
        self,
        sampler: Sampler[int],
        batch_size: int,
        drop_last: bool,
        start_epoch: int = 0,
        start_batch: int = 0,
    ) -> None:
        super().__init__(sampler, batch_size, drop_last)
        self.start_batch = start_batch
        self.epoch = start_epoch
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(start_epoch)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    @property
    def current_epoch(self) -> int:
        # Lightning calls set_epoch on the wrapped sampler, not on a batch sampler: its epoch is the one that counts
        return getattr(self.sampler, "epoch", self.epoch)

    def epoch_batches(self) -> Iterator[list[int]]:
        """Every batch of the current epoch, in order."""
        return super().__iter__()

    def __iter__(self) -> Iterator[list[int]]:
        # runs at the first draw, not when an iterator is merely created: only the pass that trains skips
        skip, self.start_batch = self.start_batch, 0
        yield from itertools.islice(self.epoch_batches(), skip, None)


class LengthBucketBatchSampler(ResumableBatchSampler):
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
        start_epoch: int = 0,
        start_batch: int = 0,
    ) -> None:
        super().__init__(sampler, batch_size, drop_last, start_epoch, start_batch)
        self.lengths = lengths
        self.pool_batches = pool_batches
        self.seed = seed

    def cut_pool(self, pool: list[int]) -> list[list[int]]:
        """A length-sorted pool cut into batches of `batch_size` sequences."""
        return [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]

    def epoch_batches(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.current_epoch)
        indices = list(self.sampler)
        pool_size = self.batch_size * self.pool_batches
        batches: list[list[int]] = []
        for start in range(0, len(indices), pool_size):
            pool = sorted(indices[start : start + pool_size], key=lambda i: self.lengths[i])
            batches.extend(self.cut_pool(pool))
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        for position in torch.randperm(len(batches), generator=generator).tolist():
            yield batches[position]

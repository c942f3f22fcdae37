"""The train/validation/test loaders every data module serves, from one `_loader(split, train)` of its own, and the
training loader's position in the checkpoint, so a run interrupted mid-epoch resumes at the next unseen batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence, Sized
from typing import Any

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn
from torch.utils.data import DataLoader

from encoderlab.data.sampler import LengthBucketBatchSampler, ResumableBatchSampler, SeededRandomSampler, TrainPosition
from encoderlab.data.token_budget import TokenBudgetBatchSampler


class SplitDataModule(L.LightningDataModule):
    """A LightningDataModule whose three loaders differ only in the split they read and whether they shuffle.

    Its checkpoint state is where training goes on (`TrainPosition`), read from the trainer's own progress when the
    checkpoint is written. Lightning restores a data module's state before it asks for the first training loader
    (its fit loop's own hook for stateful loaders is skipped when `configure_optimizers` reads
    `trainer.estimated_stepping_batches`, as the tasks' schedulers do), so `train_batches` builds that loader's batch
    sampler already positioned.
    """

    seed: int

    def __init__(self) -> None:
        super().__init__()
        self._resume_at: TrainPosition | None = None

    def _loader(self, split: str, train: bool) -> DataLoader:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)

    def train_batches(
        self,
        dataset: Sized,
        batch_size: int,
        drop_last: bool = False,
        lengths: Sequence[int] | None = None,
        max_tokens: int | None = None,
        multiple_of: int | None = None,
    ) -> ResumableBatchSampler:
        """The training batch sampler: an epoch-seeded order, bucketed by `lengths` if given (by token budget when
        `max_tokens` is set), starting where a restored checkpoint left off (once: a loader built again later starts
        its epoch from the first batch)."""
        start, self._resume_at = self._resume_at or TrainPosition(), None
        sampler = SeededRandomSampler(dataset, seed=self.seed)
        position = {"start_epoch": start.epoch, "start_batch": start.batch}
        if lengths is not None and max_tokens:
            return TokenBudgetBatchSampler(
                sampler,
                batch_size,
                drop_last,
                lengths,
                max_tokens,
                seed=self.seed,
                pad_to_multiple_of=multiple_of,
                **position,
            )
        if lengths is not None:
            return LengthBucketBatchSampler(sampler, batch_size, drop_last, lengths=lengths, seed=self.seed, **position)
        return ResumableBatchSampler(sampler, batch_size, drop_last, **position)

    def state_dict(self) -> dict[str, Any]:
        trainer = self.trainer
        if trainer is None or trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking:
            return {}
        return {"train_position": dataclasses.asdict(next_position(trainer))}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "train_position" in state_dict:
            self._resume_at = TrainPosition(**state_dict["train_position"])


def next_position(trainer: L.Trainer) -> TrainPosition:
    """The batch a run restored from a checkpoint written now trains next (checkpoints are written after a training
    batch, after validation, at an epoch's end or after the last epoch)."""
    epochs = trainer.fit_loop.epoch_progress.current
    if epochs.started == epochs.processed:  # between epochs: the next one starts from its first batch
        return TrainPosition(epochs.processed, 0)
    epoch = epochs.started - 1
    done = trainer.fit_loop.epoch_loop.batch_progress.current.processed  # batches whose training step ran
    if done >= trainer.num_training_batches:
        return TrainPosition(epoch + 1, 0)
    return TrainPosition(epoch, done)

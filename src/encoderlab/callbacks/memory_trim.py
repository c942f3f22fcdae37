"""Bound the resident memory of a run whose allocator keeps freed memory (`hardware/allocator.py`)."""

from __future__ import annotations

from typing import Any

import lightning as L

from encoderlab.hardware.allocator import release_free_memory


class MemoryTrim(L.Callback):
    """`malloc_trim` when training starts (the data set-up's peak is not needed again), every `every_n_steps`
    training steps and after each validation; a no-op where the allocator is the system's."""

    def __init__(self, every_n_steps: int = 200) -> None:
        if every_n_steps < 1:
            raise ValueError(f"callbacks.memory_trim.every_n_steps must be >= 1 (got {every_n_steps})")
        self.every_n_steps = every_n_steps

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        release_free_memory()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.global_step % self.every_n_steps == 0:
            release_free_memory()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        release_free_memory()

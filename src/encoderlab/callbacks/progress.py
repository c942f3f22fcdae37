"""The TQDM progress bar, also right after a resume in the middle of an epoch."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar


class ResumableProgressBar(TQDMProgressBar):
    """Lightning's `TQDMProgressBar`. After a resume mid-epoch Lightning skips `on_train_epoch_start`, where the bar
    learns its epoch and total; without this it would count on from 0 with neither."""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if trainer.fit_loop.restarted_mid_epoch and self.train_progress_bar is not None:
            self.on_train_epoch_start(trainer, pl_module)
            current = trainer.fit_loop.epoch_loop.batch_progress.current
            # annotated as the base tracker, but a batch progress's `current` is a _ProcessedTracker
            self.train_progress_bar.update(current.processed)  # type: ignore[attr-defined]

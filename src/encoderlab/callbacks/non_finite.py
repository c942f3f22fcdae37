"""Stop at the first non-finite training loss instead of training on garbage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from encoderlab.errors import NonFiniteLossError


class StopOnNonFiniteLoss(L.Callback):
    """Raises `NonFiniteLossError` naming the step when the loss is NaN or infinite.

    Nothing is saved on the way out, so `last.ckpt` stays the last good checkpoint. The check reads the loss on the
    host, one small sync; `every_n_steps` spaces it out where that matters.
    """

    def __init__(self, every_n_steps: int = 1) -> None:
        self.every_n_steps = every_n_steps

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if trainer.global_step % self.every_n_steps:
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None or bool(torch.isfinite(loss).all()):
            return
        callback = next((c for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)), None)
        last = Path(callback.dirpath) / "last.ckpt" if callback is not None and callback.dirpath else None
        kept = f"the last good checkpoint is {last}" if last is not None and last.exists() else "no checkpoint yet"
        raise NonFiniteLossError(
            f"training loss became {loss.item()} at step {trainer.global_step} (epoch {trainer.current_epoch}); "
            f"stopped, {kept}. Try a lower optimizer.lr, trainer.gradient_clip_val=1.0 or trainer.precision=32-true"
        )

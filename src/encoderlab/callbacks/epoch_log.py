"""One log line per epoch with its metrics, so `train.log` holds the run's curve (the progress bar only shows the
latest values, and a W&B or CSV logger may be off)."""

from __future__ import annotations

import logging

import lightning as L

log = logging.getLogger("encoderlab.epochs")


def metrics_line(metrics: dict[str, float]) -> str:
    """`train/loss=0.4123 val/acc=0.821 ...`: the epoch's `train/` and `val/` metrics, sorted (a metric logged per
    step and per epoch is there three times: `x`, `x_step`, `x_epoch`; `x` holds the epoch's value)."""
    shown = sorted(
        (name, value)
        for name, value in metrics.items()
        if name.startswith(("train/", "val/")) and not name.endswith(("_step", "_epoch"))
    )
    return " ".join(f"{name}={value:.4g}" for name, value in shown)


class EpochMetricsLog(L.Callback):
    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = {name: float(value) for name, value in trainer.callback_metrics.items() if value.numel() == 1}
        log.info("epoch %d (step %d): %s", trainer.current_epoch, trainer.global_step, metrics_line(metrics))

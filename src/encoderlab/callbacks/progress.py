"""The progress bar: Lightning's rich bar where the terminal shows one, its TQDM bar elsewhere (logs, pipes, tests),
both with `run_eta`, the time left for the whole run (not just the epoch), and both right after a resume in the
middle of an epoch."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar, Timer, TQDMProgressBar


def duration(seconds: float) -> str:
    """`42s`, `12m05s`, `3h07m`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class RunETA:
    """The time the run has left at the pace of its optimizer steps so far (validation time included), capped by
    `trainer.max_time`; an upper bound when early stopping ends the run sooner. None until a step is done."""

    def __init__(self) -> None:
        self.started: tuple[float, int] | None = None
        self.total_steps: float = math.inf

    def start(self, trainer: L.Trainer) -> None:
        self.started = (time.monotonic(), trainer.global_step)
        self.total_steps = float(trainer.estimated_stepping_batches)

    def seconds_left(self, trainer: L.Trainer) -> float | None:
        if self.started is None or trainer.global_step <= self.started[1]:
            return None
        elapsed = time.monotonic() - self.started[0]
        left = elapsed / (trainer.global_step - self.started[1]) * (self.total_steps - trainer.global_step)
        timer = next((c for c in trainer.callbacks if isinstance(c, Timer)), None)  # type: ignore[attr-defined]
        remaining = timer.time_remaining("train") if timer is not None else None
        if remaining is not None:
            left = min(left, remaining)
        return left if math.isfinite(left) else None


class _WithRunETA(ProgressBar):
    """Adds `run_eta` to the metrics a bar shows, and restores the bar's epoch and total after a mid-epoch resume
    (Lightning then skips `on_train_epoch_start`, where a bar learns them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run_eta = RunETA()

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self.run_eta.start(trainer)
        if trainer.fit_loop.restarted_mid_epoch:
            self.on_train_epoch_start(trainer, pl_module)
            # annotated as the base tracker, but a batch progress's `current` is a _ProcessedTracker
            self.advance_to(trainer.fit_loop.epoch_loop.batch_progress.current.processed)  # type: ignore[attr-defined]

    def advance_to(self, batches: int) -> None:
        raise NotImplementedError

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)  # the logger's version: the run folder already says which run this is
        left = self.run_eta.seconds_left(trainer)
        if left is not None:
            metrics["run_eta"] = duration(left)
        return metrics


class ResumableProgressBar(_WithRunETA, TQDMProgressBar):
    """Lightning's TQDM bar with the run's ETA; for logs and pipes."""

    def advance_to(self, batches: int) -> None:
        if self.train_progress_bar is not None:
            self.train_progress_bar.update(batches)


class RichRunProgressBar(_WithRunETA, RichProgressBar):
    """Lightning's rich bar with the run's ETA; for terminals."""

    def advance_to(self, batches: int) -> None:
        if self.progress is not None and self.train_progress_bar_id is not None:
            self.progress.update(self.train_progress_bar_id, completed=batches)
            self.refresh()


def terminal_shows_rich() -> bool:
    return sys.stdout.isatty() and os.environ.get("TERM", "") not in ("", "dumb")


def progress_bar(refresh_rate: int = 20) -> ProgressBar:
    """The rich bar in a terminal (redrawn in place, so every batch), else TQDM every `refresh_rate` batches;
    `refresh_rate=0` turns either off."""
    if terminal_shows_rich():
        return RichRunProgressBar(refresh_rate=min(refresh_rate, 1))
    return ResumableProgressBar(refresh_rate=refresh_rate)

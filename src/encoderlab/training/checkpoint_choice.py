"""Which checkpoint a finished run tests: the best one by the monitored metric, or the average of the last N
(`callbacks.checkpoint_averaging`) when its own validation score is at least as good (chosen on validation only)."""

from __future__ import annotations

import logging
import math
from typing import Any

import lightning as L

from encoderlab.callbacks.checkpoint_averaging import CheckpointAveraging
from encoderlab.tasks.base import Task

log = logging.getLogger(__name__)


def checkpoint_to_test(
    trainer: L.Trainer, task: Task, datamodule: L.LightningDataModule, best: str, best_score: float | None
) -> tuple[str, dict[str, Any]]:
    """`(path to test, summary fields)`: `best` unless an averaged checkpoint validates as well or better."""
    averaging = next((c for c in trainer.callbacks if isinstance(c, CheckpointAveraging)), None)  # type: ignore[attr-defined]
    if averaging is None or averaging.averaged_path is None:
        return best, {}
    averaged = str(averaging.averaged_path)
    scores = trainer.validate(task, datamodule=datamodule, ckpt_path=averaged, verbose=False)[0]
    monitor, mode = task.objective.monitor, task.objective.mode
    score = float(scores[monitor])
    if best_score is None or not best:
        better = True
    elif mode == "max":
        better = score >= best_score
    else:
        better = score <= best_score
    chosen = averaged if better and math.isfinite(score) else best
    log.info("Averaged checkpoint %s=%.4f against the best's %s: testing %s", monitor, score, best_score, chosen)
    fields = {
        "averaged_checkpoint": averaged,
        "averaged_steps": list(averaging.snapshot_steps),
        "tested_checkpoint": chosen,
    }
    return chosen, {"fields": fields, "metrics": {averaged_name(k): float(v) for k, v in scores.items()}}


def averaged_name(metric: str) -> str:
    """`val/bleu` -> `val_averaged/bleu`: the averaged checkpoint's figures beside the run's own."""
    stage, _, name = metric.partition("/")
    return f"{stage}_averaged/{name}" if name else f"averaged_{metric}"

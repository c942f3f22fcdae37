"""The run's objective: the metric a task monitors (`task.monitor`), whether lower or higher is better, its best value
so far, and the value a sweep optimizes (`optimized_metric`, by default `<task.monitor>_best`).

No Lightning here: `tasks/base.py` keeps one `Objective` per task, `config_resolvers.py` reads `metric_mode` for
`${metric_mode:...}` and `cli/train.py` asks `objective_value` for what it returns to the sweeper.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from encoderlab.errors import ConfigError

MODES = ("min", "max")
LOWER_IS_BETTER = ("loss", "ppl")  # metric names (after `stage/`) holding one of these: a lower value is better


def metric_mode(name: str) -> str:
    """`min` for losses and perplexities (`val/loss`, `val/ppl`), `max` for every other metric (acc, F1, BLEU)."""
    return "min" if any(word in str(name).rsplit("/", 1)[-1] for word in LOWER_IS_BETTER) else "max"


def missing_metric(setting: str, name: str, logged: Iterable[str]) -> ConfigError:
    """The one-line error for a metric a run was told to follow but never logged."""
    shown = ", ".join(sorted(logged)) or "none"
    return ConfigError(f"{setting}={name} was not logged by this run (logged: {shown}); set {setting} to one of those")


@dataclass
class Objective:
    """The monitored metric and its best value so far; `best` is None until a validation epoch has run."""

    monitor: str
    mode: str
    best: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"task.monitor_mode={self.mode!r}; use min or max (or leave it to follow task.monitor)")

    @property
    def best_name(self) -> str:
        return f"{self.monitor}_best"

    def require(self, metrics: Mapping[str, Any]) -> None:
        """`ConfigError` (one line, naming the metrics there are) unless `metrics` hold the monitored one."""
        if self.monitor not in metrics:
            raise missing_metric("task.monitor", self.monitor, metrics)

    def update(self, metrics: Mapping[str, Any]) -> float | None:
        """Fold this epoch's value of the monitored metric (from `metrics`) into the best; the best after it.
        A non-finite value (a diverged epoch) never counts as a best."""
        self.require(metrics)
        value = float(metrics[self.monitor])
        better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        if math.isfinite(value) and better:
            self.best = value
        return self.best

    def state(self) -> dict[str, Any]:
        return {"monitor": self.monitor, "mode": self.mode, "best": self.best}

    def restore(self, state: Mapping[str, Any] | None) -> None:
        """The best of a checkpoint, when it followed the same metric the same way (else this run starts afresh)."""
        if state and state.get("monitor") == self.monitor and state.get("mode") == self.mode:
            self.best = state.get("best")


def objective_value(metrics: Mapping[str, float], name: str | None) -> float | None:
    """What a run returns to Hydra's sweeper: `metrics[name]`; None when no objective is asked for (`name` null)."""
    if name is None:
        return None
    if name not in metrics:
        raise missing_metric("optimized_metric", name, metrics)
    return float(metrics[name])

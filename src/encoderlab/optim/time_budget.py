"""`scheduler=time_budget`: a learning-rate schedule keyed to the run's wall-clock budget, not to a step count.

On a CPU the number of steps a budget buys is unknown until the run has measured itself, so a step-keyed decay
either ends early (and the rest of the budget trains at lr 0) or never reaches its end (the model never gets the
low-lr phase). Here progress is the training time Lightning's own `Timer` has counted (the one `trainer.max_time`
sets up: it survives a resume through the checkpoint) over the budget, so the decay ends exactly when the Timer
stops the run. Shapes: warmup-stable-decay (Hägele et al. 2024; MiniCPM) and one-cycle (linear up, linear down;
Cramming's "budget-triangle")."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LRScheduler

from encoderlab.errors import ConfigError

SHAPES = ("wsd", "one_cycle")
FLOOR = 1e-3  # of the peak: the first steps still move (progress is ~0 there)


def budget_factor(progress: float, shape: str, warmup_fraction: float, decay_fraction: float) -> float:
    """The multiplier of the peak lr at `progress` (0..1) of the budget."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup_fraction:
        return max(progress / warmup_fraction, FLOOR)
    if shape == "one_cycle":
        return max((1.0 - progress) / max(1.0 - warmup_fraction, 1e-9), 0.0)
    if progress < 1.0 - decay_fraction:
        return 1.0
    return max((1.0 - progress) / decay_fraction, 0.0)


class TimeBudgetSchedule(LRScheduler):
    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        budget_seconds: float,
        elapsed_seconds: Callable[[], float],
        shape: str = "wsd",
        warmup_fraction: float = 0.05,
        decay_fraction: float = 0.25,
    ) -> None:
        if shape not in SHAPES:
            raise ConfigError(f"scheduler.shape={shape!r} is not a budget schedule; choose one of {', '.join(SHAPES)}")
        if not (0.0 <= warmup_fraction < 1.0 and 0.0 < decay_fraction <= 1.0 - warmup_fraction):
            raise ConfigError(
                "scheduler.warmup_fraction and scheduler.decay_fraction must lie in [0, 1) and (0, 1 - warmup]"
            )
        if budget_seconds <= 0:
            raise ConfigError("scheduler=time_budget needs a positive trainer.max_time")
        self.budget_seconds = budget_seconds
        self.elapsed_seconds = elapsed_seconds
        self.shape, self.warmup_fraction, self.decay_fraction = shape, warmup_fraction, decay_fraction
        super().__init__(optimizer)

    def progress(self) -> float:
        return self.elapsed_seconds() / self.budget_seconds

    def get_lr(self) -> list[float | torch.Tensor]:
        factor = budget_factor(self.progress(), self.shape, self.warmup_fraction, self.decay_fraction)
        return [base * factor for base in self.base_lrs]

    def state_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "elapsed_seconds")}


def time_budget(
    optimizer: torch.optim.Optimizer,
    total_steps: int | None = None,
    budget_seconds: float | None = None,
    elapsed_seconds: Callable[[], float] | None = None,
    shape: str = "wsd",
    warmup_fraction: float = 0.05,
    decay_fraction: float = 0.25,
) -> TimeBudgetSchedule:
    """Built by the task, which passes the Timer's budget and clock (`total_steps` is not used)."""
    if budget_seconds is None or elapsed_seconds is None:
        raise ConfigError("scheduler=time_budget needs trainer.max_time (e.g. trainer.max_time=00:01:30:00)")
    return TimeBudgetSchedule(optimizer, budget_seconds, elapsed_seconds, shape, warmup_fraction, decay_fraction)

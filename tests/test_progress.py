"""The progress bar picks rich in a terminal and TQDM elsewhere, and both show the whole run's time left."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from encoderlab.callbacks import ResumableProgressBar, RichRunProgressBar, progress_bar
from encoderlab.callbacks.progress import RunETA, duration


def test_a_terminal_gets_the_rich_bar_and_a_pipe_the_tqdm_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert isinstance(progress_bar(20), RichRunProgressBar)
    assert progress_bar(0).is_disabled
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    bar = progress_bar(20)
    assert isinstance(bar, ResumableProgressBar) and bar.refresh_rate == 20


def test_the_run_eta_follows_the_pace_of_the_steps_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 160.0])
    monkeypatch.setattr("encoderlab.callbacks.progress.time.monotonic", lambda: next(clock))
    trainer = SimpleNamespace(global_step=10, estimated_stepping_batches=110, callbacks=[])
    eta = RunETA()
    eta.start(trainer)  # at 100 s, step 10 of 110
    trainer.global_step = 30  # 20 steps in 60 s: 80 left take 240 s
    assert eta.seconds_left(trainer) == pytest.approx(240.0)
    assert duration(240) == "4m00s" and duration(42) == "42s" and duration(3 * 3600 + 7 * 60 + 9) == "3h07m"


def test_no_eta_before_a_step_or_for_an_endless_run() -> None:
    trainer = SimpleNamespace(global_step=0, estimated_stepping_batches=float("inf"), callbacks=[])
    eta = RunETA()
    eta.start(trainer)
    assert eta.seconds_left(trainer) is None
    trainer.global_step = 5
    assert eta.seconds_left(trainer) is None

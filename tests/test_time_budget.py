"""`scheduler=time_budget`: the lr schedule follows the wall-clock budget and ends when `trainer.max_time` does."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra

from encoderlab.errors import ConfigError
from encoderlab.optim.time_budget import budget_factor, time_budget
from encoderlab.training.run import train
from tests.conftest import SMALL_MODEL_OVERRIDES, compose_train_cfg


def test_warmup_stable_decay_and_one_cycle_shapes() -> None:
    assert budget_factor(0.025, "wsd", 0.05, 0.25) == pytest.approx(0.5)
    assert budget_factor(0.5, "wsd", 0.05, 0.25) == 1.0
    assert budget_factor(0.875, "wsd", 0.05, 0.25) == pytest.approx(0.5)
    assert budget_factor(1.2, "wsd", 0.05, 0.25) == 0.0
    assert budget_factor(0.525, "one_cycle", 0.05, 0.25) == pytest.approx(0.5)


def test_the_schedule_reads_the_clock_it_is_given() -> None:
    now = [0.0]
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = time_budget(optimizer, budget_seconds=100.0, elapsed_seconds=lambda: now[0])
    for seconds, expected in ((50.0, 1.0), (90.0, 0.4), (100.0, 0.0)):
        now[0] = seconds
        optimizer.step()
        schedule.step()
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected)
    assert "elapsed_seconds" not in schedule.state_dict()  # the Timer's own checkpoint state carries the clock


def test_a_budget_schedule_without_max_time_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"needs trainer\.max_time"):
        time_budget(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0))


class RecordLearningRates(L.Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


def test_the_decay_ends_when_max_time_stops_the_run(
    tmp_path: Path, tiny_data_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordLearningRates()
    monkeypatch.setattr("encoderlab.training.run.build_callbacks", wrap_callbacks(recorder))
    cfg = compose_train_cfg(
        tmp_path, tiny_data_dir, cache_dir, "model=bilstm", *SMALL_MODEL_OVERRIDES["bilstm"], "scheduler=time_budget",
        "trainer.max_time=00:00:00:06", "trainer.max_epochs=-1", "trainer.min_epochs=null", "trainer.max_steps=-1",
        "callbacks.early_stopping=null", "trainer.limit_val_batches=1", "test=false", "model.lr=1e-3",
    )  # fmt: skip
    train(cfg)
    GlobalHydra.instance().clear()
    rates = recorder.rates
    assert len(rates) > 20  # it trained for the budget, epoch after epoch
    assert max(rates) == pytest.approx(1e-3)  # the peak, on the stable stretch
    assert rates[-1] < 0.1 * max(rates)  # and the decay had all but ended when the Timer stopped the run


def wrap_callbacks(extra: L.Callback):
    from encoderlab.training import trainer_setup

    original = trainer_setup.build_callbacks

    def build(*args, **kwargs):
        return [*original(*args, **kwargs), extra]

    return build


def test_a_step_schedule_without_a_step_count_is_one_line(tmp_path: Path, tiny_data_dir: Path, cache_dir: Path) -> None:
    cfg = compose_train_cfg(
        tmp_path, tiny_data_dir, cache_dir, "model=bilstm", *SMALL_MODEL_OVERRIDES["bilstm"],
        "trainer.max_time=00:00:00:03", "trainer.max_epochs=-1", "trainer.min_epochs=null", "trainer.max_steps=-1",
        "callbacks.early_stopping=null", "test=false",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="needs a step count"):
        train(cfg)
    GlobalHydra.instance().clear()

"""Loggers write where the run's output dir is: a real offline W&B run, CSV and TensorBoard files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from encoderlab.training.run import train
from tests.wandb_records import run_contents

SHORT_RUN = ["model=bert_tiny", "trainer.max_epochs=2", "trainer.limit_train_batches=4", "trainer.log_every_n_steps=1"]


def test_wandb_offline_run_holds_config_group_tags_and_metrics(make_cfg) -> None:
    cfg = make_cfg("logger=wandb", *SHORT_RUN)
    metrics = train(cfg)
    output = Path(cfg.paths.output_dir)
    logs = list(output.glob("wandb/offline-run-*/run-*.wandb"))
    assert len(logs) == 1, "one offline W&B run inside the run's output dir"
    contents = run_contents(logs[0])
    assert contents["run"].run_group == "sst2"
    assert set(contents["run"].tags) >= {"bert_tiny", "sst2"}
    assert contents["run"].project == "encoderlab"
    logged = {key for row in contents["history"] for key in row}
    expected = {"train/loss_step", "val/acc", "val/acc_best", "test/acc"}
    expected |= {"train/tokens_per_sec", "train/peak_memory_mb"}
    assert expected <= logged
    assert any(key.startswith("lr-") for key in logged), "LearningRateMonitor logs the schedule"
    assert contents["summary"]["test/acc"] == pytest.approx(metrics["test/acc"])
    assert contents["summary"]["val/acc_best"] == pytest.approx(metrics["val/acc_best"])
    assert contents["config"]["model/params_total"] > 0
    assert contents["config"]["config"]["model"]["name"] == "bert_tiny"


@pytest.mark.parametrize("logger", ["csv", "tensorboard"])
def test_csv_and_tensorboard_loggers_write_into_the_run_dir(make_cfg, logger: str) -> None:
    cfg = make_cfg(f"logger={logger}", *SHORT_RUN)
    train(cfg)
    output = Path(cfg.paths.output_dir)
    if logger == "csv":
        header = (output / "csv" / "metrics.csv").read_text().splitlines()[0].split(",")
        assert {"val/acc", "train/loss_step", "test/acc"} <= set(header)
        hparams = yaml.safe_load((output / "csv" / "hparams.yaml").read_text())
        assert hparams["model"]["name"] == "bert_tiny"
    else:
        assert list((output / "tensorboard").rglob("events.out.tfevents.*"))


def test_logger_many_writes_all_three(make_cfg) -> None:
    cfg = make_cfg("logger=many", *SHORT_RUN)
    train(cfg)
    output = Path(cfg.paths.output_dir)
    assert list(output.glob("wandb/offline-run-*/run-*.wandb"))
    assert (output / "csv" / "metrics.csv").exists()
    assert list((output / "tensorboard").rglob("events.out.tfevents.*"))


def test_going_online_without_a_wandb_login_is_a_one_line_config_error(tmp_path: Path) -> None:
    """In a fresh process: W&B keeps its settings (mode, key) per process, and earlier tests ran it offline."""
    import os
    import subprocess
    import sys

    code = f"""
from encoderlab.errors import ConfigError
from encoderlab.training.wandb_logger import QuietWandbLogger
logger = QuietWandbLogger(project="encoderlab", save_dir={str(tmp_path)!r}, offline=False)
assert "anonymous" not in logger._wandb_init
try:
    logger.experiment
except ConfigError as error:
    print(error)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env |= {"HOME": str(tmp_path), "WANDB_CONFIG_DIR": str(tmp_path / "wandb_config")}  # no ~/.netrc: not logged in
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("W&B: No API key configured. Use `wandb login` to log in. ("), done.stdout

"""`train.py` as users run it: a real process, real Hydra, the real (tiny) data on disk."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def train(tmp_path: Path, *overrides: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "offline"}
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        f"paths.root_dir={tmp_path}",
        f"paths.data_dir={data_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        *overrides,
    ]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_train_py_runs_and_leaves_config_checkpoints_and_logs(tmp_path: Path, tiny_data_dir: Path) -> None:
    result = train(
        tmp_path,
        "model=bilstm",
        "model.encoder.hidden_size=32",
        "model.encoder.embedding_size=32",
        "data.tokenizer.vocab_size=200",
        "trainer.max_epochs=2",
        "logger=wandb_csv",
        data_dir=tiny_data_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [run_dir] = list((tmp_path / "logs" / "bilstm-sst2" / "runs").iterdir())
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_s42_[0-9a-f]{6}", run_dir.name), "as the README names it"
    assert (run_dir / ".hydra" / "config.yaml").exists()
    assert (run_dir / "checkpoints" / "last.ckpt").exists()
    assert (run_dir / "csv" / "metrics.csv").exists()
    epochs = [line for line in (run_dir / "train.log").read_text().splitlines() if "[encoderlab.epochs]" in line]
    assert len(epochs) == 2 and "val/acc=" in epochs[1] and "train/loss=" in epochs[1], epochs

    # the run ends with its summary: the best checkpoint and the command that predicts with it
    [best] = [path for path in (run_dir / "checkpoints").glob("*.ckpt") if path.name != "last.ckpt"]
    best_shown = best.relative_to(tmp_path)
    assert f"best checkpoint: {best_shown}" in result.stdout
    assert result.stdout.rstrip().endswith(f"next:            encoderlab predict {best_shown} 'a gripping film'")
    assert re.search(r"^done in [0-9hms]+: val/acc_best 0\.\d+, test/acc ", result.stdout, flags=re.M), result.stdout
    output = result.stdout + result.stderr
    for noise in ("litlogger", "Total FLOPs", "anonymous setting", "LeafSpec", "Images sizes do not match"):
        assert noise not in output, noise
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["command"].startswith("python train.py") and "model=bilstm" in summary["command"]
    assert 0.0 <= summary["metrics"]["test/acc"] <= 1.0


def test_unknown_model_lists_the_choices(tmp_path: Path, tiny_data_dir: Path) -> None:
    result = train(tmp_path, "model=bert_huge", data_dir=tiny_data_dir)
    assert result.returncode != 0
    assert "Could not find 'model/bert_huge'" in result.stderr
    assert "bert_small" in result.stderr and "bilstm_attn" in result.stderr


def test_unknown_data_lists_the_choices(tmp_path: Path, tiny_data_dir: Path) -> None:
    result = train(tmp_path, "data=imdb", data_dir=tiny_data_dir)
    assert result.returncode != 0
    assert "Could not find 'data/imdb'" in result.stderr and "sst2" in result.stderr


def test_missing_data_offline_is_one_line_naming_path_and_make_data(tmp_path: Path) -> None:
    result = train(tmp_path, "model=bert_tiny", "logger=none", data_dir=tmp_path / "empty")
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr[-2000:]
    assert str(tmp_path / "empty" / "sst2" / "train.tsv.gz") in error_lines[0]
    assert "make data" in error_lines[0]
    assert "Traceback" not in result.stderr


def test_model_that_cannot_serve_the_task_is_one_line(tmp_path: Path, tiny_data_dir: Path) -> None:
    result = train(tmp_path, "model=lstm", "model.family=seq2seq", "logger=none", data_dir=tiny_data_dir)
    assert result.returncode == 2
    assert (
        "error: model=lstm is a seq2seq model, but data=sst2 takes encoder or document_encoder models" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_mistyped_trainer_key_is_named(tmp_path: Path, tiny_data_dir: Path) -> None:
    result = train(tmp_path, "trainer.max_epoch=2", data_dir=tiny_data_dir)
    assert result.returncode != 0
    assert "trainer.max_epoch" in result.stderr


def test_plain_multirun_puts_each_job_under_the_launch_dir(tmp_path: Path, tiny_data_dir: Path) -> None:
    # no paths.root_dir and no hydra.sweep.dir: the defaults must resolve while Hydra builds the sweep
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "offline"}
    env.pop("ENCODERLAB_ROOT", None)
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        "-m",
        "model=lstm",
        "seed=1,2",
        "debug=fdr",
        "logger=none",
        "model.encoder.hidden_size=16",
        "model.encoder.embedding_size=16",
        "data.tokenizer.vocab_size=200",
        f"paths.data_dir={tiny_data_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    [sweep] = list((tmp_path / "logs" / "multiruns").iterdir())
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    assert all((sweep / job / "summary.json").exists() for job in ("0", "1"))


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("+data.truncation=middle", "error: unknown data.truncation='middle'; choose one of"),
        ("data.max_tokens=0", "error: data.max_tokens=0 needs a positive budget and data.length_bucketing=true"),
    ],
)
def test_an_error_raised_while_instantiating_is_one_line(
    tmp_path: Path, tiny_data_dir: Path, override: str, expected: str
) -> None:
    result = train(tmp_path, "model=bilstm", "logger=none", override, data_dir=tiny_data_dir)
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and error_lines[0].startswith(expected), result.stderr[-2000:]
    assert "Traceback" not in result.stderr

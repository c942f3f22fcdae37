"""A requeued SLURM job (`SLURM_RESTART_COUNT` set) resumes from the newest checkpoint in its own output dir."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from encoderlab.training.requeue import requeued_checkpoint
from encoderlab.training.run import train
from tests.conftest import SMALL_MODEL_OVERRIDES

TINY = ("model=bilstm", *SMALL_MODEL_OVERRIDES["bilstm"], "~callbacks.early_stopping", "test=false")


def summary_of(cfg) -> dict:
    return json.loads((Path(cfg.paths.output_dir) / "summary.json").read_text())


def test_a_requeued_job_carries_on_from_its_last_checkpoint(make_cfg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    first = make_cfg(*TINY, "trainer.max_epochs=1")
    train(first)
    steps = summary_of(first)["global_steps"]
    last = Path(first.paths.output_dir) / "checkpoints" / "last.ckpt"

    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")  # what SLURM sets in a job it started again
    again = make_cfg(*TINY, "trainer.max_epochs=2")  # the same command, the same output dir
    assert again.paths.output_dir == first.paths.output_dir
    train(again)
    summary = summary_of(again)
    assert summary["resumed_from"] == str(last)
    assert summary["global_steps"] == 2 * steps, "only the second epoch was trained"
    assert (Path(again.paths.output_dir) / "checkpoints" / "last.ckpt").is_file()


def test_the_newest_of_last_and_lightnings_hpc_checkpoint_wins(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "checkpoints").mkdir()
    last, hpc = tmp_path / "checkpoints" / "last.ckpt", tmp_path / "hpc_ckpt_1.ckpt"
    for path, mtime in ((last, 100), (hpc, 200)):
        path.write_bytes(b"")
        os.utime(path, (mtime, mtime))
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    assert requeued_checkpoint(tmp_path) is None, "a first start never resumes by itself"
    monkeypatch.setenv("SLURM_RESTART_COUNT", "2")
    assert requeued_checkpoint(tmp_path) == hpc
    os.utime(last, (300, 300))
    assert requeued_checkpoint(tmp_path) == last
    assert requeued_checkpoint(tmp_path / "elsewhere") is None

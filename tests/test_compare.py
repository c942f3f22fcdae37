"""Comparing encoders end to end: a real multirun and a real Optuna sweep (subprocesses), then the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hydra.types import RunMode

from encoderlab.report.build import build_report
from tests.conftest import train_subprocess
from tests.wandb_records import run_contents


def job_dirs(sweep: Path) -> list[Path]:
    return sorted(p for p in sweep.iterdir() if (p / "summary.json").is_file())


def test_multirun_gives_one_dir_and_one_grouped_wandb_run_per_job(tiny_sweep: Path) -> None:
    jobs = job_dirs(tiny_sweep)
    assert [job.name for job in jobs] == ["0", "1"]
    groups = set()
    for job, model in zip(jobs, ["bilstm_attn", "bert_tiny"], strict=True):
        summary = json.loads((job / "summary.json").read_text())
        assert summary["model"] == model
        logs = list(job.glob("wandb/offline-run-*/run-*.wandb"))
        assert len(logs) == 1, f"one W&B run per job in {job}"
        contents = run_contents(logs[0])
        groups.add(contents["run"].run_group)
        assert set(contents["run"].tags) >= {model, "sst2"}
        assert contents["summary"]["model/params_total"] == summary["params_total"]
        assert contents["summary"]["val/acc_best"] == pytest.approx(summary["metrics"]["val/acc_best"])
        images = {key.removesuffix("/_type") for row in contents["history"] for key in row if key.endswith("/_type")}
        assert {"val/confusion_matrix", "test/confusion_matrix", "test/attention"} <= images
        assert len(list(logs[0].parent.glob("files/media/images/test/attention_*.png"))) == 4
        assert (job / "figures" / "test_confusion_matrix.png").stat().st_size > 0
        assert len(list((job / "figures").glob("test_attention_*.png"))) == 4
    assert len(groups) == 1, "the sweep's jobs share one W&B group"
    (group,) = groups
    assert group.startswith("multirun_") and group.endswith("-sst2")


def test_report_of_the_multirun_has_one_row_per_model(tiny_sweep: Path, tmp_path: Path) -> None:
    report = build_report([tiny_sweep], out=tmp_path / "report")
    assert sorted(row.model for row in report.rows) == ["bert_tiny", "bilstm_attn"]
    markdown = report.path.read_text()
    for job in job_dirs(tiny_sweep):
        summary = json.loads((job / "summary.json").read_text())
        assert f"| `{summary['model']}` | sst2 | 42 |" in markdown
        assert f"{summary['metrics']['val/acc_best'] * 100:.2f}" in markdown
    assert len(report.figures) == 3, "learning curves come from the offline W&B logs"
    assert all(figure.stat().st_size > 0 for figure in report.figures)


def test_optuna_sweep_of_two_trials_reports_its_best_parameters(tmp_path: Path, tiny_data_dir: Path) -> None:
    tiny = ["model=lstm", "model.encoder.embedding_size=16", "model.encoder.hidden_size=16", "trainer.max_epochs=1"]
    trials = ["hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.n_startup_trials=1"]
    done = train_subprocess(["hparams_search=sst2_optuna", *trials, *tiny], tmp_path, tiny_data_dir)
    (sweep,) = (tmp_path / "logs" / "hparams_search" / "sst2_optuna" / "lstm").iterdir()
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    searched = {"optimizer.lr", "model.encoder.dropout", "scheduler.warmup_ratio", "data.batch_size"}
    assert set(results["best_params"]) == searched
    assert "Best parameters" in done.stdout + done.stderr

    trials_run = [json.loads((sweep / f"trial_{i}" / "summary.json").read_text()) for i in range(2)]
    assert results["best_value"] == pytest.approx(max(t["metrics"]["val/acc_best"] for t in trials_run))
    best = max(trials_run, key=lambda t: t["metrics"]["val/acc_best"])
    assert f"data.batch_size={results['best_params']['data.batch_size']}" in best["command"]

    markdown = build_report([sweep]).path.read_text()
    assert "## Optuna: best of" in markdown and "`data.batch_size=" in markdown


def test_sweep_configs_compose(make_cfg) -> None:
    cfg = make_cfg("hparams_search=sst2_optuna")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.direction == "maximize"
    assert set(sweeper.params) == {"optimizer.lr", "model.encoder.dropout", "scheduler.warmup_ratio", "data.batch_size"}
    assert cfg.optimized_metric == "val/acc_best" and cfg.hydra.mode == RunMode.MULTIRUN

    cfg = make_cfg("experiment=compare_encoders")
    assert cfg.hydra.sweeper.params == {"model": "lstm,bilstm_attn,bert_mini", "seed": "1,2,3"}
    assert cfg.sweep_name == "compare_encoders"

    cfg = make_cfg("experiment=compare_encoders", "data=bbc_news")
    assert cfg.data.name == "bbc_news" and cfg.task.monitor == "val/acc"
    assert "compare_encoders/bbc_news" in str(cfg.hydra.sweep.dir)

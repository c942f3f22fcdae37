"""The TF-IDF peer as users run it: a real process on a data config's own splits, writing summary.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.builders import write_bbc_news
from tests.conftest import ROOT


def test_tfidf_baseline_fits_on_train_picks_on_validation_and_reports_test(tmp_path: Path) -> None:
    data = write_bbc_news(tmp_path / "data")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "encoderlab.cli.baseline",
        "data=bbc_news",
        f"paths.root_dir={tmp_path}",
        f"paths.data_dir={data}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "baseline.C=[1.0,10.0]",
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    [summary_path] = (tmp_path / "logs" / "tfidf-bbc_news" / "runs").glob("*/summary.json")
    summary = json.loads(summary_path.read_text())
    assert summary["split_sizes"] == {"train": 145, "validation": 15, "test": 40}, "the encoders' own split"
    assert set(summary["classifiers"]) == {"logreg", "linear_svm"}
    for scores in summary["classifiers"].values():
        assert scores["C"] in (1.0, 10.0)
        assert scores["test/acc"] > 0.9, "topic words make the tiny news separable"
    assert (
        summary["metrics"]["test/acc"] == max(summary["classifiers"].values(), key=lambda s: s["val/acc"])["test/acc"]
    )

"""`encoderlab train [overrides]`: the `@hydra.main` shell around `encoderlab.training.run.train`. User errors become
one line and exit code 2; returns `optimized_metric` to Hydra's sweeper, and fails (one line) when the run did not
log it. At the end of a run it prints a short summary: metrics, the best checkpoint, and how to predict with it."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from encoderlab.cli.one_line_errors import report
from encoderlab.cli.run_summary import run_summary
from encoderlab.config import CONF_DIR
from encoderlab.tasks.objective import objective_value
from encoderlab.training.run import train


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        metrics = train(cfg)
        if cfg.model.get("family") == "word_vectors":  # trained by gensim, not a task: there is no objective
            return None
        summary = run_summary(
            Path(cfg.paths.output_dir), str(cfg.task.get("_target_", "")), cfg.get("optimized_metric")
        )
        if summary:
            print(summary, flush=True)
        return objective_value(metrics, cfg.get("optimized_metric"))
    except Exception as error:
        sys.exit(report(error))

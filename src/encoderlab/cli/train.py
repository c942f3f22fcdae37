"""The `@hydra.main` shell around `encoderlab.training.run.train`: user errors become one line and exit code 2; returns
`optimized_metric` to Hydra's sweeper, and fails (one line) when the run did not log it."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from encoderlab.config import CONF_DIR
from encoderlab.errors import user_error_in
from encoderlab.tasks.objective import objective_value
from encoderlab.training.run import train


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        metrics = train(cfg)
        if cfg.model.get("family") == "word_vectors":  # trained by gensim, not a task: there is no objective
            return None
        return objective_value(metrics, cfg.get("optimized_metric"))
    except Exception as error:
        user_error = user_error_in(error)
        if user_error is None:
            raise
        print(f"error: {user_error}", file=sys.stderr)
        sys.exit(user_error.exit_code)

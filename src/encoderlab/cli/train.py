"""The `@hydra.main` shell around `encoderlab.pipeline.run`: user errors become one line and exit code 2."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from encoderlab.errors import UserError
from encoderlab.pipeline import CONF_DIR, run


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def main(cfg: DictConfig) -> float | None:
    try:
        metrics = run(cfg)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    value = metrics.get(cfg.get("optimized_metric"))
    return None if value is None else float(value)

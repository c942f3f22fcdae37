"""A finished run's record: `summary.json` in the run dir (command, commit, device, model, data, flat metrics and
the run's shape), and the same figures in W&B's run summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig, OmegaConf, open_dict


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The run's config as plain data, without Hydra's own node (present when composed by tests)."""
    cfg = cfg.copy()
    with open_dict(cfg):
        cfg.pop("hydra", None)
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)  # a DictConfig's container is a dict
    return {str(key): value for key, value in container.items()}


def count_parameters(module: torch.nn.Module) -> tuple[int, int]:
    """(all, trainable) parameter counts."""
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return total, trainable


def train_examples(datamodule: Any) -> int | None:
    """How many training examples (or blocks) the run had: the x of a learning curve."""
    train = getattr(datamodule, "datasets", {}).get("train")
    return len(train) if train is not None else None


def write_summary(output_dir: Path, summary: dict[str, Any], loggers: list[Logger]) -> None:
    """`summary.json` for humans and tools; W&B's run tables and parallel coordinates read the run summary."""
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.summary.update(
                {
                    "model/params_total": summary["params_total"],
                    "model/params_trainable": summary["params_trainable"],
                    "wall_time_sec": summary["wall_time_sec"],
                    "epochs": summary["epochs"],
                }
            )

"""Averaging the weights of the last N checkpoints (Vaswani et al. 2017; fairseq's `average_checkpoints.py`).

A snapshot of the weights is taken after every validation, the points where a checkpoint is written; when training
ends, the mean of the last `last_n` snapshots is written as `averaged.ckpt` beside the others. The snapshots live in
the callback's own checkpoint state, so a resumed run averages the same ones as a run that never stopped (they cost
`last_n` copies of the weights in memory and in `last.ckpt`)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn

log = logging.getLogger(__name__)


def average_state_dicts(states: Iterable[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of floating-point tensors (summed in float64, returned in each tensor's own dtype);
    integer tensors (counters, buffers of ids) are taken from the last state."""
    states = list(states)
    if not states:
        raise ValueError("average_state_dicts needs at least one state dict")
    averaged: dict[str, torch.Tensor] = {}
    for name, last in states[-1].items():
        if not last.is_floating_point():
            averaged[name] = last.clone()
            continue
        total = torch.zeros_like(last, dtype=torch.float64)
        for state in states:
            total += state[name].to(torch.float64)
        averaged[name] = (total / len(states)).to(last.dtype)
    return averaged


def average_checkpoint_files(paths: list[str | Path]) -> dict[str, torch.Tensor]:
    """The averaged `state_dict` of Lightning checkpoint files (all of one model)."""
    return average_state_dicts(torch.load(path, map_location="cpu", weights_only=False)["state_dict"] for path in paths)


class CheckpointAveraging(L.Callback):
    def __init__(self, last_n: int = 5, filename: str = "averaged.ckpt") -> None:
        if last_n < 1:
            raise ValueError(f"callbacks.checkpoint_averaging.last_n must be at least 1, got {last_n}")
        self.last_n = last_n
        self.filename = filename
        self.snapshots: deque[dict[str, torch.Tensor]] = deque(maxlen=last_n)
        self.snapshot_steps: deque[int] = deque(maxlen=last_n)
        self.averaged_path: Path | None = None

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        self.snapshots.append({k: v.detach().to("cpu", copy=True) for k, v in pl_module.state_dict().items()})
        self.snapshot_steps.append(trainer.global_step)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.snapshots:
            return
        checkpoint = trainer.checkpoint_callback
        dirpath = Path(checkpoint.dirpath) if isinstance(checkpoint, ModelCheckpoint) and checkpoint.dirpath else None
        if dirpath is None:
            dirpath = Path(trainer.default_root_dir) / "checkpoints"
        current = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
        pl_module.load_state_dict(average_state_dicts(self.snapshots))
        path = dirpath / self.filename
        trainer.save_checkpoint(path, weights_only=True)
        pl_module.load_state_dict(current)
        self.averaged_path = path
        log.info("Averaged the weights after steps %s into %s", list(self.snapshot_steps), path)

    def state_dict(self) -> dict[str, Any]:
        return {"snapshots": list(self.snapshots), "steps": list(self.snapshot_steps)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.snapshots.extend(state_dict.get("snapshots", []))
        self.snapshot_steps.extend(state_dict.get("steps", []))

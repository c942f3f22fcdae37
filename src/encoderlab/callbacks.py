"""Small callbacks and plugins the configs refer to: throughput/time accounting and atomic checkpoint writes."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO


class TrainingSpeed(L.Callback):
    """Logs `train/epoch_time_sec`, `train/tokens_per_sec` (real, unpadded tokens) and `train/time_sec`.

    Tokens are counted from the first of `mask_keys` a batch has: the input mask for encoders, the target mask for
    seq2seq (target tokens per second, as fairseq's `wps`). They are summed on the device and read once per epoch,
    so the step never waits on a host sync.
    """

    def __init__(self, mask_keys: tuple[str, ...] = ("attention_mask", "tgt_mask")) -> None:
        self.mask_keys = tuple(mask_keys)
        self.train_time = 0.0
        self._tokens: torch.Tensor | None = None
        self._start = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._tokens = torch.zeros((), dtype=torch.long, device=pl_module.device)
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, *_
    ) -> None:
        if isinstance(batch, dict):
            key = next((k for k in self.mask_keys if k in batch), None)
            if key is not None:
                self._tokens += batch[key].sum()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or self._tokens is None:
            return
        elapsed = time.perf_counter() - self._start
        self.train_time += elapsed
        tokens = float(self._tokens.item()) * trainer.world_size
        pl_module.log_dict(
            {
                "train/epoch_time_sec": elapsed,
                "train/tokens_per_sec": tokens / max(elapsed, 1e-9),
                "train/time_sec": self.train_time,
            },
            rank_zero_only=True,
        )

    def state_dict(self) -> dict[str, float]:
        return {"train_time": self.train_time}

    def load_state_dict(self, state_dict: dict[str, float]) -> None:
        self.train_time = state_dict.get("train_time", 0.0)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file in the same folder, then renames it into place: a run killed
    mid-write leaves the previous `last.ckpt` intact instead of a truncated one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        if "://" in str(path) and not str(path).startswith("file://"):  # remote storage: no rename there
            return super().save_checkpoint(checkpoint, path, storage_options)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

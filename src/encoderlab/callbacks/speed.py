"""Training speed accounting: real tokens per second, wall time and peak memory, logged per epoch."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch


def reset_peak_memory(device: torch.device) -> None:
    """Start a fresh peak: CUDA's allocator counter, or the process's resident-set high-water mark on Linux."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    with contextlib.suppress(OSError):  # "5" resets VmHWM (proc(5)), so each multirun job measures its own peak
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory since the last reset: CUDA tensors allocated, or the process's peak resident set (0 if unknown)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TrainingSpeed(L.Callback):
    """Logs `train/epoch_time_sec`, `train/tokens_per_sec` (real, unpadded tokens), `train/time_sec` and
    `train/peak_memory_mb` (GPU memory allocated on CUDA, peak resident set on CPU).

    Tokens are counted from the first of `mask_keys` a batch has: the input mask for encoders, the target mask for
    seq2seq (target tokens per second, as fairseq's `wps`). They are summed on the device and read once per epoch,
    so the step never waits on a host sync.
    """

    def __init__(self, mask_keys: tuple[str, ...] = ("attention_mask", "tgt_mask")) -> None:
        self.mask_keys = tuple(mask_keys)
        self.train_time = 0.0
        self._tokens: torch.Tensor | None = None
        self._start = 0.0

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        reset_peak_memory(pl_module.device)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._tokens = torch.zeros((), dtype=torch.long, device=pl_module.device)
        self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, *_
    ) -> None:
        if self._tokens is None:  # resumed in the middle of an epoch: on_train_epoch_start did not run
            self.on_train_epoch_start(trainer, pl_module)
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
                "train/peak_memory_mb": peak_memory_mb(pl_module.device),
            },
            rank_zero_only=True,
        )

    def state_dict(self) -> dict[str, float]:
        return {"train_time": self.train_time}

    def load_state_dict(self, state_dict: dict[str, float]) -> None:
        self.train_time = state_dict.get("train_time", 0.0)

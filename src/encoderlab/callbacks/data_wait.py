"""Is data loading the bottleneck? The share of each training epoch spent waiting for the next batch."""

from __future__ import annotations

import time
from typing import Any

import lightning as L
import torch


class DataWait(L.Callback):
    """Logs per epoch:

    - `train/data_wait_fraction`: wall time between the end of one step and the start of the next (the loader
      producing the next batch, plus its copy to the device), over the epoch's training time. Host-side, any device.
    - `train/gpu_busy_fraction` (CUDA): the share of the GPU's timeline inside steps, from CUDA events recorded at
      each step's start and end. Events run in stream order, so a gap between one step's end and the next one's start
      is time the GPU sat idle waiting for the host to bring a batch; idling inside a step (a host sync) is not seen.

    Events are read once per epoch, so the step itself never waits on them.
    """

    def __init__(self) -> None:
        self._epoch_start = 0.0
        self._last_end = 0.0
        self._wait = 0.0
        self._events: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []
        self._pending_start: torch.cuda.Event | None = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = self._last_end = time.perf_counter()
        self._wait = 0.0
        self._events = []

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._wait += time.perf_counter() - self._last_end
        if pl_module.device.type == "cuda":
            self._pending_start = torch.cuda.Event(enable_timing=True)
            self._pending_start.record()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *_: Any) -> None:
        if self._pending_start is not None:
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            self._events.append((self._pending_start, end))
            self._pending_start = None
        self._last_end = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        elapsed = max(self._last_end - self._epoch_start, 1e-9)
        metrics = {"train/data_wait_fraction": self._wait / elapsed}
        if self._events:
            torch.cuda.synchronize(pl_module.device)
            in_steps = sum(start.elapsed_time(end) for start, end in self._events)
            timeline = self._events[0][0].elapsed_time(self._events[-1][1])
            metrics["train/gpu_busy_fraction"] = in_steps / max(timeline, 1e-9)
        pl_module.log_dict(metrics, rank_zero_only=True)

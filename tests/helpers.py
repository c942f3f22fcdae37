"""Test-only callbacks, instantiated through the real config (`+callbacks.<name>._target_=tests.helpers...`)."""

from __future__ import annotations

import hashlib
import json
import os
import signal as signal_module
import time

import lightning as L
import torch


class StopAfterEpochs(L.Callback):
    """Stops a run after `epochs` epochs as an interruption would, leaving the config (and schedule) unchanged."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True


class SignalAtBatch(L.Callback):
    """Sends this process `signal` just before training batch `batch` of epoch `epoch`: a pre-emption at a chosen
    point, caught by the real handler (`SaveOnInterrupt` stops after that batch)."""

    def __init__(self, epoch: int, batch: int, signal: str = "SIGTERM") -> None:
        self.epoch, self.batch, self.signal = epoch, batch, getattr(signal_module, signal)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            os.kill(os.getpid(), self.signal)


class RecordBatches(L.Callback):
    """Appends `epoch batch_idx digest` per training batch to `path` (`path.rank<N>` for DDP ranks > 0): what a run
    trained on, in order (the digest covers every tensor of the batch, so a dynamic mask drawn from another RNG state
    shows too)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        digest = hashlib.sha1()
        for key in sorted(batch):
            if isinstance(batch[key], torch.Tensor):
                digest.update(key.encode() + batch[key].cpu().numpy().tobytes())
        path = self.path if trainer.global_rank == 0 else f"{self.path}.rank{trainer.global_rank}"
        with open(path, "a") as handle:
            handle.write(f"{trainer.current_epoch} {batch_idx} {digest.hexdigest()[:16]}\n")


class RecordProgressBar(L.Callback):
    """Appends `description|total|n` of the training progress bar before each training batch to `path`."""

    def __init__(self, path: str) -> None:
        self.path = path

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        bar = trainer.progress_bar_callback.train_progress_bar
        with open(self.path, "a") as handle:
            handle.write(f"{bar.desc}|{bar.total}|{bar.n}\n")


class SlowDown(L.Callback):
    """Sleeps `seconds` after each training batch, so a signal sent from outside lands where the test expects."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_train_batch_end(self, *args) -> None:
        time.sleep(self.seconds)


class RecordOptimizer(L.Callback):
    """Writes to `path` (JSON) what the optimizer and scheduler did: their classes, how many parameters hold optimizer
    state, how many trainable tensors changed over training, and the scheduler's step count."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.before: dict[str, torch.Tensor] = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.before = {n: p.detach().clone() for n, p in pl_module.named_parameters() if p.requires_grad}

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        params = dict(pl_module.named_parameters())
        schedulers = [config.scheduler for config in trainer.lr_scheduler_configs]
        record = {
            "optimizers": [f"{type(o).__module__}.{type(o).__qualname__}" for o in trainer.optimizers],
            "with_state": sum(1 for o in trainer.optimizers for state in o.state.values() if state),
            "trainable": len(self.before),
            "changed": sum(1 for n, before in self.before.items() if not torch.equal(params[n].detach(), before)),
            "scheduler_steps": [s.last_epoch for s in schedulers],
        }
        with open(self.path, "w") as handle:
            json.dump(record, handle)

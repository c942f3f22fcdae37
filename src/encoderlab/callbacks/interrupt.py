"""SIGTERM / SIGINT during training: finish the current step, write a resumable checkpoint, stop with a message."""

from __future__ import annotations

import shlex
import signal
import threading
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from encoderlab.errors import TrainingInterrupted

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SaveOnInterrupt(L.Callback):
    """Catches SIGTERM and SIGINT (a scheduler's pre-emption, Ctrl-C) during `fit`.

    The handler only sets a flag; after the running step the callback writes `last.ckpt` (atomically, through the
    trainer's checkpoint IO) into the checkpoint folder and raises `TrainingInterrupted`, whose message says how to
    resume. Under DDP the flag is agreed across ranks, since saving is collective.
    """

    def __init__(self, resume_hint: str = "python train.py <the same overrides>") -> None:
        self.resume_hint = resume_hint
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            self._previous = {sig: signal.signal(sig, self._handle) for sig in SIGNALS}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning installs its own SIGTERM handler after on_fit_start; left in place, it raises SIGTERMException
        # (a SystemExit: exit status 0, no checkpoint) when the signal lands during validation. Only ours acts; its
        # teardown puts back what it found (ours), and ours puts back the original.
        if self._previous:
            signal.signal(signal.SIGTERM, self._handle)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self.restore_signal_handlers()

    def restore_signal_handlers(self) -> None:
        """Put back the handlers found at fit start. Lightning calls `teardown` only when fit ends normally; after
        an error its own teardown re-installs ours, so whoever called fit calls this too (the pipeline does)."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self._stop_if_signalled(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._stop_if_signalled(trainer)  # a signal during the last validation still stops the run (no test)

    def _stop_if_signalled(self, trainer: L.Trainer) -> None:
        if not trainer.strategy.reduce_boolean_decision(self.received is not None, all=False):
            return
        path = self._checkpoint_path(trainer)
        trainer.save_checkpoint(path)
        signum = self.received or signal.SIGTERM
        name = signal.Signals(signum).name
        raise TrainingInterrupted(
            f"{name} at step {trainer.global_step} (epoch {trainer.current_epoch}): saved a resumable checkpoint "
            f"{path}; resume with: {self.resume_hint} {shlex.quote(f'ckpt_path={path}')}",
            signum,
        )

    @staticmethod
    def _checkpoint_path(trainer: L.Trainer) -> Path:
        callback = next((c for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint)), None)
        folder = Path(callback.dirpath) if callback is not None and callback.dirpath else Path(trainer.default_root_dir)
        return folder / "last.ckpt"

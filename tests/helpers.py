"""Test-only callbacks, instantiated through the real config (`+callbacks.<name>._target_=tests.helpers...`)."""

from __future__ import annotations

import lightning as L


class StopAfterEpochs(L.Callback):
    """Stops a run after `epochs` epochs as an interruption would, leaving the config (and schedule) unchanged."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True

"""Lightning's `WandbLogger`, quieter and with one-line errors: it passes W&B an `anonymous` setting that W&B 0.19+
warns has no effect, on every run, logged in or not; W&B's banner is cut to what matters (where the run is, how to
sync it); and going online (`logger.wandb.offline=false`) without `wandb login` says so in one line."""

from __future__ import annotations

from typing import Any

from lightning.pytorch.loggers import WandbLogger

from encoderlab.errors import ConfigError


class QuietWandbLogger(WandbLogger):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wandb_init.pop("anonymous", None)
        self._wandb_init.setdefault("settings", {"quiet": True})

    @property
    def experiment(self) -> Any:
        import wandb

        try:
            return super().experiment
        except wandb.errors.UsageError as error:
            raise ConfigError(
                f"W&B: {error} (logger.wandb.offline=false logs online; the default, offline, needs no account)"
            ) from error

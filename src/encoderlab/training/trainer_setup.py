"""The Trainer of a run: the config's callbacks and loggers, with what a run needs of them (a resume hint for the
interrupt handler, the resumed run's checkpoint folder), the precision this hardware should train in, and atomic
checkpoint writes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import instantiate
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, ModelSummary
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig

from encoderlab.callbacks import AtomicCheckpointIO, SaveOnInterrupt
from encoderlab.hardware.precision import precision_reason, resolve_precision, trainer_precision
from encoderlab.report.provenance import command_line
from encoderlab.training.sharding import is_sharded, refuse_without_cuda, sharded_precision

log = logging.getLogger(__name__)


def instantiate_all(section: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a config section (`callbacks`, `logger`); skip nulls."""
    if not section:
        return []
    return [instantiate(conf) for conf in section.values() if isinstance(conf, DictConfig) and "_target_" in conf]


def build_callbacks(cfg: DictConfig, has_logger: bool, resume_from: Path | None) -> list[L.Callback]:
    callbacks = instantiate_all(cfg.get("callbacks"))
    if not has_logger:  # LearningRateMonitor refuses to run without a logger
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    if not cfg.trainer.get("enable_model_summary", True):  # Lightning would still run a summary callback it is given
        callbacks = [c for c in callbacks if not isinstance(c, ModelSummary)]
    for callback in callbacks:
        if isinstance(callback, SaveOnInterrupt):  # it adds the checkpoint it writes
            callback.resume_hint = command_line(without=("ckpt_path",))
        if isinstance(callback, ModelCheckpoint) and resume_from is not None:
            # a resumed run keeps writing into its checkpoint folder, so best-k tracking and last.ckpt carry on
            callback.dirpath = str(resume_from.parent)
    return callbacks


def build_trainer(cfg: DictConfig, callbacks: list[L.Callback], loggers: list[Logger]) -> tuple[L.Trainer, str]:
    """The configured Trainer in the precision `trainer.precision` resolves to here (logged); returns both."""
    accelerator = str(cfg.trainer.accelerator)
    precision = resolve_precision(cfg.trainer.precision, accelerator)
    log.info("trainer.precision=%s (%s)", precision, precision_reason(precision, accelerator))
    strategy = cfg.trainer.strategy
    if isinstance(strategy, DictConfig):  # a strategy object (trainer=fsdp, deepspeed): built before the Trainer
        strategy = instantiate(strategy)
    if is_sharded(strategy):  # FSDP and DeepSpeed bring their own mixed precision
        plugin = sharded_precision(strategy, precision)
        precision_flag, precision_plugins = (None, [plugin]) if plugin is not None else (precision, [])
    else:
        precision_flag, precision_plugins = trainer_precision(precision, accelerator)
    trainer: L.Trainer = instantiate(
        cfg.trainer,
        strategy=strategy,
        precision=precision_flag,
        callbacks=callbacks,
        logger=loggers or False,
        plugins=[AtomicCheckpointIO(), *precision_plugins],
    )
    refuse_without_cuda(trainer)
    return trainer, precision


def monitoring_checkpoint(callbacks: list[L.Callback]) -> ModelCheckpoint | None:
    """The checkpoint callback that keeps the best model (by the task's monitored metric), if any."""
    return next((c for c in callbacks if isinstance(c, ModelCheckpoint) and c.monitor), None)

"""What every task shares: optimizer + schedule from config, the monitored metric and its best value, the task's
class and tokenizer inside each checkpoint, compilation."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.utilities.types import OptimizerLRScheduler
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torchmetrics import Metric

from encoderlab.data.encoding import EncodingSpec
from encoderlab.errors import ConfigError
from encoderlab.interop.pretrained import load_encoder_weights
from encoderlab.models.build import ModelConfig
from encoderlab.models.contract import Encoder, fit_on_training_split
from encoderlab.models.lora import merged_copy
from encoderlab.optim.finetune import apply_finetune, layer_depths
from encoderlab.optim.schedules import STEPLESS_SCHEDULES, param_groups
from encoderlab.tasks.objective import Objective, metric_mode

CHECKPOINT_KEY = "encoderlab"
# where each task kept its best value before the base class owned it (`val_acc_best.max_value`): dropped on load
LEGACY_BEST = re.compile(r"^(\w+?)_(\w+)_best\.(max|min)_value$")


def class_path(cls: type) -> str:
    """`encoderlab.tasks.classification.ClassificationTask`: what a checkpoint stores to say which task wrote it."""
    return f"{cls.__module__}.{cls.__qualname__}"


def to_container(value: Any) -> Any:
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


def stage_metric(metrics: nn.ModuleDict, name: str) -> Metric:
    """`metrics[name]`, typed as the metric it is (a `ModuleDict` hands out plain modules)."""
    metric = metrics[name]
    if not isinstance(metric, Metric):
        raise TypeError(f"{name} is a {type(metric).__name__}, not a torchmetrics Metric")
    return metric


def time_budget_clock(trainer: L.Trainer) -> dict[str, Any]:
    """The budget and the elapsed training time of the `Timer` that `trainer.max_time` installs."""
    from lightning.pytorch.callbacks import Timer

    callbacks = trainer.callbacks  # type: ignore[attr-defined]  # set by Lightning's callback connector, undeclared
    timer = next((c for c in callbacks if isinstance(c, Timer)), None)
    if timer is None:
        raise ConfigError("scheduler=time_budget needs trainer.max_time (e.g. trainer.max_time=00:01:30:00)")
    budget = timer.time_elapsed("train") + (timer.time_remaining("train") or 0.0)
    return {"budget_seconds": budget, "elapsed_seconds": lambda: timer.time_elapsed("train")}


class Task(L.LightningModule):
    """Subclasses build `self.net` (a plain `nn.Module`) and call `self.forward_net(...)` to run it.

    `tokenizer_json` (the serialized HF tokenizer) travels inside every checkpoint, so a checkpoint alone is enough
    to predict; it is kept out of the hyperparameters so loggers don't receive a megabyte of JSON. Beside it goes
    `encoding_spec` (truncation, text pairs, lengths: how the data module encoded), for tasks whose data has one.
    """

    net: nn.Module
    accepts: tuple[str, ...] = ()  # model families (conf/model/*.yaml `family`) this task can train
    requires: tuple[str, ...] = ()  # `models.contract.Capabilities` the task needs of its encoder
    exports_encoder = False  # True: the pipeline writes `encoder/` (weights, config, tokenizer) after every run
    kind = ""  # what inference calls this task's checkpoints: classification, token_classification, translation, ...

    def __init__(
        self,
        optimizer: dict,
        scheduler: dict | None = None,
        compile: bool = False,
        finetune: dict | None = None,
        monitor: str = "val/loss",
        monitor_mode: str | None = None,
        pretrained_encoder: str | Path | None = None,
    ) -> None:
        super().__init__()
        # a starting point, not a setting: a checkpoint already holds these weights, so it is not saved with them
        self.pretrained_encoder = pretrained_encoder
        self.pretrained_weights_loaded = 0
        # monitor_mode None: lower is better for losses and perplexities, higher for everything else
        self.objective = Objective(monitor, monitor_mode or metric_mode(monitor))
        self.optimizer_cfg = to_container(optimizer)
        self.scheduler_cfg = to_container(scheduler)
        self.finetune_cfg = to_container(finetune)
        self.compile_net = compile  # `compile` itself would shadow `nn.Module.compile`
        self.tokenizer_json: str | None = None
        self.encoding_spec: EncodingSpec | None = None
        self.finetune_summary = ""

    def save_task_hyperparameters(self, model: Any, **values: Any) -> ModelConfig:
        """Saves the model config (as plain data), the task's own values and the optimizer set-up, so a checkpoint
        alone rebuilds the task; returns the network part of the model config, for `build_network`."""
        model = to_container(model)
        self.save_hyperparameters(
            {
                "model": model,
                **values,
                "optimizer": self.optimizer_cfg,
                "scheduler": self.scheduler_cfg,
                "compile": self.compile_net,
                **({"finetune": self.finetune_cfg} if self.finetune_cfg is not None else {}),
            }
        )
        return ModelConfig.from_dict(model)

    def prepare_encoder(self) -> None:
        """Subclasses call this once `self.net` is built: the pretrained encoder's weights (`model.pretrained`)
        go in first, every one, then the fine-tuning set-up (freezing, LoRA adapters) wraps them."""
        if self.pretrained_encoder is not None:
            encoder = self.net.encoder
            assert isinstance(encoder, nn.Module)  # every task's network holds its encoder module there
            self.pretrained_weights_loaded, _ = load_encoder_weights(encoder, self.pretrained_encoder)
        self.finetune_summary = apply_finetune(self.net, self.finetune_cfg)

    @property
    def encoder(self) -> Encoder:
        """The network's encoder: every task's network holds it at `net.encoder` (seq2seq models too)."""
        encoder = self.net.encoder
        if not isinstance(encoder, Encoder):
            raise TypeError(f"{type(self.net).__name__}.encoder is a {type(encoder).__name__}, not an Encoder")
        return encoder

    def on_fit_start(self) -> None:
        # statistics the encoder counts on the training split (`Encoder.fit`), once; a no-op for most encoders
        datamodule = self.trainer.datamodule  # type: ignore[attr-defined]  # set by Lightning's data connector
        fit_on_training_split(self.encoder, datamodule)

    def configure_model(self) -> None:
        # Compile the inner module, never the LightningModule; kept out of the module tree (object.__setattr__)
        # so state_dict keys stay free of `_orig_mod.` and checkpoints load with or without compilation.
        if self.compile_net and "_compiled_net" not in self.__dict__:
            object.__setattr__(self, "_compiled_net", torch.compile(self.net, dynamic=None))

    def forward_net(self, *args: Any, **kwargs: Any) -> Any:
        return self.__dict__.get("_compiled_net", self.net)(*args, **kwargs)

    def configure_optimizers(self) -> OptimizerLRScheduler:
        cfg = dict(self.optimizer_cfg)
        weight_decay = cfg.pop("weight_decay", 0.0)
        layer_lr_decay = (self.finetune_cfg or {}).get("layer_lr_decay")
        depths = layer_depths(self.net) if layer_lr_decay else None
        groups = param_groups(self.net, weight_decay, cfg.get("lr"), layer_lr_decay, depths)
        optimizer = instantiate({**cfg, "_partial_": True})(params=groups)
        if not self.scheduler_cfg:
            return {"optimizer": optimizer}
        estimated = self.trainer.estimated_stepping_batches  # inf when only max_time ends the run
        kwargs: dict[str, Any] = {"total_steps": int(estimated) if math.isfinite(estimated) else None}
        target = str(self.scheduler_cfg.get("_target_", ""))
        if target.endswith(".time_budget"):
            kwargs.update(time_budget_clock(self.trainer))
        elif kwargs["total_steps"] is None and not target.endswith(STEPLESS_SCHEDULES):
            raise ConfigError(
                f"scheduler={self.scheduler_cfg['_target_'].rsplit('.', 1)[-1]} needs a step count: set "
                "trainer.max_steps or trainer.max_epochs, or use scheduler=time_budget with trainer.max_time"
            )
        scheduler = instantiate({**self.scheduler_cfg, "_partial_": True})(optimizer=optimizer, **kwargs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def encoder_for_export(self) -> nn.Module:
        """The trained encoder as plain weights: LoRA adapters, if any, merged into a copy."""
        encoder = self.net.encoder
        if (
            not isinstance(encoder, nn.Module)
            or not isinstance(encoder, Encoder)
            or not encoder.capabilities.exportable
        ):
            raise TypeError(f"{type(self.net).__name__} has no exportable encoder ({type(encoder).__name__})")
        return merged_copy(encoder)

    def run_summary(self) -> dict[str, Any]:
        """Task-specific facts for the run's `summary.json` (beyond the metrics), e.g. how a score was computed."""
        return {}

    def log_validation_epoch(self) -> None:
        """Subclasses log their epoch-level validation metrics here (`on_validation_epoch_end` is this class's)."""

    def on_validation_epoch_end(self) -> None:
        self.log_validation_epoch()
        metrics = self.trainer.callback_metrics  # this epoch's values, as logged so far
        if self.trainer.sanity_checking:  # a partial validation never counts as a best, but a typo stops the run now
            self.objective.require(metrics)
            return
        best = self.objective.update(metrics)
        if best is not None:
            self.log(self.objective.best_name, best, prog_bar=True, sync_dist=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {
            "task_class": class_path(type(self)),
            "tokenizer": self.tokenizer_json,
            "objective": self.objective.state(),
        }
        if self.encoding_spec is not None:
            checkpoint[CHECKPOINT_KEY]["encoding"] = self.encoding_spec.to_dict()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get(CHECKPOINT_KEY) or {}
        self.tokenizer_json = saved.get("tokenizer")
        # None for checkpoints written before specs existed: inference then encodes as it did then (head, no pairs)
        self.encoding_spec = EncodingSpec.from_dict(saved["encoding"]) if saved.get("encoding") else None
        self.objective.restore(saved.get("objective") or self._legacy_best(checkpoint.get("state_dict", {})))

    def _legacy_best(self, state_dict: dict[str, Any]) -> dict[str, Any] | None:
        """Checkpoints written while each task kept its own best metric hold it as weights (`val_acc_best.max_value`):
        take them out (the weights load strictly) and read the best from them."""
        found = None
        for key in list(state_dict):
            if (legacy := LEGACY_BEST.match(key)) is None:
                continue
            stage, name, mode = legacy.groups()
            best = float(state_dict.pop(key))
            found = {"monitor": f"{stage}/{name}", "mode": mode, "best": best if math.isfinite(best) else None}
        return found

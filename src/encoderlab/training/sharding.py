"""Sharded training past one GPU's memory: `trainer=fsdp` (Lightning's FSDP) and `trainer=deepspeed` (ZeRO 2 or 3).

Both write a checkpoint as a folder of shards (`last.ckpt/`). Their own savers write into the final folder in place;
here they write a sibling folder and rank 0 swaps it in afterwards, so a run killed mid-write keeps the previous
checkpoint, as the single-file `AtomicCheckpointIO` does. FSDP wraps (shards) one encoder or decoder layer at a
time, and clips gradients by their norm over all shards (Lightning's FSDP precision refuses to).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class
from lightning.pytorch.plugins.precision import FSDPPrecision, Precision
from lightning.pytorch.strategies import DeepSpeedStrategy, FSDPStrategy, Strategy
from torch import nn
from torch.optim import Optimizer

from encoderlab.errors import ConfigError

# the file Lightning's FSDP writes beside the shards: everything but the weights and optimizer states
FSDP_METADATA = "meta.pt"
ENCODER_LAYERS = ("encoderlab.models.transformer.EncoderLayer", "encoderlab.models.transformer.DecoderLayer")


def replace_directory(staging: Path, target: Path) -> None:
    """Put the complete `staging` folder at `target`. Two renames: between them the previous checkpoint sits at
    `.<name>.old` (a crash there loses nothing written)."""
    old = target.with_name(f".{target.name}.old")
    _remove(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    _remove(old)


def _remove(path: Path) -> None:
    """Delete a file or folder, if there is one."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


class _StagedSave:
    """Mixin for strategies whose checkpoint is a folder written by every rank: write it beside, then swap it in."""

    def save_checkpoint(self, checkpoint: dict[str, Any], filepath: Any, storage_options: Any = None) -> None:
        strategy: Any = self
        target = Path(strategy.broadcast(str(filepath)))
        if "://" in str(filepath) or not _writes_folder(strategy):
            super().save_checkpoint(checkpoint, filepath, storage_options)  # type: ignore[misc]
            return
        staging = target.with_name(f".{target.name}.partial")
        if strategy.is_global_zero and staging.exists():
            shutil.rmtree(staging)  # a folder left by a run killed mid-write
        strategy.barrier("staged_save_start")
        super().save_checkpoint(checkpoint, staging, storage_options)  # type: ignore[misc]
        strategy.barrier("staged_save_written")
        if strategy.is_global_zero:
            replace_directory(staging, target)
        strategy.barrier("staged_save_done")


def _writes_folder(strategy: Strategy) -> bool:
    if isinstance(strategy, FSDPStrategy):
        return strategy._state_dict_type == "sharded"
    return isinstance(strategy, DeepSpeedStrategy)


class ShardedNormClipping(FSDPPrecision):
    """Lightning's FSDP precision, clipping gradients by their global norm through the root FSDP module."""

    root: Any = None  # the FSDP-wrapped model, set by `LayerwiseFSDPStrategy.setup`

    def clip_grad_by_norm(self, optimizer: Optimizer, clip_val: int | float) -> None:
        if self.root is None:
            raise RuntimeError("gradient clipping before the FSDP strategy set up its model")
        self.root.clip_grad_norm_(clip_val)


class LayerwiseFSDPStrategy(_StagedSave, FSDPStrategy):
    """Lightning's `FSDPStrategy` with staged (atomic) sharded checkpoints and norm clipping."""

    def setup(self, trainer: L.Trainer) -> None:
        super().setup(trainer)
        if isinstance(self.precision_plugin, ShardedNormClipping):
            self.precision_plugin.root = self.model


class StagedDeepSpeedStrategy(_StagedSave, DeepSpeedStrategy):
    """Lightning's `DeepSpeedStrategy` with staged (atomic) checkpoint folders."""


def fsdp_strategy(
    wrap: Sequence[str] = ENCODER_LAYERS, activation_checkpointing: bool = False, **kwargs: Any
) -> LayerwiseFSDPStrategy:
    """FSDP that shards each of the `wrap` layer classes (dotted paths) as its own unit; `kwargs` go to Lightning's
    `FSDPStrategy` (`sharding_strategy`, `state_dict_type`, `cpu_offload`, ...)."""
    layers: set[type[nn.Module]] = {get_class(name) for name in wrap}
    return LayerwiseFSDPStrategy(
        auto_wrap_policy=layers, activation_checkpointing_policy=layers if activation_checkpointing else None, **kwargs
    )


def deepspeed_installed() -> bool:
    return importlib.util.find_spec("deepspeed") is not None


def deepspeed_strategy(stage: int = 2, **kwargs: Any) -> StagedDeepSpeedStrategy:
    """ZeRO stage 2 (optimizer states and gradients sharded) or 3 (parameters too); `kwargs` go to Lightning's
    `DeepSpeedStrategy` (`offload_optimizer`, `offload_parameters`, ...)."""
    if not deepspeed_installed():
        raise ConfigError("trainer=deepspeed needs DeepSpeed: pip install 'encoderlab[deepspeed]' (on a CUDA machine)")
    if stage not in (2, 3):
        raise ConfigError(f"trainer.strategy.stage={stage}: ZeRO stage 2 or 3 (stage 1 gains little over DDP)")
    return StagedDeepSpeedStrategy(stage=stage, **kwargs)


def is_sharded(strategy: Any) -> bool:
    return isinstance(strategy, (FSDPStrategy, DeepSpeedStrategy))


def sharded_precision(strategy: Strategy, precision: str) -> Precision | None:
    """The precision plugin a sharded strategy trains in: FSDP's own (mixed precision on the shards) with norm
    clipping; `None` for DeepSpeed, which builds its own from the Trainer's `precision` flag."""
    if isinstance(strategy, FSDPStrategy):
        return ShardedNormClipping(precision)  # type: ignore[arg-type]
    return None


def refuse_without_cuda(trainer: L.Trainer) -> None:
    """FSDP (torch's) and DeepSpeed (Lightning's) refuse CPU devices, but only once every rank has started; say so
    in one line before anything is launched."""
    if is_sharded(trainer.strategy) and trainer.strategy.root_device.type != "cuda":
        name = "fsdp" if isinstance(trainer.strategy, FSDPStrategy) else "deepspeed"
        raise ConfigError(
            f"trainer={name} needs CUDA GPUs (torch.cuda.is_available() is {torch.cuda.is_available()}); "
            "on a CPU use trainer=ddp_cpu"
        )


def sharded_checkpoint_metadata(path: Path) -> dict[str, Any] | None:
    """What an FSDP sharded checkpoint folder holds beside its shards (hyper-parameters, encoderlab's payload), read
    weights-only; `None` for any other path."""
    if not (path / FSDP_METADATA).is_file():
        return None
    metadata = torch.load(path / FSDP_METADATA, map_location="cpu", weights_only=True)
    return metadata if isinstance(metadata, dict) else None

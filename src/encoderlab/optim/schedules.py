"""Optimizer parameter groups and learning-rate schedules (as `LambdaLR`s stepped every optimizer step)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from encoderlab.errors import ConfigError

STEPLESS_SCHEDULES = (".inverse_sqrt",)  # `_target_` suffixes of schedules that need no total step count


def param_groups(
    module: nn.Module,
    weight_decay: float,
    lr: float | None = None,
    layer_lr_decay: float | None = None,
    depths: dict[str, int] | None = None,
) -> list[dict]:
    """Weight decay on matrices only (embeddings and linear weights), never on biases or norms (as nanoGPT).
    Frozen parameters (`requires_grad=False`) are left out.

    Layer-wise learning-rate decay (`layer_lr_decay`, with each parameter's `depths`, 0 = embeddings): a parameter at
    depth d gets `lr * layer_lr_decay ** (top - d)`, so the layers nearest the input move least (ELECTRA, BEiT).
    """
    named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
    if not layer_lr_decay:
        return [
            {"params": [p for _, p in named if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for _, p in named if p.ndim < 2], "weight_decay": 0.0},
        ]
    if lr is None or depths is None:
        raise ValueError("layer-wise learning-rate decay needs the base lr and each parameter's depth")
    top = max(depths.values())
    groups: dict[tuple[int, bool], dict] = {}
    for name, p in named:
        depth, decayed = depths[name], p.ndim >= 2
        group = groups.setdefault(
            (depth, decayed),
            {
                "params": [],
                "weight_decay": weight_decay if decayed else 0.0,
                "lr": lr * layer_lr_decay ** (top - depth),
            },
        )
        group["params"].append(p)
    return [groups[key] for key in sorted(groups)]


def _warmup_steps(total_steps: int, warmup_steps: int | None, warmup_ratio: float) -> int:
    return warmup_steps if warmup_steps is not None else int(warmup_ratio * total_steps)


def _schedule(shape: Callable[[float], float], warmup: int, total_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return shape(min(progress, 1.0))

    return factor


def linear_warmup(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_steps: int | None = None,
    warmup_ratio: float = 0.06,
) -> LambdaLR:
    """Linear warm-up to the peak learning rate, then linear decay to zero at `total_steps` (BERT's schedule)."""
    warmup = _warmup_steps(total_steps, warmup_steps, warmup_ratio)
    return LambdaLR(optimizer, _schedule(lambda p: 1.0 - p, warmup, total_steps))


def cosine(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_steps: int | None = None,
    warmup_ratio: float = 0.06,
    min_ratio: float = 0.0,
) -> LambdaLR:
    """Linear warm-up, then cosine decay to `min_ratio` of the peak."""
    warmup = _warmup_steps(total_steps, warmup_steps, warmup_ratio)
    return LambdaLR(
        optimizer,
        _schedule(lambda p: min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)), warmup, total_steps),
    )


def constant(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_steps: int | None = 0,
    warmup_ratio: float = 0.0,
) -> LambdaLR:
    """Constant learning rate, after an optional linear warm-up."""
    warmup = _warmup_steps(total_steps, warmup_steps, warmup_ratio)
    return LambdaLR(optimizer, _schedule(lambda p: 1.0, warmup, total_steps))


def inverse_sqrt(
    optimizer: torch.optim.Optimizer,
    total_steps: int | None = None,
    warmup_steps: int | None = 4000,
    warmup_ratio: float = 0.0,
) -> LambdaLR:
    """Linear warm-up to the peak, then decay with the inverse square root of the step (Vaswani et al. 2017; fairseq's
    `inverse_sqrt`): `peak * sqrt(warmup / step)`. It never reaches zero, so it needs no step count."""
    if warmup_steps is None and total_steps is None:
        raise ConfigError("scheduler=inverse_sqrt with warmup_ratio needs a step count: set scheduler.warmup_steps")
    warmup = max(1, _warmup_steps(total_steps or 0, warmup_steps, warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return math.sqrt(warmup / (step + 1))

    return LambdaLR(optimizer, factor)

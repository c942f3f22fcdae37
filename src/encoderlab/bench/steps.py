"""What one benchmark step is, for every contender alike: a training step (zero grads, forward + loss under the
shared precision, backward, AdamW) or a decoding call; plus the settings all contenders share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
from torch import nn

from encoderlab.optim.schedules import param_groups

ModelT = TypeVar("ModelT", bound=nn.Module)


@dataclass
class Settings:
    device: torch.device
    precision: str = "fp32"  # "bf16": autocast to bfloat16 over fp32 weights (Lightning's bf16-mixed)
    compile: bool = True
    compile_mode: str | None = None  # ours; e.g. "max-autotune" (autotuned kernels + CUDA graphs)
    peer_compile_mode: str | None = None  # the peers get what a user would write: torch.compile(model)
    warmup: int = 3
    steps: int = 10
    peak_flops: float | None = None

    @property
    def fused_optimizer(self) -> bool:
        """The fused AdamW kernel, for peers and ours alike (on a CPU too: 4-5x the per-tensor loop)."""
        return True

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def compiled(self, model: nn.Module, side: str) -> Callable:
        mode = self.compile_mode if side == "ours" else self.peer_compile_mode
        return torch.compile(model, mode=mode)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # tied matrices count once


def training_step(
    model: nn.Module,
    loss_of: Callable[[Callable], torch.Tensor],
    settings: Settings,
    side: str,
    compiled: bool,
) -> tuple[Callable[[], None], int]:
    """`loss_of(run)` computes the loss of one batch with `run` (the model, compiled or not)."""
    model = model.to(settings.device).train()
    optimizer = torch.optim.AdamW(param_groups(model, 0.01), lr=1e-4, fused=settings.fused_optimizer)
    run = settings.compiled(model, side) if compiled else model

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with settings.autocast():
            loss = loss_of(run)
        loss.backward()
        optimizer.step()

    return step, parameter_count(model)


def inference_step(
    model: ModelT, call: Callable[[ModelT], object], settings: Settings
) -> tuple[Callable[[], None], int]:
    model = model.to(settings.device).eval()

    @torch.no_grad()
    def step() -> None:
        with settings.autocast():
            call(model)

    return step, parameter_count(model)

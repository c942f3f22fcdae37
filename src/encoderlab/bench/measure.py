"""Time one contender's step: warm-up steps (compilation happens there), then timed steps between device syncs."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from encoderlab.callbacks.speed import peak_memory_mb, reset_peak_memory


@dataclass
class Measurement:
    name: str
    side: str  # "peer" or "ours"
    compiled: bool
    params: int
    tokens_per_step: int
    warmup_sec: float  # includes compilation
    sec_per_step: float
    peak_memory_mb: float
    flops_per_step: float | None = None
    mfu: float | None = None
    error: str | None = None
    round_sec_per_step: list[float] = field(default_factory=list)  # every round's time; `sec_per_step` is the best

    @property
    def tokens_per_sec(self) -> float:
        return self.tokens_per_step / self.sec_per_step if self.sec_per_step > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "tokens_per_sec": self.tokens_per_sec}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def release_memory(device: torch.device, compiled: bool) -> None:
    """After a contender: drop compiled graphs (and their CUDA-graph pools), cyclic garbage and cached blocks.
    (A full `gc.collect` takes ~0.4 s with this many modules imported: skipped where eager CPU runs don't need it.)"""
    if compiled:
        torch.compiler.reset()
    if compiled or device.type == "cuda":
        gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def time_step(step: Callable[[], object], device: torch.device, warmup: int, steps: int) -> tuple[float, float, float]:
    """Returns `(warm-up seconds, seconds per timed step, peak memory MB)`."""
    reset_peak_memory(device)
    start = time.perf_counter()
    for _ in range(warmup):
        step()
    synchronize(device)
    warmup_sec = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return warmup_sec, (time.perf_counter() - start) / steps, peak_memory_mb(device)


def measure(
    name: str,
    side: str,
    compiled: bool,
    build: Callable[[], tuple[Callable[[], object], int]],
    tokens_per_step: int,
    device: torch.device,
    warmup: int,
    steps: int,
    flops_per_step: Callable[[int], float] | None = None,
    peak_flops: float | None = None,
) -> Measurement:
    """`build()` makes the model and returns `(step, parameter count)`; everything it holds is freed afterwards.
    `flops_per_step(params)` gives the FLOPs one step is credited with, for MFU against `peak_flops`."""
    step: Callable[[], object] | None = None
    try:
        step, params = build()
        warmup_sec, sec_per_step, peak_mb = time_step(step, device, warmup, steps)
    except torch.cuda.OutOfMemoryError:
        return Measurement(name, side, compiled, 0, tokens_per_step, 0.0, 0.0, 0.0, error="out of memory")
    finally:
        step = None  # frees the model, its gradients and optimizer state before the next contender
        release_memory(device, compiled)
    flops = flops_per_step(params) if flops_per_step is not None else None
    mfu = flops / sec_per_step / peak_flops if flops is not None and peak_flops else None
    return Measurement(
        name,
        side,
        compiled,
        params,
        tokens_per_step,
        warmup_sec,
        sec_per_step,
        peak_mb,
        flops,
        mfu,
        None,
        [sec_per_step],
    )

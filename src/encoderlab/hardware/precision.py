"""`trainer.precision=auto`: bf16 mixed precision where the hardware computes bf16 natively, fp32 elsewhere.

bf16-mixed keeps the weights, gradients' accumulation into them and the optimizer state in fp32 (Lightning's
`MixedPrecision` only autocasts the forward); autocast runs matmuls in bf16 and keeps the numerically delicate
ops (softmax statistics inside attention, log-softmax and the losses) in fp32.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from lightning.pytorch.utilities import GradClipAlgorithmType
from lightning.pytorch.utilities.rank_zero import rank_zero_warn
from torch.optim import Optimizer

# Either gives the CPU native bf16 dot products: AMX tiles (Sapphire Rapids+) or AVX512-BF16 (Cooper Lake+, Zen 4+).
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux reports them; empty where /proc/cpuinfo is absent."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return frozenset()
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_has_native_bf16(flags: frozenset[str] | None = None) -> bool:
    flags = cpu_flags() if flags is None else flags
    if flags:
        return any(flag in flags for flag in CPU_BF16_FLAGS)
    # no /proc/cpuinfo (macOS, Windows): ask oneDNN, which checks the same instructions
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def uses_cuda(accelerator: str) -> bool:
    return accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())


def auto_precision(accelerator: str, flags: frozenset[str] | None = None, cuda_bf16: bool | None = None) -> str:
    """The Lightning precision `auto` stands for on this machine, with the reason, e.g. `bf16-mixed (CPU: amx_bf16)`."""
    if uses_cuda(accelerator):
        has_bf16 = torch.cuda.is_bf16_supported() if cuda_bf16 is None else cuda_bf16
        return "bf16-mixed" if has_bf16 else "32-true"
    return "bf16-mixed" if cpu_has_native_bf16(flags) else "32-true"


def precision_reason(precision: str, accelerator: str, flags: frozenset[str] | None = None) -> str:
    if uses_cuda(accelerator):
        name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CUDA"
        return f"{name} {'has' if precision.startswith('bf16') else 'lacks'} bf16"
    flags = cpu_flags() if flags is None else flags
    found = [flag for flag in CPU_BF16_FLAGS if flag in flags]
    return f"CPU has {', '.join(found)}" if found else f"CPU lacks {' and '.join(CPU_BF16_FLAGS)}"


def resolve_precision(requested: str, accelerator: str, flags: frozenset[str] | None = None) -> str:
    """`requested` unchanged unless it is `auto`."""
    if str(requested) != "auto":
        return str(requested)
    return auto_precision(accelerator, flags)


class BF16MixedPrecision(MixedPrecision):
    """Lightning's `bf16-mixed`, letting gradient clipping run with fused optimizers. Lightning refuses to clip for
    an optimizer that unscales gradients itself (fused Adam/AdamW) because of fp16's loss scaler; bf16 has no scaler,
    so the gradients are never scaled and clipping them is exact."""

    def __init__(self, device: str) -> None:
        super().__init__("bf16-mixed", device)

    def clip_gradients(
        self,
        optimizer: Optimizer,
        clip_val: int | float = 0.0,
        gradient_clip_algorithm: GradClipAlgorithmType = GradClipAlgorithmType.NORM,
    ) -> None:
        Precision.clip_gradients(self, optimizer, clip_val, gradient_clip_algorithm)


def trainer_precision(precision: str, accelerator: str) -> tuple[str | None, list[Precision]]:
    """What to give the Trainer for `precision`: the precision flag, or a plugin standing in for it."""
    on_cuda = uses_cuda(accelerator)
    if precision in ("16-mixed", "16") and not on_cuda:
        # Lightning's own substitution (and words), made here so that our plugin serves it
        rank_zero_warn("AMP with fp16 is not supported on CPU. Using `precision='bf16-mixed'` instead.")
        precision = "bf16-mixed"
    if precision in ("bf16-mixed", "bf16"):
        return None, [BF16MixedPrecision("cuda" if on_cuda else "cpu")]
    return precision, []

"""Model FLOPs utilisation, counted the same way for every contender (PaLM's appendix B / nanoGPT's estimate)."""

from __future__ import annotations

import torch

# Dense bf16 tensor-core peaks (no sparsity), from the vendors' data sheets; matched on the device name in order.
BF16_PEAK_TFLOPS = (
    ("H100 PCIe", 756.0),
    ("H100", 989.0),  # SXM
    ("H200", 989.0),
    ("A100", 312.0),
)


def device_peak_flops(device: torch.device, precision: str) -> float | None:
    """The device's bf16 peak in FLOP/s, or None where unknown (CPUs, other precisions, other GPUs)."""
    if device.type != "cuda" or precision != "bf16":
        return None
    name = torch.cuda.get_device_name(device)
    return next((tflops * 1e12 for key, tflops in BF16_PEAK_TFLOPS if key in name), None)


def encoder_training_flops(params: int, num_layers: int, seq_len: int, hidden_size: int, tokens: int) -> float:
    """`6·N·tokens + 12·L·T·H·tokens`: forward + backward of every weight for every token, plus attention scores.

    Every position counts, so an MLM that scores only masked positions shows that as speed, not as fewer FLOPs.
    """
    return 6.0 * params * tokens + 12.0 * num_layers * seq_len * hidden_size * tokens

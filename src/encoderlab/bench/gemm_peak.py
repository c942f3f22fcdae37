"""The machine's own matrix-multiply rate at a model's shapes: the denominator of a CPU's MFU.

A CPU has no data-sheet peak that training can reach (clocks, AMX tile use and memory bandwidth decide), so the
bench measures `torch.mm` at exactly the GEMMs one training step of the model runs — forward, input gradient and
weight gradient of every linear layer — in bf16 and fp32, in the same process as the contenders, and credits
each contender with its model FLOP/s as a share of the best rate found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

Shape = tuple[int, int, int]  # (M, K, N): [M, K] @ [K, N]


def linear_training_gemms(tokens: int, features: list[tuple[int, int]]) -> list[Shape]:
    """The three GEMMs of each `nn.Linear(in, out)` over `tokens` rows: forward, grad of input, grad of weight."""
    shapes: list[Shape] = []
    for fan_in, fan_out in features:
        shapes += [(tokens, fan_in, fan_out), (tokens, fan_out, fan_in), (fan_in, tokens, fan_out)]
    return list(dict.fromkeys(shapes))


def bert_training_gemms(hidden: int, intermediate: int, tokens: int, vocab: int, predicted: int) -> list[Shape]:
    """A BERT layer's linears (fused QKV, output projection, feed-forward) for every token, plus the tied MLM
    decoder over the `predicted` positions (0 for classification)."""
    shapes = linear_training_gemms(tokens, [(hidden, 3 * hidden), (hidden, hidden), (hidden, intermediate)])
    shapes += linear_training_gemms(tokens, [(intermediate, hidden)])
    if predicted:
        shapes += linear_training_gemms(predicted, [(hidden, vocab)])
    return list(dict.fromkeys(shapes))


@dataclass
class GemmRate:
    dtype: str
    best_flops: float  # FLOP/s of the fastest shape
    by_shape: dict[str, float]  # "MxKxN" -> FLOP/s

    def to_dict(self) -> dict[str, object]:
        return {
            "dtype": self.dtype,
            "best_tflops": self.best_flops / 1e12,
            "tflops_by_shape": {shape: rate / 1e12 for shape, rate in self.by_shape.items()},
        }


def measure_gemm_rate(
    shapes: list[Shape], dtype: torch.dtype, device: torch.device, min_seconds: float = 0.2
) -> GemmRate:
    """The FLOP/s of `torch.mm` at each shape (best of a few timed bursts, after a warm-up)."""
    by_shape: dict[str, float] = {}
    for m, k, n in shapes:
        a = torch.randn(m, k, device=device).to(dtype)
        b = torch.randn(k, n, device=device).to(dtype)
        torch.mm(a, b)  # warm-up: oneDNN/cuBLAS pick and cache their kernel here
        flops = 2.0 * m * k * n
        best = float("inf")
        for _ in range(3):
            calls, start = 0, time.perf_counter()
            while True:
                torch.mm(a, b)
                calls += 1
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                elapsed = time.perf_counter() - start
                if elapsed >= min_seconds / 3:
                    break
            best = min(best, elapsed / calls)
        by_shape[f"{m}x{k}x{n}"] = flops / best
    name = str(dtype).removeprefix("torch.")
    return GemmRate(name, max(by_shape.values()), by_shape)

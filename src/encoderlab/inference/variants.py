"""The compressed variants of one classifier net that the benchmark compares, each as a scorer plus its file size.

`fp32` is the trained net; `int8` its dynamic quantization (PyTorch); `onnx` / `onnx-int8` the ONNX export run by
ONNX Runtime, plain and dynamically quantized; `pruned<P>` / `pruned<P>-int8` first zero the smallest P % of the
linear and LSTM weights. Sizes: `torch.save(state_dict)` for PyTorch, the `.onnx` file for ONNX.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from encoderlab.inference.compression import prune_magnitude, quantize_int8, quantize_onnx_int8, state_dict_bytes
from encoderlab.inference.onnx_export import export_onnx
from encoderlab.inference.scorers import Scorer, onnx_scorer, torch_scorer


@dataclass
class Variant:
    name: str
    scorer: Scorer
    size_bytes: int


def variants(net: nn.Module, folder: Path, prune_amount: float | None = None) -> Iterator[Variant]:
    """Built one at a time (each is measured before the next is made, so only one copy is in memory at once)."""
    yield Variant("fp32", torch_scorer(net), state_dict_bytes(net))
    quantized = quantize_int8(net)
    yield Variant("int8", torch_scorer(quantized), state_dict_bytes(quantized))
    onnx_path = export_onnx(net, folder / "model.onnx")
    yield Variant("onnx", onnx_scorer(onnx_path), onnx_path.stat().st_size)
    onnx_int8 = quantize_onnx_int8(onnx_path, folder / "model.int8.onnx")
    yield Variant("onnx-int8", onnx_scorer(onnx_int8), onnx_int8.stat().st_size)
    if prune_amount:
        pruned = prune_magnitude(net, prune_amount)
        tag = f"pruned{round(prune_amount * 100)}"
        yield Variant(tag, torch_scorer(pruned), state_dict_bytes(pruned))
        pruned_int8 = quantize_int8(pruned)
        yield Variant(f"{tag}-int8", torch_scorer(pruned_int8), state_dict_bytes(pruned_int8))

"""Smaller models: dynamic int8 quantization (PyTorch and ONNX Runtime) and magnitude pruning.

Dynamic quantization stores `Linear` and `LSTM` weights as int8 and quantizes activations on the fly: no
calibration data. PyTorch keeps embeddings fp32 (lookups, not matrix products); ONNX Runtime quantizes them too.
`torch.ao.quantization` is deprecated in favour of torchao, but it is still the one CPU path that quantizes
`nn.LSTM`; its warning is silenced.
"""

from __future__ import annotations

import copy
import io
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import prune


def quantize_int8(net: nn.Module) -> nn.Module:
    """A dynamically quantized copy of `net` (the original is left untouched)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(net).eval().cpu(), {nn.Linear, nn.LSTM}, dtype=torch.qint8
        )


def quantize_onnx_int8(source: str | Path, target: str | Path) -> Path:
    """ONNX Runtime's dynamic int8 quantization of an exported model: MatMul, LSTM and, unlike PyTorch's, the
    embedding tables (Gather) too, hence the much smaller file."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    return Path(target)


def prunable_weights(net: nn.Module) -> list[tuple[nn.Module, str]]:
    """Weight matrices of linear and recurrent layers (embeddings are kept whole: a zeroed row loses a word)."""
    weights: list[tuple[nn.Module, str]] = []
    for module in net.modules():
        if isinstance(module, nn.Linear):
            weights.append((module, "weight"))
        elif isinstance(module, nn.LSTM):
            weights += [(module, name) for name, _ in module.named_parameters() if name.startswith("weight")]
    return weights


def prune_magnitude(net: nn.Module, amount: float) -> nn.Module:
    """A copy with the smallest `amount` (fraction) of those weights, ranked globally by magnitude, set to zero."""
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"pruning amount must lie in [0, 1), got {amount}")
    pruned = copy.deepcopy(net).eval().cpu()
    weights = prunable_weights(pruned)
    prune.global_unstructured(weights, pruning_method=prune.L1Unstructured, amount=amount)
    for module, name in weights:
        prune.remove(module, name)  # bake the mask into the weights
    if any(isinstance(m, nn.LSTM) for m in pruned.modules()):
        for module in pruned.modules():
            if isinstance(module, nn.LSTM):
                module.flatten_parameters()
    return pruned


def state_dict_bytes(net: nn.Module) -> int:
    """Size of the weights as `torch.save(net.state_dict())` writes them (no optimizer state, unlike a .ckpt)."""
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    return buffer.getbuffer().nbytes

"""Backends behind one signature: `(input_ids [B, T], attention_mask [B, T]) -> the net's output` as a CPU tensor.

PyTorch (fp32 or a dynamically quantized int8 copy) and ONNX Runtime run the same encoder + head, so the predictors
above them never know which one they hold.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

Scorer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
BACKENDS = ("torch", "int8", "onnx", "onnx-int8")


def torch_scorer(net: nn.Module) -> Scorer:
    net.eval()
    first = next(iter(net.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")

    def score(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return net(input_ids.to(device), attention_mask.to(device)).float().cpu()

    return score


def onnx_scorer(path: str | Path, threads: int | None = None) -> Scorer:
    """An ONNX Runtime session on the CPU, with as many intra-op threads as torch uses (fair comparisons)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def score(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        feeds = {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy()}
        return torch.from_numpy(session.run(None, feeds)[0])

    return score

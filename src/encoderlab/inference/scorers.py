"""Backends behind one signature: `(input_ids [B, T], attention_mask [B, T], token_type_ids [B, T] | None) -> the
net's output` as a CPU tensor.

PyTorch (fp32 or a dynamically quantized int8 copy) and ONNX Runtime run the same encoder + head, so the predictors
above them never know which one they hold. `token_type_ids` (segment ids of text pairs) reach every model that takes
them; None means one segment, as in training on single texts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import torch
from torch import nn

BACKENDS = ("torch", "int8", "onnx", "onnx-int8")


class Scorer(Protocol):
    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
    ) -> torch.Tensor: ...


def torch_scorer(net: nn.Module) -> Scorer:
    """`char_ids [B, T, C]` (character features, NER) reach the nets that read them (`TokenClassifier`)."""
    net.eval()
    first = next(iter(net.parameters()), None)
    device = first.device if first is not None else torch.device("cpu")

    def score(
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        types = None if token_type_ids is None else token_type_ids.to(device)
        chars = () if char_ids is None else (char_ids.to(device),)
        with torch.inference_mode():
            return net(input_ids.to(device), attention_mask.to(device), types, *chars).float().cpu()

    return score


def onnx_scorer(path: str | Path, threads: int | None = None) -> Scorer:
    """An ONNX Runtime session on the CPU, with as many intra-op threads as torch uses (fair comparisons).

    The export keeps `token_type_ids` as an input only where the model reads them (a Transformer); the session's
    own inputs say which, and a graph that has it gets zeros (one segment) when none are given.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    takes_types = "token_type_ids" in {i.name for i in session.get_inputs()}

    def score(
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        char_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if char_ids is not None:  # `load_predictor` refuses such checkpoints for ONNX first
            raise ValueError("the ONNX export carries no character features; score char_ids with a torch scorer")
        feeds = {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy()}
        if takes_types:
            types = torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids
            feeds["token_type_ids"] = types.cpu().numpy()
        return torch.from_numpy(session.run(None, feeds)[0])

    return score

"""ONNX export of encoder + head with dynamic batch and length.

It uses torch's TorchScript-based exporter (`dynamo=False`): the `torch.export` path cannot trace the BiLSTM's
`pack_padded_sequence` (data-dependent lengths), while the TorchScript exporter maps it to ONNX's `LSTM` with
`sequence_lens`, so padding stays invisible to the recurrence there too. One exporter for every encoder.

`token_type_ids` (segment ids of text pairs) is traced as an input of every export; the exporter drops inputs the
graph never reads, so it stays exactly where the model takes it (Transformers) and the BiLSTM's graph has two inputs.
Read a file's inputs with `input_names(path)`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]  # the last only where the model reads it
OPSET = 17

Inputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def example_inputs(batch: int = 2, length: int = 8) -> Inputs:
    """Ids of token 1 with the last row padded (id 0), so the traced graph holds the masking path; the second half of
    each row is segment 1, as in a text pair."""
    input_ids = torch.ones(batch, length, dtype=torch.long)
    attention_mask = torch.ones(batch, length, dtype=torch.long)
    token_type_ids = torch.zeros(batch, length, dtype=torch.long)
    token_type_ids[:, length // 2 :] = 1
    input_ids[-1, length // 2 :] = 0
    attention_mask[-1, length // 2 :] = 0
    token_type_ids[-1, length // 2 :] = 0
    return input_ids, attention_mask, token_type_ids


def input_names(path: str | Path) -> list[str]:
    """The inputs an exported file takes (`token_type_ids` only for models that read segment ids)."""
    import onnx

    return [i.name for i in onnx.load(str(path), load_external_data=False).graph.input]


def export_onnx(net: nn.Module, path: str | Path) -> Path:
    """Write `net(input_ids, attention_mask[, token_type_ids]) -> logits` (`[B, C]` or per token `[B, T, C]`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = net.eval().cpu()
    inputs = example_inputs()
    with torch.inference_mode():
        output_rank = net(*inputs).dim()
    axes = {name: {0: "batch", 1: "length"} for name in INPUT_NAMES}
    axes["logits"] = {0: "batch", 1: "length"} if output_rank == 3 else {0: "batch"}
    with warnings.catch_warnings():
        # the exporter's notes on traced Python bools (shape checks) and on its own deprecation are not ours to fix
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            inputs,
            str(path),
            input_names=INPUT_NAMES,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return path


def parity_inputs(vocab_size: int, batch: int = 3, length: int = 13, seed: int = 0) -> Inputs:
    """Random ids in a shape other than the export example's, rows padded to different lengths, segment 1 from the
    middle of each row's real tokens."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(1, vocab_size, (batch, length), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    token_type_ids = torch.zeros_like(input_ids)
    for row in range(batch):
        keep = max(1, length - 4 * row)
        token_type_ids[row, keep // 2 : keep] = 1
        input_ids[row, keep:] = 0
        attention_mask[row, keep:] = 0
    return input_ids, attention_mask, token_type_ids


def max_difference(net: nn.Module, path: str | Path, vocab_size: int) -> float:
    """Largest absolute difference between PyTorch and ONNX Runtime outputs on `parity_inputs` (at real positions)."""
    from encoderlab.inference.scorers import onnx_scorer, torch_scorer

    input_ids, attention_mask, token_type_ids = parity_inputs(vocab_size)
    expected = torch_scorer(net)(input_ids, attention_mask, token_type_ids)
    actual = onnx_scorer(path)(input_ids, attention_mask, token_type_ids)
    if expected.dim() == 3:  # per-token outputs: padded positions carry no prediction
        keep = attention_mask.bool()
        expected, actual = expected[keep], actual[keep]
    return float((expected - actual).abs().max())

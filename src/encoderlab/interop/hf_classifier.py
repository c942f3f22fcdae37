"""A fine-tuned sequence classifier as HF transformers' `BertForSequenceClassification`, in the folder `export_hf`
wrote: its encoder under `bert.`, our head's dense+tanh as BERT's pooler, the classifier, and the label names.

It maps exactly when the head is BERT's: `pooling=cls` with `model.head.dense=true` (the compact BERT configs). The
same folder still loads with `AutoModel` (a `BertModel`, now with the trained pooler). Any other head (mean or
attention pooling, no dense layer) has no place in `BertForSequenceClassification`: the folder stays an encoder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from encoderlab.interop.hf_bert import _safetensors


def bert_head(net: nn.Module) -> tuple[nn.Linear, nn.Linear] | None:
    """`(pooler dense, classifier)` of a classifier whose head is BERT's (CLS token -> dense+tanh -> linear)."""
    pooler, head = getattr(net, "pooler", None), getattr(net, "head", None)
    if pooler is None or head is None or getattr(pooler, "method", None) != "cls":
        return None
    dense = head.dense
    if not (isinstance(dense, nn.Sequential) and isinstance(dense[0], nn.Linear) and isinstance(dense[1], nn.Tanh)):
        return None
    return dense[0], head.classifier


def write_sequence_classifier(hf_dir: Path, net: nn.Module, label_names: list[str]) -> bool:
    """Turn the `BertModel` folder `hf_dir` into a `BertForSequenceClassification` one; False (folder unchanged)
    when the net's head is not BERT's."""
    parts = bert_head(net)
    if parts is None:
        return False
    pooler, classifier = parts
    safetensors = _safetensors()
    encoder = safetensors.load_file(str(hf_dir / "model.safetensors"))
    state: dict[str, torch.Tensor] = {f"bert.{name}": tensor for name, tensor in encoder.items()}
    for name, module in (("bert.pooler.dense", pooler), ("classifier", classifier)):
        state[f"{name}.weight"] = module.weight.detach().float().cpu().contiguous().clone()
        state[f"{name}.bias"] = module.bias.detach().float().cpu().contiguous().clone()
    safetensors.save_file(state, str(hf_dir / "model.safetensors"))
    config: dict[str, Any] = json.loads((hf_dir / "config.json").read_text())
    config.update(
        architectures=["BertForSequenceClassification"],
        id2label={str(i): name for i, name in enumerate(label_names)},
        label2id={name: i for i, name in enumerate(label_names)},
        problem_type="single_label_classification",
    )
    (hf_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return True

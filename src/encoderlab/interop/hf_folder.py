"""What `--hf` adds to the `BertModel` folder of a task checkpoint: the classifier head where it maps, the card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from encoderlab.interop.hf_classifier import write_sequence_classifier
from encoderlab.interop.model_card import model_card, run_summary


def finish_hf_folder(hf_dir: Path, task: Any, checkpoint: str | Path) -> None:
    hparams = dict(task.hparams)
    hf_class, note = "BertModel", "The task head is not in this folder (the ONNX and PyTorch exports carry it)."
    if task.kind == "classification":
        if write_sequence_classifier(hf_dir, task.net, list(hparams.get("label_names") or [])):
            hf_class, note = "BertForSequenceClassification", "Encoder, pooler and classifier, with its labels."
        else:
            note = (
                "Encoder only: this classifier's head (pooling other than `cls`, or no dense layer) has no "
                "`BertForSequenceClassification` equivalent; the ONNX export carries it."
            )
    card = model_card(checkpoint, run_summary(checkpoint), hparams, hf_class, note)
    (hf_dir / "README.md").write_text(card, encoding="utf-8")

"""Load any encoderlab checkpoint for inference, whichever task wrote it.

The task is read from the saved hyperparameters (every task saves its own set), so checkpoints written before
inference existed load too. A classification or NER checkpoint without `label_names` (none are known, but a
hand-made or foreign one may lack them) falls back to the class indices as names, with a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from encoderlab.checkpoint_file import read_checkpoint
from encoderlab.errors import CheckpointError
from encoderlab.tasks.base import CHECKPOINT_KEY, Task
from encoderlab.tasks.classification import ClassificationTask
from encoderlab.tasks.token_classification import TokenClassificationTask
from encoderlab.tasks.translation import TranslationTask

log = logging.getLogger(__name__)

TASKS: dict[str, type[Task]] = {
    "classification": ClassificationTask,
    "token_classification": TokenClassificationTask,
    "translation": TranslationTask,
}


def task_kind(hparams: dict[str, Any]) -> str | None:
    """`classification`, `token_classification` or `translation` from the hyperparameters a task saved."""
    if "bos_id" in hparams and "eos_id" in hparams:
        return "translation"
    if "crf" in hparams and "num_classes" in hparams:
        return "token_classification"
    if "num_classes" in hparams:
        return "classification"
    return None


def load_task(path: str | Path, device: str = "cpu") -> tuple[str, Task]:
    """`(kind, task)` in eval mode on `device`, with its tokenizer (`task.tokenizer_json`) restored."""
    checkpoint = read_checkpoint(path)
    hparams = checkpoint.get("hyper_parameters") or {}
    kind = task_kind(hparams)
    if kind is None:
        raise CheckpointError(
            f"{path} was not written by a classification, NER or translation run; predict needs one of those"
        )
    if not (checkpoint.get(CHECKPOINT_KEY) or {}).get("tokenizer"):
        raise CheckpointError(f"{path} holds no tokenizer; it was not written by an encoderlab task")
    overrides: dict[str, Any] = {}
    if kind != "translation" and not hparams.get("label_names"):
        overrides["label_names"] = [str(i) for i in range(hparams["num_classes"])]
        log.warning("%s has no label names: labels are printed as class indices", path)
    task = TASKS[kind](**{**hparams, **overrides})
    task.load_state_dict(checkpoint["state_dict"])
    task.on_load_checkpoint(checkpoint)  # restores the tokenizer
    return kind, task.to(device).eval()

"""Load any encoderlab checkpoint for inference, whichever task wrote it.

Every checkpoint names the task class that wrote it (`Task.on_save_checkpoint`); that class rebuilds the task from
the saved hyperparameters. Checkpoints written before the class was stored are recognised by their hyperparameters,
with a warning. A classification or NER checkpoint without `label_names` (none are known, but a hand-made or foreign
one may lack them) falls back to the class indices as names, with a warning.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from pathlib import Path
from typing import Any, TypeVar

from encoderlab.errors import CheckpointError
from encoderlab.tasks.base import CHECKPOINT_KEY, Task, class_path
from encoderlab.tasks.checkpoint_file import read_checkpoint

log = logging.getLogger(__name__)

TaskT = TypeVar("TaskT", bound=Task)

# a checkpoint is data, not code: the class it names is imported only from encoderlab's own tasks
TASKS_PACKAGE = "encoderlab.tasks."
# the kinds of checkpoint inference serves (`Task.kind`)
INFERENCE_KINDS = ("classification", "token_classification", "translation")
# before checkpoints named their class: the class each kind's hyperparameters came from
LEGACY_CLASSES = {
    "classification": "encoderlab.tasks.classification.ClassificationTask",
    "token_classification": "encoderlab.tasks.token_classification.TokenClassificationTask",
    "translation": "encoderlab.tasks.translation.TranslationTask",
}


def legacy_kind(hparams: dict[str, Any]) -> str | None:
    """`classification`, `token_classification` or `translation` from the hyperparameters an old checkpoint holds."""
    if "bos_id" in hparams and "eos_id" in hparams:
        return "translation"
    if "crf" in hparams and "num_classes" in hparams:
        return "token_classification"
    if "num_classes" in hparams:
        return "classification"
    return None


def task_class(name: str, path: str | Path) -> type[Task]:
    """The `Task` subclass a checkpoint names by import path; `CheckpointError` (one line) when there is none."""
    module_name, _, class_name = str(name).rpartition(".")
    cls = None
    if module_name.startswith(TASKS_PACKAGE):
        with contextlib.suppress(ImportError):
            cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise CheckpointError(
            f"{path} was written by task class {name!r}, which is not a task of encoderlab.tasks here; load it "
            "with the encoderlab version that trained it"
        )
    return cls


def checkpoint_task_class(checkpoint: dict[str, Any], path: str | Path) -> type[Task]:
    """The class a checkpoint names, or for one written before classes were stored, the one its hyperparameters
    point to (with a warning)."""
    saved = checkpoint.get(CHECKPOINT_KEY) or {}
    if saved.get("task_class"):
        return task_class(saved["task_class"], path)
    kind = legacy_kind(checkpoint.get("hyper_parameters") or {})
    if kind is None:
        raise CheckpointError(
            f"{path} was not written by a classification, NER or translation run; predict needs one of those"
        )
    log.warning("%s names no task class (an older checkpoint); read as a %s checkpoint from its settings", path, kind)
    return task_class(LEGACY_CLASSES[kind], path)


def load_task(path: str | Path, device: str = "cpu") -> tuple[str, Task]:
    """`(kind, task)` in eval mode on `device`, with its tokenizer (`task.tokenizer_json`) restored."""
    checkpoint = read_checkpoint(path)
    cls = checkpoint_task_class(checkpoint, path)
    if cls.kind not in INFERENCE_KINDS:
        raise CheckpointError(
            f"{path} is a {cls.kind or class_path(cls)} checkpoint ({cls.__name__}); predict, export and serve take "
            "classification, NER or translation checkpoints"
        )
    if not (checkpoint.get(CHECKPOINT_KEY) or {}).get("tokenizer"):
        raise CheckpointError(f"{path} holds no tokenizer; it was not written by an encoderlab task")
    hparams = checkpoint.get("hyper_parameters") or {}
    overrides: dict[str, Any] = {}
    if cls.kind != "translation" and not hparams.get("label_names"):
        overrides["label_names"] = [str(i) for i in range(hparams["num_classes"])]
        log.warning("%s has no label names: labels are printed as class indices", path)
    task = cls(**{**hparams, **overrides})
    task.on_load_checkpoint(checkpoint)  # restores the tokenizer; first, as Lightning does: it drops retired entries
    task.load_state_dict(checkpoint["state_dict"])
    return cls.kind, task.to(device).eval()


def expect_task(task: Task, cls: type[TaskT], path: str | Path) -> TaskT:
    """`task` as the `cls` its kind stands for; a checkpoint whose class is not one is refused in one line."""
    if not isinstance(task, cls):
        raise CheckpointError(f"{path} was written by {class_path(type(task))}, which is not a {cls.__name__}")
    return task

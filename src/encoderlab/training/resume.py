"""Finding and vetting a checkpoint before training resumes from it: a clear error instead of a shape traceback."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from encoderlab.errors import CheckpointError
from encoderlab.tasks.base import CHECKPOINT_KEY
from encoderlab.tasks.checkpoint_file import read_checkpoint
from encoderlab.training.sharding import sharded_checkpoint_metadata

log = logging.getLogger(__name__)

# hyperparameters that must match for a checkpoint's weights to fit this run's model
MUST_MATCH = ("vocab_size", "num_classes", "label_names", "model")
# model settings that don't change the shapes of the weights (a resume may change them)
FREE_TO_CHANGE = {
    "name",
    "lr",
    "family",
    "pretrained",
    "embeddings",
    "dropout",
    "attention_dropout",
    "embedding_dropout",
    "unpad",
}


def find_last_checkpoint(log_dir: str | Path, run_name: str) -> Path:
    """`ckpt_path=last`: the newest `last.ckpt` among this run name's earlier runs and multiruns."""
    candidates = sorted(Path(log_dir, run_name).glob("**/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise CheckpointError(
            f"ckpt_path=last: no last.ckpt under {Path(log_dir, run_name)}; train first, or pass ckpt_path=<file>"
        )
    return candidates[-1]


def resolve_checkpoint(ckpt_path: str | None, log_dir: str | Path, run_name: str) -> Path | None:
    if ckpt_path in (None, ""):
        return None
    if ckpt_path == "last":
        return find_last_checkpoint(log_dir, run_name)
    path = Path(ckpt_path)
    if not path.is_file() and not path.is_dir():  # a folder: a sharded checkpoint (trainer=fsdp, deepspeed)
        raise CheckpointError(f"ckpt_path={ckpt_path}: no such file; pass an existing .ckpt or ckpt_path=last")
    return path


def _differences(saved: Any, current: Any, prefix: str) -> list[str]:
    if isinstance(saved, dict) and isinstance(current, dict):
        out = []
        for key in sorted((set(saved) | set(current)) - FREE_TO_CHANGE):
            out += _differences(saved.get(key), current.get(key), f"{prefix}.{key}")
        return out
    return [] if saved == current else [f"{prefix}={saved!r} in the checkpoint but {current!r} here"]


def tokenizer_digest(tokenizer_json: str | None) -> str | None:
    return None if tokenizer_json is None else hashlib.sha256(tokenizer_json.encode()).hexdigest()[:12]


def check_compatible(
    path: str | Path, hparams: dict[str, Any], tokenizer_json: str | None, task_class: str | None = None
) -> dict[str, Any]:
    """Raise `CheckpointError` unless the checkpoint was trained by this task class, with this model, label set and
    tokenizer."""
    if Path(path).is_dir():
        metadata = sharded_checkpoint_metadata(Path(path))
        if metadata is None:  # DeepSpeed keeps hyper-parameters inside its shard files: Lightning checks shapes
            log.warning("checkpoint folder %s is not vetted before resuming (not an FSDP sharded checkpoint)", path)
            return {}
        checkpoint = metadata
    else:
        checkpoint = read_checkpoint(path)
    saved = checkpoint.get("hyper_parameters", {})
    differences = []
    saved_class = (checkpoint.get(CHECKPOINT_KEY) or {}).get("task_class")
    if saved_class is not None and task_class is not None and saved_class != task_class:
        saved_name, this_name = saved_class.rsplit(".", 1)[-1], task_class.rsplit(".", 1)[-1]
        differences.append(f"it was written by a {saved_name}, this run trains a {this_name}")
    for key in MUST_MATCH:
        if key in saved or key in hparams:
            differences += _differences(saved.get(key), hparams.get(key), key)
    saved_tokenizer = checkpoint.get(CHECKPOINT_KEY, {}).get("tokenizer")
    if saved_tokenizer is not None and tokenizer_digest(saved_tokenizer) != tokenizer_digest(tokenizer_json):
        differences.append("the tokenizer differs (another vocabulary or tokenizer settings)")
    if differences:
        shown = "; ".join(differences[:4]) + (f"; and {len(differences) - 4} more" if len(differences) > 4 else "")
        raise CheckpointError(
            f"checkpoint {path} does not fit this run: {shown}. Use the model/data/tokenizer settings it was "
            "trained with, or start without ckpt_path"
        )
    return checkpoint

"""Translate texts with a translation checkpoint's task: encoded as in training, cut to what the model takes, batched
by length, returned in input order."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from encoderlab.data.collate import pad_sequences
from encoderlab.data.tokenizer import EOS, token_id
from encoderlab.errors import UserError
from encoderlab.inference.checkpoint import load_task
from encoderlab.models.seq2seq import Seq2SeqModel
from encoderlab.tasks.base import Task
from encoderlab.tasks.translation import TranslationTask

log = logging.getLogger("encoderlab.translate")


def as_translation_task(kind: str, task: Task, checkpoint: str | Path) -> TranslationTask:
    if not isinstance(task, TranslationTask):
        raise UserError(f"{checkpoint} is a {kind} checkpoint; translate needs one from a translation run")
    return task


def load_translator(checkpoint: str | Path, device: str = "cpu") -> TranslationTask:
    kind, task = load_task(checkpoint, device)
    return as_translation_task(kind, task, checkpoint)


def max_source_length(task: TranslationTask) -> int | None:
    """The longest source the model takes: the decoder's positions bound the source too (same width, same table)."""
    return task.net.max_target_length if isinstance(task.net, Seq2SeqModel) else None


def encode_lines(task: TranslationTask, lines: Sequence[str]) -> list[list[int]]:
    """Ids per line (empty for empty lines), cut to what both tokenizer and model take; warns about each cut."""
    tokenizer = task.tokenizer
    limit = max_source_length(task)
    eos = token_id(tokenizer, EOS)
    encoded: list[list[int]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            encoded.append([])
            continue
        encoding = tokenizer.encode(line)
        ids, truncated = encoding.ids, bool(encoding.overflowing)
        if limit is not None and len(ids) > limit:
            ids, truncated = [*ids[: limit - 1], eos], True
        if truncated:
            log.warning(
                "line %d is longer than the model's maximum (%d tokens): translating its start only", number, len(ids)
            )
        encoded.append(ids)
    return encoded


def translate_lines(
    task: TranslationTask, lines: Sequence[str], batch_size: int = 32, beam_size: int | None = None
) -> Iterator[str]:
    """Translations of `lines`, in order. Batches group lines of similar length to waste little on padding."""
    beam_size = beam_size or task.hparams["test_beam_size"]
    encoded = encode_lines(task, lines)
    order = sorted((i for i, ids in enumerate(encoded) if ids), key=lambda i: len(encoded[i]))
    outputs = [""] * len(lines)
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        src_ids, src_mask = pad_sequences([encoded[i] for i in indices], task.hparams["pad_id"])
        with torch.inference_mode():
            translations = task.translate(src_ids.to(task.device), src_mask.to(task.device), beam_size)
        for i, text in zip(indices, translations, strict=True):
            outputs[i] = text
    yield from outputs

"""Translate lines with a trained checkpoint: `encoderlab-translate CKPT [--input FILE] [--beam-size 5] < lines`.

One translation per input line on stdout, in input order (batched by length internally). Empty lines stay empty;
lines longer than the model takes are truncated, with a warning on stderr naming them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch

from encoderlab.data.collate import pad_sequences
from encoderlab.data.tokenizer import EOS
from encoderlab.errors import UserError
from encoderlab.inference.checkpoint import load_task
from encoderlab.tasks.translation import TranslationTask

log = logging.getLogger("encoderlab.translate")


def load_translator(checkpoint: str | Path, device: str = "cpu") -> TranslationTask:
    kind, task = load_task(checkpoint, device)
    if not isinstance(task, TranslationTask):
        raise UserError(f"{checkpoint} is a {kind} checkpoint; translate needs one from a translation run")
    return task


def encode_lines(task: TranslationTask, lines: Sequence[str]) -> list[list[int]]:
    """Ids per line (empty for empty lines), cut to what both tokenizer and model take; warns about each cut."""
    tokenizer = task.tokenizer
    limit = task.net.max_target_length  # the decoder's positions bound the source too (same width, same table)
    eos = tokenizer.token_to_id(EOS)
    encoded = []
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
    beam_size = beam_size or task.hparams.test_beam_size
    encoded = encode_lines(task, lines)
    order = sorted((i for i, ids in enumerate(encoded) if ids), key=lambda i: len(encoded[i]))
    outputs = [""] * len(lines)
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        src_ids, src_mask = pad_sequences([encoded[i] for i in indices], task.hparams.pad_id)
        with torch.inference_mode():
            translations = task.translate(src_ids.to(task.device), src_mask.to(task.device), beam_size)
        for i, text in zip(indices, translations, strict=True):
            outputs[i] = text
    yield from outputs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="encoderlab-translate", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a .ckpt from a translation run (best or last)")
    parser.add_argument("--input", "-i", default="-", help="file with one sentence per line ('-': stdin)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beam-size", type=int, default=None, help="1 = greedy; default: the task's test beam size")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    try:
        task = load_translator(args.checkpoint, args.device)
        if args.input == "-":
            raw = sys.stdin.buffer.read()
        else:
            path = Path(args.input)
            if not path.is_file():
                raise UserError(f"no input file {path}")
            raw = path.read_bytes()
        # bytes that are not UTF-8 become U+FFFD instead of stopping the whole batch
        lines = raw.decode("utf-8", errors="replace").splitlines()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for translation in translate_lines(task, lines, args.batch_size, args.beam_size):
        print(translation)
    return 0


if __name__ == "__main__":
    sys.exit(main())

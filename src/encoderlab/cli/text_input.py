"""What `encoderlab predict` and `encoderlab translate` share: texts one per line (or one JSON object per line) from
a file or stdin, and the options both take."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from encoderlab.data.table_format import jsonl_records
from encoderlab.errors import UserError

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def read_input_lines(source: str, missing_hint: str = "") -> list[str]:
    """The lines of `source` (`-`: stdin); bytes that are not UTF-8 become U+FFFD instead of stopping the batch."""
    if source == "-":
        raw = sys.stdin.buffer.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise UserError(f"no input file {path}{missing_hint}")
        raw = path.read_bytes()
    return raw.decode("utf-8", errors="replace").splitlines()


def is_jsonl(source: str, text_field: str | None) -> bool:
    """JSON Lines when a field is named, or when the file's name says so."""
    return text_field is not None or source.lower().endswith(JSONL_SUFFIXES)


def read_jsonl_records(source: str) -> list[tuple[int, dict[str, object]]]:
    """`(line number, object)` for each non-blank line of `source`: one JSON object per line, so a multi-line
    document stays one text."""
    lines = read_input_lines(source, "; pass a JSON Lines file, or texts as arguments")
    return list(jsonl_records(lines, source))


def field_of(records: list[tuple[int, dict[str, object]]], field: str, source: str, option: str) -> list[str]:
    """Each record's string `field`; a record without it is an error naming its line and the fields it has."""
    values = []
    for number, record in records:
        value = record.get(field)
        if not isinstance(value, str):
            found = ", ".join(sorted(record)) or "none"
            raise UserError(f"{source} line {number} has no text field {field!r} (fields: {found}); set {option}")
        values.append(value)
    return values


def add_shared_arguments(parser: argparse.ArgumentParser, input_help: str, beam_help: str) -> None:
    parser.add_argument("--input", "-i", default="-", help=input_help)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beam-size", type=int, default=None, help=beam_help)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")

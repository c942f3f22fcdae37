"""What `encoderlab-predict` and `encoderlab-translate` share: texts one per line from a file or stdin, and the
options both take."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from encoderlab.errors import UserError


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


def add_shared_arguments(parser: argparse.ArgumentParser, input_help: str, beam_help: str) -> None:
    parser.add_argument("--input", "-i", default="-", help=input_help)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beam-size", type=int, default=None, help=beam_help)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")

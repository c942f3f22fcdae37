"""Predict with a trained checkpoint: `encoderlab predict CKPT [TEXT ...] [--input FILE]` -> JSON lines on stdout.

Classification: label, its probability and every class's probability. NER: words, word tags and entity spans with
character offsets. Translation: the translation. Texts come from the arguments, else from `--input` (a file, or
`-` for stdin, the default), one per line; blank lines are skipped. A `.jsonl` file (or any input with
`--text-field`) holds one JSON object per line, its text in that field (default `text`), so a document may span
lines. Batched by length; output keeps input order. A classifier trained on text pairs reads each line (or argument)
as `text<TAB>second text`, or the pair's second text from `--pair-field` in JSON Lines. Options may come before or
after the texts.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.cli.text_input import (
    add_shared_arguments,
    field_of,
    is_jsonl,
    read_input_lines,
    read_jsonl_records,
)
from encoderlab.errors import UserError
from encoderlab.inference.predictor import load_predictor
from encoderlab.inference.scorers import BACKENDS

log = logging.getLogger("encoderlab.predict")


def read_texts(texts: Sequence[str], source: str) -> list[str]:
    """The argument texts if any, else the non-blank lines of `source` (`-`: stdin); invalid UTF-8 -> U+FFFD."""
    if texts:
        return list(texts)
    lines = read_input_lines(source, "; pass a text file with one text per line, or texts as arguments")
    kept = [line for line in lines if line.strip()]
    if len(kept) < len(lines):
        log.warning("skipped %d blank line(s)", len(lines) - len(kept))
    return kept


def split_pairs(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """`text<TAB>second text` lines -> texts and their second texts."""
    texts, pairs = [], []
    for number, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if len(parts) != 2:
            raise UserError(
                f"input {number} has {len(parts) - 1} tabs; this checkpoint classifies text pairs: "
                "write each as 'text<TAB>second text'"
            )
        texts.append(parts[0])
        pairs.append(parts[1])
    return texts, pairs


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("predict", __doc__)
    parser.add_argument("checkpoint", help="a .ckpt from a classification, NER or translation run")
    parser.add_argument("texts", nargs="*", help="texts to predict (default: read --input)")
    add_shared_arguments(
        parser,
        input_help="file with one text per line, or a .jsonl file ('-': stdin)",
        beam_help="translation only; default: the task's own",
    )
    parser.add_argument("--text-field", default=None, help="JSON Lines input: the text's field (default: text)")
    parser.add_argument("--pair-field", default=None, help="JSON Lines input: a text pair's second text")
    parser.add_argument("--backend", choices=BACKENDS, default="torch", help="int8/onnx/onnx-int8 run on the CPU")
    return parser.parse_intermixed_args(argv)  # options before, between or after the texts


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    jsonl = not args.texts and is_jsonl(args.input, args.text_field)
    if jsonl:  # read (and checked) before the model loads: a wrong file is the first thing to hear about
        records = read_jsonl_records(args.input)
        texts = field_of(records, args.text_field or "text", args.input, "--text-field")
    else:
        texts = read_texts(args.texts, args.input)
    predictor = load_predictor(args.checkpoint, args.backend, args.device, args.beam_size)
    pairs = None
    if predictor.takes_pairs and jsonl:
        if args.pair_field is None:
            raise UserError("this checkpoint classifies text pairs: name the second text's field with --pair-field")
        pairs = field_of(records, args.pair_field, args.input, "--pair-field")
    elif predictor.takes_pairs:
        texts, pairs = split_pairs(texts)
    records_out = predictor.predict(texts, args.batch_size, pairs)
    for record in records_out:
        print(json.dumps(record, ensure_ascii=False))
    truncated = sum(bool(record.get("truncated")) for record in records_out)
    if truncated:
        log.warning('%d text(s) were longer than the model takes and were truncated (see "truncated")', truncated)
    return 0


if __name__ == "__main__":
    sys.exit(main())

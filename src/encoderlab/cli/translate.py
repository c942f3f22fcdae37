"""Translate lines with a trained checkpoint: `encoderlab translate CKPT [--input FILE] [--beam-size 5] < lines`.

One translation per input line on stdout, in input order (batched by length internally). Empty lines stay empty;
lines longer than the model takes are truncated, with a warning on stderr naming them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.cli.text_input import add_shared_arguments, read_input_lines
from encoderlab.inference.translate import load_translator, translate_lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("translate", __doc__)
    parser.add_argument("checkpoint", help="a .ckpt from a translation run (best or last)")
    add_shared_arguments(
        parser,
        input_help="file with one sentence per line ('-': stdin)",
        beam_help="1 = greedy; default: the task's test beam size",
    )
    return parser.parse_args(argv)


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    task = load_translator(args.checkpoint, args.device)
    lines = read_input_lines(args.input)
    for translation in translate_lines(task, lines, args.batch_size, args.beam_size):
        print(translation)
    return 0


if __name__ == "__main__":
    sys.exit(main())

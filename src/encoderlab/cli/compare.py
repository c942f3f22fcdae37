"""Compare finished runs: `encoderlab compare SWEEP_DIR [SWEEP_DIR ...] [--out DIR] [--metric val/acc_best]`.

Reads every run dir (a folder with `summary.json`) under the given sweep dirs, without a W&B account, and writes
`report.md` (a table per model: parameters, score mean ± std over seeds, train time, tokens/s, peak memory) and PNG
figures into `--out` (default `<first sweep dir>/report`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.report.build import build_report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("compare", __doc__)
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep dirs (or any folders holding run dirs)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <first sweep>/report)")
    parser.add_argument("--metric", default=None, help="rank by this metric (default: val/acc_best, or the F1/BLEU)")
    return parser.parse_args(argv)


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = build_report(args.sweeps, args.out, args.metric)
    print(report.path.read_text().split("\n## ")[0])
    print(f"wrote {report.path} and {len(report.figures)} figure(s) in {report.path.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

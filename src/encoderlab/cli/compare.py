"""Compare finished runs: `encoderlab-compare SWEEP_DIR [SWEEP_DIR ...] [--out DIR] [--metric val/acc_best]`.

Reads every run dir (a folder with `summary.json`) under the given sweep dirs, without a W&B account, and writes
`report.md` (a table per model: parameters, score mean ± std over seeds, train time, tokens/s, peak memory) and PNG
figures into `--out` (default `<first sweep dir>/report`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from encoderlab.errors import UserError
from encoderlab.report.build import build_report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="encoderlab-compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep dirs (or any folders holding run dirs)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <first sweep>/report)")
    parser.add_argument("--metric", default=None, help="rank by this metric (default: val/acc_best, or the F1/BLEU)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        report = build_report(args.sweeps, args.out, args.metric)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    print(report.path.read_text().split("\n## ")[0])
    print(f"wrote {report.path} and {len(report.figures)} figure(s) in {report.path.parent}")


if __name__ == "__main__":
    main()

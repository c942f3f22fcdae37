"""`encoderlab-convert-bert to-hf ENCODER_DIR OUT` / `from-hf HF_DIR OUT`: our BERT encoder <-> HF `BertModel`."""

from __future__ import annotations

import argparse
import sys

from encoderlab.errors import UserError
from encoderlab.interop.hf_bert import export_hf, import_hf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="encoderlab-convert-bert", description=__doc__)
    parser.add_argument("direction", choices=("to-hf", "from-hf"))
    parser.add_argument("source", help="an encoder folder (to-hf) or an HF BERT folder (from-hf)")
    parser.add_argument("output", help="the folder to write")
    args = parser.parse_args(argv)
    try:
        out = (export_hf if args.direction == "to-hf" else import_hf)(args.source, args.output)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    use = "BertModel.from_pretrained" if args.direction == "to-hf" else "python train.py ... model.pretrained="
    print(f"wrote {out} ({use}{'' if args.direction == 'to-hf' else out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

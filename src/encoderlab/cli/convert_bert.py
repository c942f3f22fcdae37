"""`encoderlab convert to-hf ENCODER_DIR OUT` / `from-hf HF_DIR OUT`: our BERT encoder <-> HF `BertModel`."""

from __future__ import annotations

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.interop.hf_bert import export_hf, import_hf


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = command_parser("convert", __doc__)
    parser.add_argument("direction", choices=("to-hf", "from-hf"))
    parser.add_argument("source", help="an encoder folder (to-hf) or an HF BERT folder (from-hf)")
    parser.add_argument("output", help="the folder to write")
    args = parser.parse_args(argv)
    out = (export_hf if args.direction == "to-hf" else import_hf)(args.source, args.output)
    use = "BertModel.from_pretrained" if args.direction == "to-hf" else "encoderlab train ... model.pretrained="
    print(f"wrote {out} ({use}{'' if args.direction == 'to-hf' else out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export a classification or NER checkpoint to ONNX: `encoderlab export CKPT --output-dir DIR [--int8] [--prune P]`.

With `--hf`, a Transformer (BERT) checkpoint also goes to `DIR/hf/`, a folder HF transformers' `AutoModel` and
`AutoTokenizer` read (LoRA adapters merged), with a model card (`README.md`); a classifier with BERT's head loads as
`BertForSequenceClassification` with its labels (`interop/hf_classifier.py`).

Writes `model.onnx` (encoder + head, dynamic batch and length; inputs `input_ids`, `attention_mask` and, for models
that read segment ids, `token_type_ids`, int64; output `logits`), with `--int8` also `model.int8.onnx` (ONNX Runtime
dynamic quantization), and beside them `tokenizer.json` and `config.json` (task, label names, pad id, and for
classifiers the encoding spec that `data.encoding.encode` takes: truncation, text pairs, lengths), so the folder alone
is enough to predict. The export is checked on random padded inputs: ONNX Runtime must match PyTorch to 1e-4, or
the command fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.data.encoding import EncodingSpec
from encoderlab.errors import UserError
from encoderlab.inference.checkpoint import load_task
from encoderlab.inference.compression import prune_magnitude, quantize_onnx_int8
from encoderlab.inference.onnx_export import OPSET, export_onnx, input_names, max_difference
from encoderlab.interop.hf_bert import export_hf
from encoderlab.interop.hf_folder import finish_hf_folder
from encoderlab.interop.pretrained import save_encoder
from encoderlab.models.contract import Encoder
from encoderlab.tasks.base import Task
from encoderlab.tasks.token_classification import TokenClassificationTask

TOLERANCE = 1e-4


def export_hf_encoder(task: Task, checkpoint: str, output_dir: Path) -> Path:
    """The checkpoint's encoder as an HF `BertModel` folder, through our encoder-folder format."""
    try:
        encoder = task.encoder_for_export()
    except TypeError:
        encoder = None
    if not isinstance(encoder, Encoder) or type(encoder).__name__ != "TransformerEncoder":
        raise UserError(f"{checkpoint} holds no Transformer encoder; --hf exports BERT-style models (model=bert_*)")
    assert task.tokenizer_json is not None  # load_task restores it
    with tempfile.TemporaryDirectory() as tmp:
        encoder_dir = save_encoder(tmp, encoder, task.tokenizer_json, task.hparams["model"]["name"])
        hf_dir = export_hf(encoder_dir, output_dir / "hf")
    finish_hf_folder(hf_dir, task, checkpoint)
    return hf_dir


def export(checkpoint: str, output_dir: Path, int8: bool = False, prune: float | None = None, hf: bool = False) -> dict:
    kind, task = load_task(checkpoint)
    assert task.tokenizer_json is not None  # load_task restores it
    if kind == "translation":
        raise UserError(f"{checkpoint} is a translation checkpoint; ONNX export covers classification and NER")
    if isinstance(task, TokenClassificationTask) and task.char_vocabulary is not None:
        raise UserError(
            f"{checkpoint} reads character features (model.char_encoder), which the ONNX export does not carry yet; "
            "predict and serve it with --backend torch or int8"
        )
    hf_dir = export_hf_encoder(task, checkpoint, output_dir) if hf else None
    net = prune_magnitude(task.net, prune) if prune else task.net
    output_dir.mkdir(parents=True, exist_ok=True)
    path = export_onnx(net, output_dir / "model.onnx")
    difference = max_difference(net, path, task.hparams["vocab_size"])
    if difference > TOLERANCE:
        raise UserError(f"ONNX Runtime differs from PyTorch by {difference:.2e} (> {TOLERANCE}); the export is wrong")
    (output_dir / "tokenizer.json").write_text(task.tokenizer_json)
    encoding = None
    if kind == "classification":
        encoding = task.encoding_spec or EncodingSpec.of_tokenizer(Tokenizer.from_str(task.tokenizer_json))
    config = {
        "checkpoint": str(checkpoint),
        "task": kind,
        "model": task.hparams["model"]["name"],
        "label_names": list(task.hparams["label_names"]),
        "pad_id": task.hparams["pad_id"],
        "crf": bool(task.hparams.get("crf", False)),  # NER with a CRF: decode the ONNX emissions with Viterbi
        "inputs": input_names(path),
        "encoding": encoding.to_dict() if encoding is not None else None,
        "output": "logits",
        "opset": OPSET,
        "pruned": prune,
        "parity_max_abs_diff": difference,
        "files": ["model.onnx"],
    }
    if int8:
        quantize_onnx_int8(path, output_dir / "model.int8.onnx")
        config["files"].append("model.int8.onnx")
    if hf_dir is not None:
        config["files"].append("hf/")
    (output_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("export", __doc__)
    parser.add_argument("checkpoint", help="a .ckpt from a classification or NER run")
    parser.add_argument("--output-dir", "-o", required=True, help="folder for model.onnx, tokenizer.json, config.json")
    parser.add_argument("--int8", action="store_true", help="also write model.int8.onnx")
    parser.add_argument("--prune", type=float, default=None, help="zero this fraction of weights by magnitude first")
    parser.add_argument("--hf", action="store_true", help="also write the encoder as an HF BertModel folder, DIR/hf/")
    return parser.parse_args(argv)


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.prune is not None and not 0.0 < args.prune < 1.0:
        raise UserError(f"--prune is a fraction of the weights, strictly between 0 and 1; got {args.prune}")
    config = export(args.checkpoint, Path(args.output_dir), args.int8, args.prune, args.hf)
    files = ", ".join(config["files"])
    print(f"wrote {files} to {args.output_dir} (max |ONNX - PyTorch| = {config['parity_max_abs_diff']:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

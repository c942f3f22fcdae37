"""Accuracy, latency and size of a classifier checkpoint: fp32 vs int8 vs ONNX (vs pruned), as a results table.

`encoderlab compress CKPT [CKPT ...] --data data/sst2/validation.tsv.gz --output results/x.json` scores every
variant (see `inference/variants.py`) on the labelled file, times the model on fixed batches in file order (after
one warm-up batch, over `--repeats` passes; tokenization is done once beforehand and not timed), and writes a JSON
record with the command, commit, device, threads and wall time, plus a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.cli.run_record import RunRecord, write_record
from encoderlab.data.collate import pad_sequences
from encoderlab.data.encoding import EncodingSpec, encode
from encoderlab.data.table_format import read_columns
from encoderlab.errors import UserError
from encoderlab.inference.checkpoint import load_task
from encoderlab.inference.scorers import Scorer
from encoderlab.inference.variants import variants


def read_labelled(path: Path, text_column: str, label_column: str, label_names: list[str]) -> tuple[list, list]:
    """Texts and label ids; labels in the file may be ids (`0`, `1`) or names (`positive`)."""
    columns = read_columns(path, [text_column, label_column])
    index = {name: i for i, name in enumerate(label_names)}
    labels = []
    for value in columns[label_column]:
        if value in index:
            labels.append(index[value])
        elif value.isdigit() and int(value) < len(label_names):
            labels.append(int(value))
        else:
            raise UserError(f"label {value!r} in {path} is neither a label name ({', '.join(label_names)}) nor an id")
    return columns[text_column], labels


def measure(
    scorer: Scorer, batches: list[tuple[torch.Tensor, torch.Tensor]], labels: list[int], repeats: int
) -> dict[str, float]:
    """Accuracy from the first pass; latency per batch pooled over `repeats` passes (a shared CPU is noisy)."""
    scorer(*batches[0])  # warm-up: first-call allocations and lazy initialisation are not latency
    seconds, predictions = [], []
    for repeat in range(repeats):
        for input_ids, attention_mask in batches:
            started = time.perf_counter()
            logits = scorer(input_ids, attention_mask)
            seconds.append(time.perf_counter() - started)
            if repeat == 0:
                predictions += logits.argmax(-1).tolist()
    correct = sum(p == y for p, y in zip(predictions, labels, strict=True))
    return {
        "accuracy": round(correct / len(labels), 4),
        "latency_ms_mean": round(1000 * statistics.mean(seconds), 2),
        "latency_ms_p50": round(1000 * statistics.median(seconds), 2),
        "latency_ms_p90": round(1000 * statistics.quantiles(seconds, n=10)[-1], 2),
        "pass_sec": round(sum(seconds) / repeats, 2),
    }


def benchmark(checkpoint: str, args: argparse.Namespace) -> dict[str, Any]:
    kind, task = load_task(checkpoint)
    if kind != "classification":
        raise UserError(f"{checkpoint} is a {kind} checkpoint; the benchmark scores classifiers")
    assert task.tokenizer_json is not None  # load_task restores it
    tokenizer = Tokenizer.from_str(task.tokenizer_json)
    spec = task.encoding_spec or EncodingSpec.of_tokenizer(tokenizer)
    if spec.text_pair:
        raise UserError(f"{checkpoint} classifies text pairs; the benchmark reads one text column")
    texts, labels = read_labelled(Path(args.data), args.text_column, args.label_column, task.hparams["label_names"])
    ids = encode(tokenizer, spec, texts).input_ids  # as the run encoded its own data (head_tail, lengths)
    batches = [
        pad_sequences(ids[i : i + args.batch_size], task.hparams["pad_id"]) for i in range(0, len(ids), args.batch_size)
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="encoderlab-bench-") as folder:
        for variant in variants(task.net, Path(folder), args.prune):
            row = {
                "variant": variant.name,
                "size_mb": round(variant.size_bytes / 2**20, 2),
                **measure(variant.scorer, batches, labels, args.repeats),
            }
            print(f"  {task.hparams['model']['name']} {row}", file=sys.stderr, flush=True)
            rows.append(row)
    return {"checkpoint": checkpoint, "model": task.hparams["model"]["name"], "examples": len(texts), "variants": rows}


def markdown(results: list[dict[str, Any]], batch_size: int) -> str:
    lines = [
        f"| model | variant | accuracy | latency / batch of {batch_size} (mean, p50) | size |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results:
        for row in result["variants"]:
            lines.append(
                f"| {result['model']} | {row['variant']} | {100 * row['accuracy']:.2f} % | "
                f"{row['latency_ms_mean']:.1f} / {row['latency_ms_p50']:.1f} ms | {row['size_mb']:.1f} MB |"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("compress", __doc__)
    parser.add_argument("checkpoints", nargs="+", help="classification .ckpt files")
    parser.add_argument("--data", default="data/sst2/validation.tsv.gz", help="labelled CSV/TSV/JSONL (.gz) file")
    parser.add_argument("--text-column", default="sentence")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the data")
    parser.add_argument("--prune", type=float, default=None, help="also measure magnitude pruning of this fraction")
    parser.add_argument("--output", default=None, help="write the JSON record here (e.g. results/...json)")
    return parser.parse_args(argv)


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run = RunRecord("encoderlab compress", argv)
    if min(args.batch_size, args.repeats) < 1:
        raise UserError(f"--batch-size and --repeats must be at least 1, got {args.batch_size}, {args.repeats}")
    if args.prune is not None and not 0.0 < args.prune < 1.0:
        raise UserError(f"--prune is a fraction of the weights, strictly between 0 and 1; got {args.prune}")
    results = [benchmark(checkpoint, args) for checkpoint in args.checkpoints]
    record = {
        **run.header(),
        "torch_threads": torch.get_num_threads(),
        "batch_size": args.batch_size,
        "data": args.data,
        "repeats": args.repeats,
        "timing": "model call only, batches in file order, after one warm-up batch, pooled over the repeats",
        "wall_time_sec": run.wall_time_sec(),
        "results": results,
    }
    print(markdown(results, args.batch_size))
    write_record(args.output, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The subcommands of `encoderlab`: where each one's code lives, its one-line summary and examples. Plain data, so
`encoderlab --help` lists them without importing torch; each subcommand's own `--help` shows its examples too."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str
    summary: str
    examples: tuple[str, ...]
    hydra: bool = False  # `main` is a `@hydra.main`: it reads its overrides from sys.argv
    function: str = "main"  # takes argv, returns the exit code


CKPT = "logs/bert_small-sst2/runs/<run>/checkpoints/<best>.ckpt"

COMMANDS: dict[str, Command] = {
    "train": Command(
        "encoderlab.cli.train",
        "train an encoder (Hydra overrides: model=... data=... key=value)",
        (
            "encoderlab train model=bilstm data=sst2 trainer.max_epochs=5",
            "encoderlab train debug=fdr                          # one batch of each split: does it run?",
            "encoderlab train -m model=lstm,bilstm seed=1,2,3    # a sweep",
            "encoderlab train --config-dir my_conf experiment=mine   # your configs beside ours",
        ),
        hydra=True,
    ),
    "predict": Command(
        "encoderlab.cli.predict",
        "predict with a checkpoint: JSON lines on stdout",
        (
            f"encoderlab predict {CKPT} 'a gripping, funny film' 'dull'",
            f"encoderlab predict {CKPT} --input texts.txt",
            f"encoderlab predict {CKPT} --input docs.jsonl --text-field text",
        ),
    ),
    "translate": Command(
        "encoderlab.cli.translate",
        "translate lines with a seq2seq checkpoint",
        ("encoderlab translate logs/transformer_seq2seq-multi30k/runs/<run>/checkpoints/last.ckpt < de.txt",),
    ),
    "export": Command(
        "encoderlab.cli.export",
        "export a checkpoint to ONNX (+ int8, + an HF BertModel folder)",
        (f"encoderlab export {CKPT} --output-dir exported --int8",),
    ),
    "serve": Command(
        "encoderlab.cli.serve",
        "serve a checkpoint over HTTP on 127.0.0.1",
        (
            f"encoderlab serve {CKPT} --port 8000",
            'curl -s localhost:8000/predict -d \'{"texts": ["a gripping film"]}\'',
        ),
    ),
    "loadtest": Command(
        "encoderlab.cli.loadtest",
        "load-test a served checkpoint on loopback",
        (f"encoderlab loadtest {CKPT} --concurrency 8 --requests 2000",),
    ),
    "bench": Command(
        "encoderlab.cli.bench",
        "speed against HF / torch.nn.Transformer / cuDNN peers",
        ("encoderlab bench --size tiny --cases mlm",),
        function="cli",
    ),
    "compare": Command(
        "encoderlab.cli.compare",
        "table and plots of finished runs",
        ("encoderlab compare logs/multiruns/<date>_<time>_<id> --out report",),
    ),
    "baseline": Command(
        "encoderlab.cli.baseline",
        "the TF-IDF + linear classifier peer (Hydra overrides)",
        ("encoderlab baseline data=bbc_news",),
        hydra=True,
    ),
    "convert": Command(
        "encoderlab.cli.convert_bert",
        "our BERT encoder folder <-> an HF BertModel folder",
        (
            "encoderlab convert to-hf logs/bert_mini-enwiki/runs/<run>/encoder hf_bert",
            "encoderlab convert from-hf bert-base-uncased-local my_encoder",
        ),
    ),
    "compress": Command(
        "encoderlab.cli.compression",
        "accuracy, latency and size: fp32 vs int8 vs ONNX",
        (f"encoderlab compress {CKPT} --prune 0.3 --output results/compression.json",),
    ),
}


def examples_text(name: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in COMMANDS[name].examples)


def command_parser(name: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `encoderlab <name>`: the module docstring's first paragraph above, the examples below."""
    description = (doc or COMMANDS[name].summary).split("\n\n")[0]
    return argparse.ArgumentParser(
        prog=f"encoderlab {name}",
        description=description,
        epilog=examples_text(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

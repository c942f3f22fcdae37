"""The translation task through the real pipeline: real Trainer, tokenizer, sacreBLEU, on tiny Multi30k-format files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from encoderlab.inference.translate import load_translator, translate_lines
from encoderlab.training.run import train
from tests.conftest import SMALL_MODEL_OVERRIDES, toy_parallel_sentences, write_multi30k

SEQ2SEQ = ["transformer_seq2seq", "lstm_seq2seq"]
# byte-level BPE starts from 256 symbols; 400 leaves room for the toy lexicon's words
TRANSLATION = ["data=multi30k", "data.tokenizer.vocab_size=400"]


@pytest.mark.parametrize("model", SEQ2SEQ)
def test_fast_dev_run_trains_each_seq2seq_model(make_cfg, model: str) -> None:
    metrics = train(make_cfg(f"model={model}", *TRANSLATION, "debug=fdr", *SMALL_MODEL_OVERRIDES[model]))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    assert 0.0 <= metrics["test/bleu"] <= 100.0 and 0.0 <= metrics["test/chrf"] <= 100.0
    assert 0.0 <= metrics["test/acc"] <= 1.0 and metrics["test/ppl"] > 1.0
    # beam 5 gives test/bleu; the greedy decode beside it is reported too, each with its decoding speed
    assert 0.0 <= metrics["test/bleu_beam1"] <= 100.0 and 0.0 <= metrics["test/chrf_beam1"] <= 100.0
    assert metrics["test/sentences_per_sec_beam1"] > 0 and metrics["test/sentences_per_sec_beam5"] > 0


MEMORISE = {
    "transformer_seq2seq": [
        "model.lr=3e-3",
        "model.net.hidden_size=64",
        "model.net.num_heads=4",
        "model.net.intermediate_size=128",
        "model.net.encoder_layers=2",
        "model.net.decoder_layers=2",
        "model.net.dropout=0.0",
        "model.net.attention_dropout=0.0",
    ],
    "lstm_seq2seq": [
        "model.lr=1e-2",
        "model.net.embedding_size=128",
        "model.net.hidden_size=128",
        "model.net.decoder_hidden_size=128",
        "model.net.dropout=0.0",
        "model.net.embedding_dropout=0.0",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("model", SEQ2SEQ)
def test_each_model_memorises_32_sentence_pairs_to_bleu_above_90(make_cfg, tmp_path: Path, model: str) -> None:
    data_dir = write_multi30k(tmp_path / "pairs", train=32, same_splits=True)
    cfg = make_cfg(
        f"model={model}",
        *TRANSLATION,
        *MEMORISE[model],
        "data.batch_size=8",  # 4 steps per epoch: Lightning's per-epoch overhead is paid 4x less often
        "task.label_smoothing=0.0",
        "scheduler=constant",
        "trainer.max_epochs=60",
        "trainer.check_val_every_n_epoch=20",
        "~callbacks.early_stopping",
        data_dir=data_dir,
    )
    metrics = train(cfg)
    assert metrics["val/bleu_best"] > 90, metrics
    assert metrics["test/bleu"] > 90 and metrics["test/chrf"] > 90, metrics

    # the best checkpoint alone translates the training sentences back
    summary = json.loads((Path(cfg.paths.output_dir) / "summary.json").read_text())
    assert summary["sacrebleu_signatures"]["bleu"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    task = load_translator(summary["best_checkpoint"])
    pairs = toy_parallel_sentences(32, seed=0)
    translations = list(translate_lines(task, pairs["en"][:8], batch_size=3, beam_size=3))
    assert sum(t == r for t, r in zip(translations, pairs["de"][:8], strict=True)) >= 7, translations


def translate_cli(*args: str, stdin: str | bytes) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "encoderlab.cli.translate", *args]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(command, input=data, env=env, capture_output=True, timeout=300)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
    )


@pytest.mark.slow
def test_translate_cli_keeps_one_line_per_input_with_empty_and_overlong_lines(make_cfg) -> None:
    cfg = make_cfg(
        "model=transformer_seq2seq",
        *TRANSLATION,
        *SMALL_MODEL_OVERRIDES["transformer_seq2seq"],
        "model.net.max_position=24",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "test=false",
    )
    train(cfg)
    checkpoint = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    lines = ["A small dog sees the ball.", "", "   ", " ".join(["the happy old man"] * 40), "The child holds a ball."]
    result = translate_cli(str(checkpoint), "--batch-size", "2", "--beam-size", "2", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = result.stdout.split("\n")[:-1]
    assert len(outputs) == len(lines)
    assert outputs[1] == outputs[2] == ""
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "line 4 is longer than the model's maximum" in warnings[0]

    result = translate_cli(str(checkpoint), stdin="")
    assert result.returncode == 0 and result.stdout == "", "no input, no output, no hang"

    garbage = bytes(range(256)) * 40 + b"\n\x00\xff\xfe\n" + b"A dog.\n"  # binary, NULs, invalid UTF-8
    result = translate_cli(str(checkpoint), "--beam-size", "2", stdin=garbage)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(result.stdout.split("\n")[:-1]) == len(garbage.decode("utf-8", errors="replace").splitlines())


def test_translate_cli_missing_checkpoint_is_one_line(tmp_path: Path) -> None:
    result = translate_cli(str(tmp_path / "nope.ckpt"), stdin="hello\n")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: no checkpoint at") and "Traceback" not in result.stderr

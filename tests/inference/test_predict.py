"""`encoderlab-predict` on tiny checkpoints of each task: labels with probabilities, entity spans, translations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from encoderlab.cli.predict import main as predict_main
from encoderlab.inference.predictor import load_predictor

POSITIVE_TEXTS = ["a wonderful and charming film", "the cast is superb , the story moving"]
NEGATIVE_TEXTS = ["a dull and tedious movie", "the plot is bland and lifeless"]


def predict_lines(capsys: pytest.CaptureFixture, *argv: str) -> list[dict]:
    assert predict_main(list(argv)) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_classifier_prints_label_names_with_probabilities_in_input_order(
    sst2_checkpoint: Path, capsys: pytest.CaptureFixture
) -> None:
    texts = [POSITIVE_TEXTS[0], NEGATIVE_TEXTS[0], POSITIVE_TEXTS[1], NEGATIVE_TEXTS[1]]
    records = predict_lines(capsys, str(sst2_checkpoint), *texts, "--batch-size", "3")
    assert [r["text"] for r in records] == texts
    assert [r["label"] for r in records] == ["positive", "negative", "positive", "negative"]
    for record in records:
        assert set(record["probabilities"]) == {"negative", "positive"}
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert record["score"] == max(record["probabilities"].values()) > 0.5


def test_predict_reads_stdin_skips_blank_lines_and_survives_binary(sst2_checkpoint: Path) -> None:
    stdin = ("\n".join([POSITIVE_TEXTS[0], "", "   ", NEGATIVE_TEXTS[0]]) + "\n").encode() + b"\xff\xfe\x00 bad bytes\n"
    result = subprocess.run(
        [sys.executable, "-m", "encoderlab.cli.predict", str(sst2_checkpoint)],
        input=stdin,
        capture_output=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["label"] for r in records[:2]] == ["positive", "negative"]
    assert len(records) == 3 and "\ufffd" in records[2]["text"]
    assert "warning: skipped 2 blank line(s)" in result.stderr.decode()


def test_ner_prints_word_tags_and_entity_spans_with_offsets(ner_checkpoint: Path, tmp_path: Path, capsys) -> None:
    texts = ["Peter Blackburn visited Brussels today .", "Reuters reported on the European Commission", "3.5"]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    records = predict_lines(capsys, str(ner_checkpoint), "--input", str(tmp_path / "in.txt"))
    first = records[0]
    assert first["words"] == ["Peter", "Blackburn", "visited", "Brussels", "today", "."]
    assert len(first["tags"]) == len(first["scores"]) == 6
    assert {(e["type"], e["text"]) for e in first["entities"]} == {("PER", "Peter Blackburn"), ("LOC", "Brussels")}
    for record in records:
        for entity in record["entities"]:
            assert record["text"][entity["start"] : entity["end"]] == entity["text"]
    assert ("ORG", "European Commission") in {(e["type"], e["text"]) for e in records[1]["entities"]}
    assert records[2]["entities"] == []


def test_translation_checkpoint_gives_one_translation_per_text(translation_checkpoint: Path) -> None:
    predictor = load_predictor(translation_checkpoint, beam_size=2)
    records = predictor.predict(["A small dog sees the ball.", "The man holds a ball."], batch_size=1)
    assert [r["text"] for r in records] == ["A small dog sees the ball.", "The man holds a ball."]
    assert all(isinstance(r["translation"], str) for r in records)


def test_checkpoint_without_label_names_falls_back_to_indices(sst2_checkpoint: Path, tmp_path: Path, capsys) -> None:
    checkpoint = torch.load(sst2_checkpoint, map_location="cpu", weights_only=False)
    del checkpoint["hyper_parameters"]["label_names"]
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    records = predict_lines(capsys, str(old), POSITIVE_TEXTS[0])
    assert records[0]["label"] == "1" and set(records[0]["probabilities"]) == {"0", "1"}


def test_bad_checkpoints_and_inputs_are_one_line_errors(sst2_checkpoint: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    torch.save({"state_dict": {}, "hyper_parameters": {"mlm_probability": 0.15}}, tmp_path / "other.ckpt")
    cases = {
        (str(tmp_path / "missing.ckpt"), "hi"): "no checkpoint at",
        (str(tmp_path / "junk.ckpt"), "hi"): "can't be read",
        (str(tmp_path / "other.ckpt"), "hi"): "was not written by a classification, NER or translation run",
        (str(sst2_checkpoint), "--input", str(tmp_path / "none.txt")): "no input file",
        (str(sst2_checkpoint), "hi", "--batch-size", "0"): "--batch-size must be at least 1",
    }
    for argv, message in cases.items():
        assert predict_main(list(argv)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err

"""`encoderlab predict` reads JSON Lines (`--input docs.jsonl --text-field text`), so documents that span lines need
no flattening, and takes its options before, between or after the texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from encoderlab.cli.predict import main as predict_main

POSITIVE = "a wonderful and charming film"
NEGATIVE = "a dull and tedious movie"


def predictions(capsys: pytest.CaptureFixture, *argv: str) -> list[dict]:
    assert predict_main(list(argv)) == 0, capsys.readouterr().err
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_jsonl_documents_keep_their_newlines_and_order(sst2_checkpoint: Path, tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs.jsonl"
    rows = [{"id": 1, "body": f"{POSITIVE}\n\n{POSITIVE}"}, {"id": 2, "body": NEGATIVE}]
    docs.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n")
    records = predictions(capsys, str(sst2_checkpoint), "--input", str(docs), "--text-field", "body")
    assert [r["text"] for r in records] == [rows[0]["body"], NEGATIVE]
    assert [r["label"] for r in records] == ["positive", "negative"]


def test_a_jsonl_file_defaults_to_the_text_field(sst2_checkpoint: Path, tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": NEGATIVE}) + "\n")
    assert [r["label"] for r in predictions(capsys, str(sst2_checkpoint), "-i", str(docs))] == ["negative"]


def test_a_missing_field_is_one_line_naming_the_line_and_fields(sst2_checkpoint: Path, tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"text": POSITIVE}) + "\n" + json.dumps({"body": NEGATIVE}) + "\n")
    assert predict_main([str(sst2_checkpoint), "--input", str(docs)]) == 2
    assert (
        capsys.readouterr().err == f"error: {docs} line 2 has no text field 'text' (fields: body); set --text-field\n"
    )


def test_options_may_come_after_or_between_the_texts(sst2_checkpoint: Path, capsys) -> None:
    records = predictions(capsys, str(sst2_checkpoint), POSITIVE, "--batch-size", "1", NEGATIVE, "--device", "cpu")
    assert [r["text"] for r in records] == [POSITIVE, NEGATIVE]
    assert [r["label"] for r in records] == ["positive", "negative"]

"""The notebooks run top to bottom on a tiny real sweep (and its bert_tiny checkpoint), and are kept without outputs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"


def execute(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> tuple[str, int]:
    """All text the cells printed or displayed, and the number of PNG images they displayed."""
    texts, images = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            data = output.get("data", {})
            texts.append(data.get("text/plain", "") + data.get("text/markdown", "") + data.get("text/html", ""))
            images += "image/png" in data
    return "\n".join(texts), images


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_kept_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"strip the outputs of {path.name}"


def test_compare_encoders_notebook_tabulates_and_plots_a_sweep(tiny_sweep: Path, monkeypatch) -> None:
    monkeypatch.setenv("ENCODERLAB_SWEEP", str(tiny_sweep))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    text, images = outputs(execute("compare_encoders.ipynb"))
    assert "2 finished runs" in text
    assert "| `bilstm_attn` | sst2 |" in text and "| `bert_tiny` | sst2 |" in text
    assert images == 3, "accuracy vs parameters, vs training time, learning curves"


def test_inside_a_model_notebook_shows_attention_and_neighbours(tiny_sweep: Path, monkeypatch) -> None:
    summaries = [json.loads(p.read_text()) for p in tiny_sweep.glob("*/summary.json")]
    checkpoint = next(s["best_checkpoint"] for s in summaries if s["model"] == "bert_tiny")
    monkeypatch.setenv("ENCODERLAB_CHECKPOINT", checkpoint)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    text, images = outputs(execute("inside_a_model.ipynb"))
    assert "bert_tiny:" in text and "a charming and moving film" in text
    assert images == 4 + 1, "one attention figure per sentence, one of every head"
    assert "great: [(" in text, "nearest tokens of a word in the vocabulary"

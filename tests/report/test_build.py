"""The comparison report from fixture runs: table values, figures, unfinished runs, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from encoderlab.cli.compare import main
from encoderlab.report.build import build_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# (model, seed, val/acc_best, test/acc, params, train/time_sec, tokens/s, peak MB)
FIXTURE_RUNS = [
    ("lstm", 1, 0.80, 0.79, 4_000_000, 100.0, 5000.0, 700.0),
    ("lstm", 2, 0.82, 0.81, 4_000_000, 110.0, 5200.0, 710.0),
    ("lstm", 3, 0.84, 0.83, 4_000_000, 120.0, 5400.0, 720.0),
    ("bert_mini", 1, 0.70, 0.71, 11_000_000, 300.0, 2000.0, 900.0),
    ("bert_mini", 2, 0.75, 0.74, 11_000_000, 340.0, 2100.0, 920.0),
]


def write_run(folder: Path, model: str, seed: int, val: float, test: float, params: int, *speed: float) -> None:
    train_time, tokens, memory = speed
    folder.mkdir(parents=True)
    metrics = {
        "val/acc_best": val,
        "test/acc": test,
        "train/time_sec": train_time,
        "train/tokens_per_sec": tokens,
        "train/peak_memory_mb": memory,
    }
    summary = {"model": model, "data": "sst2", "seed": seed, "params_total": params, "wall_time_sec": 1.0}
    (folder / "summary.json").write_text(json.dumps({**summary, "metrics": metrics}))
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "config.yaml").write_text(f"seed: {seed}\n")
    (folder / ".hydra" / "overrides.yaml").write_text(f"- model={model}\n- seed={seed}\n- trainer.max_epochs=3\n")
    (folder / "csv").mkdir()
    rows = ["epoch,step,train/loss_step,val/acc", "0,9,0.6,", f"0,10,,{val - 0.1}", f"1,20,,{val - 0.05}"]
    rows.append(f"2,30,,{val}")
    (folder / "csv" / "metrics.csv").write_text("\n".join(rows) + "\n")


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    root = tmp_path / "compare_encoders" / "sst2" / "2026-01-01_00-00-00"
    for model, seed, *values in FIXTURE_RUNS:
        write_run(root / f"{model}_s{seed}", model, seed, *values)
    unfinished = root / "bilstm_attn_s1" / ".hydra"
    unfinished.mkdir(parents=True)
    (unfinished / "config.yaml").write_text("seed: 1\n")
    return root


def table_rows(markdown: str) -> dict[str, list[str]]:
    table = markdown.split("\n\n")[2].splitlines()[2:]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    return {row[0].strip("`"): row for row in cells}


def test_report_tabulates_mean_and_std_over_seeds_and_writes_figures(sweep: Path) -> None:
    report = build_report([sweep])
    assert report.path == sweep / "report" / "report.md"
    markdown = report.path.read_text()
    rows = table_rows(markdown)
    assert list(rows) == ["lstm", "bert_mini"], "best mean score first"
    lstm, bert = rows["lstm"], rows["bert_mini"]
    assert lstm[2:] == ["1, 2, 3", "4.00 M", "82.00 ± 2.00", "81.00 ± 2.00", "110.0 ± 10.0", "5,200 ± 200", "710 ± 10"]
    assert bert[2:5] == ["1, 2", "11.00 M", "72.50 ± 3.54"]  # sample std of 70 and 75
    assert bert[6] == "320.0 ± 28.3"

    assert {p.name for p in report.figures} == {
        "accuracy_vs_params.png",
        "accuracy_vs_train_time.png",
        "learning_curves.png",
    }
    for figure in report.figures:
        data = figure.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
        assert f"]({figure.name})" in markdown
    lstm_s1 = next(run for run in report.runs if run.path.name == "lstm_s1")
    assert lstm_s1.curve("val/acc") == [(0, pytest.approx(0.7)), (1, pytest.approx(0.75)), (2, 0.8)]
    assert report.unfinished == [sweep / "bilstm_attn_s1"]
    assert "bilstm_attn_s1" in markdown.split("## Not finished")[1]
    assert "Every run had `trainer.max_epochs=3`" in markdown


def test_compare_cli_writes_to_out_and_refuses_an_empty_sweep_in_one_line(sweep: Path, tmp_path: Path, capsys) -> None:
    main([str(sweep), "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "report.md").is_file() and "| `lstm` | sst2 |" in capsys.readouterr().out

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty)]) == 2
    error = capsys.readouterr().err
    assert error.strip().count("\n") == 0 and error.startswith("error: no finished runs (summary.json) under")

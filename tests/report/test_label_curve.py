"""The learning-curve report groups finished runs by model, start and labels, and averages over seeds."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from encoderlab.report.label_curve import main


def write_run(root: Path, name: str, seed: int, labels: int, acc: float, **model: str) -> None:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text(yaml.safe_dump({"model": model, "data": {"train_limit": labels}}))
    summary = {"model": "bilstm", "data": "sst2", "seed": seed, "train_examples": labels, "wall_time_sec": 10.0}
    (run / "summary.json").write_text(json.dumps({**summary, "metrics": {"val/acc_best": acc}}))


def test_runs_become_one_point_per_model_start_and_label_count(tmp_path: Path) -> None:
    runs = tmp_path / "curve"
    for seed, (scratch, vectors) in enumerate([(0.70, 0.80), (0.72, 0.84)], start=1):
        write_run(runs, f"scratch_1000_s{seed}", seed, 1000, scratch)
        write_run(runs, f"vectors_1000_s{seed}", seed, 1000, vectors, embeddings="/v")
    write_run(runs, "mlm_67349_s1", 1, 67349, 0.9, pretrained="/e")
    (runs / "running" / ".hydra").mkdir(parents=True)
    (runs / "running" / ".hydra" / "config.yaml").write_text("{}")
    record = main([str(runs), "--out", str(tmp_path / "out" / "curve")])
    rows = {(row["start"], row["labels"]): row for row in record["rows"]}
    assert rows[("scratch", 1000)]["mean"] == 71.0 and rows[("scratch", 1000)]["seeds"] == [1, 2]
    assert abs(rows[("word vectors", 1000)]["std"] - 2.828) < 1e-3
    assert rows[("masked-LM", 67349)]["mean"] == 90.0
    assert record["metrics"]["bilstm/word_vectors/1000/val/acc_best_mean"] == 82.0
    assert {"command", "commit", "device", "model", "data", "metrics"} <= set(record)
    assert record["unfinished"] == [str(runs / "running")]
    for suffix in (".json", ".md", ".png"):
        assert (tmp_path / "out" / f"curve{suffix}").stat().st_size > 0

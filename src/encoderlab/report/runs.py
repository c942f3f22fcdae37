"""Finished runs as plain records: each run dir's `summary.json`, its command-line overrides and its learning curve.

A run dir is any folder holding `summary.json` (written by `encoderlab.training.run.train` when a job finishes). The
learning curve comes from the CSV logger (`csv/metrics.csv`) when the run had one, else from the offline W&B log.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from encoderlab.report.wandb_offline import run_contents


@dataclass
class Run:
    path: Path
    model: str
    data: str
    seed: int
    params: int
    wall_time_sec: float
    metrics: dict[str, float]
    overrides: list[str] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)  # one row per logged step (CSV or W&B)

    def metric(self, name: str) -> float | None:
        return self.metrics.get(name)

    def curve(self, name: str) -> list[tuple[int, float]]:
        """`(epoch, value)` for each logged value of metric `name`, in order (e.g. `val/acc` once per epoch)."""
        points = [(int(row.get("epoch", i)), row[name]) for i, row in enumerate(self.history) if name in row]
        return points


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_csv_history(path: Path) -> list[dict[str, float]]:
    with path.open(newline="") as handle:
        rows = []
        for row in csv.DictReader(handle):
            values = {key: _number(value) for key, value in row.items() if key and value not in (None, "")}
            rows.append({key: value for key, value in values.items() if value is not None})
        return rows


def read_wandb_history(run_dir: Path) -> list[dict[str, float]]:
    logs = sorted(run_dir.glob("wandb/offline-run-*/run-*.wandb"))
    if not logs:
        return []
    rows = run_contents(logs[-1], timeout=10.0)["history"]  # W&B may still be flushing a run that just finished
    return [{k: float(v) for k, v in row.items() if isinstance(v, int | float)} for row in rows]


def read_history(run_dir: Path) -> list[dict[str, float]]:
    csv_file = run_dir / "csv" / "metrics.csv"
    if csv_file.is_file():
        return read_csv_history(csv_file)
    try:
        return read_wandb_history(run_dir)
    except (OSError, ValueError):  # a run still being written, or a log of another W&B version
        return []


def read_overrides(run_dir: Path) -> list[str]:
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    return [str(item) for item in yaml.safe_load(path.read_text()) or []]


def load_run(run_dir: Path) -> Run:
    summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return Run(
        path=run_dir,
        model=str(summary.get("model", "?")),
        data=str(summary.get("data", "?")),
        seed=int(summary.get("seed", 0)),
        params=int(summary.get("params_total", 0)),
        wall_time_sec=float(summary.get("wall_time_sec", 0.0)),
        metrics={k: float(v) for k, v in summary.get("metrics", {}).items()},
        overrides=read_overrides(run_dir),
        history=read_history(run_dir),
    )


def find_run_dirs(root: Path) -> tuple[list[Path], list[Path]]:
    """`(finished, unfinished)` run dirs under `root`: finished ones hold `summary.json`; unfinished ones hold a
    Hydra config but no summary yet (still running, failed or interrupted)."""
    finished = sorted(p.parent for p in root.rglob("summary.json"))
    started = {p.parent.parent for p in root.rglob(".hydra/config.yaml")}
    unfinished = sorted(started - set(finished))
    return finished, unfinished


def load_runs(roots: list[Path]) -> tuple[list[Run], list[Path]]:
    runs: list[Run] = []
    unfinished: list[Path] = []
    for root in roots:
        done, pending = find_run_dirs(root)
        runs += [load_run(path) for path in done]
        unfinished += pending
    return runs, unfinished

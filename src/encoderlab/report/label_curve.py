"""The labelled-data learning curve: validation accuracy against the number of training labels, per model and per
start (from scratch, from word vectors, from a masked-LM encoder), mean ± std over seeds.

    python -m encoderlab.report.label_curve logs/curve --out results/sst2_label_curve_cpu

reads every finished run under the folders given (their `summary.json` and `.hydra/config.yaml`) and writes
`<out>.json` (a `results/` record), `<out>.md` (the table) and `<out>.png` (accuracy against labels, log x).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from matplotlib.figure import Figure

from encoderlab.report.runs import Run, load_runs


def run_config(run: Run) -> dict[str, Any]:
    path = run.path / ".hydra" / "config.yaml"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def start_of(config: dict[str, Any]) -> str:
    model = config.get("model", {})
    if model.get("embeddings"):
        frozen = config.get("finetune", {}).get("method") == "freeze"
        return "word vectors, frozen" if frozen else "word vectors"
    if model.get("pretrained"):
        return "masked-LM"
    return "scratch"


def labels_of(run: Run, config: dict[str, Any]) -> int:
    summary = json.loads((run.path / "summary.json").read_text())
    return int(summary.get("train_examples") or config.get("data", {}).get("train_limit") or 0)


def curve_rows(runs: list[Run], metric: str) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, int], list[Run]] = defaultdict(list)
    for run in runs:
        if metric not in run.metrics:
            continue
        config = run_config(run)
        groups[(run.model, start_of(config), labels_of(run, config))].append(run)
    rows = []
    for (model, start, labels), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][2])):
        scores = [100 * m.metrics[metric] for m in members]
        rows.append(
            {
                "model": model,
                "start": start,
                "labels": labels,
                "seeds": sorted(m.seed for m in members),
                "mean": statistics.fmean(scores),
                "std": statistics.stdev(scores) if len(scores) > 1 else 0.0,
                "scores": scores,
                "wall_time_sec": statistics.fmean(m.wall_time_sec for m in members),
            }
        )
    return rows


def curve_figure(rows: list[dict[str, Any]], metric: str, data: str) -> Figure:
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    lines: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        lines[(row["model"], row["start"])].append(row)
    for index, ((model, start), points) in enumerate(sorted(lines.items())):
        points.sort(key=lambda row: row["labels"])
        axes.errorbar(
            [p["labels"] for p in points],
            [p["mean"] for p in points],
            yerr=[p["std"] for p in points],
            marker="o",
            capsize=3,
            color=f"C{index % 10}",
            linestyle="-" if start == "scratch" else "--" if start.startswith("word vectors") else ":",
            label=f"{model}, {start}",
        )
    axes.set_xscale("log")
    axes.set_xlabel("training labels")
    axes.set_ylabel(f"{metric} (%)")
    axes.set_title(f"{data}: accuracy against labels (mean ± std over seeds)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    return figure


def markdown(rows: list[dict[str, Any]], metric: str) -> str:
    lines = [
        f"| model | start | labels | {metric} mean ± std | seeds | wall (s, mean) |",
        "| --- | --- | ---: | ---: | --- | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| `{row['model']}` | {row['start']} | {row['labels']:,} | {row['mean']:.2f} ± {row['std']:.2f} % | "
            f"{', '.join(map(str, row['seeds']))} | {row['wall_time_sec']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m encoderlab.report.label_curve", description=__doc__.splitlines()[0]
    )
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--metric", default="val/acc_best")
    parser.add_argument("--out", type=Path, required=True, help="path without suffix: .json, .md and .png are written")
    parser.add_argument("--command", default=None, help="the command that produced the runs (for the record)")
    args = parser.parse_args(argv)
    runs, unfinished = load_runs(args.roots)
    rows = curve_rows(runs, args.metric)
    if not rows:
        raise SystemExit(f"error: no finished run with {args.metric} under {', '.join(map(str, args.roots))}")
    from encoderlab.report.provenance import device_description, git_commit

    data = sorted({run.data for run in runs})
    record = {
        "command": args.command or f"python -m encoderlab.report.label_curve {' '.join(map(str, args.roots))}",
        "commit": git_commit(),
        "device": device_description(),
        "model": ",".join(sorted({row["model"] for row in rows})),
        "data": ",".join(data),
        "metrics": {
            f"{row['model']}/{row['start'].replace(' ', '_')}/{row['labels']}/{args.metric}_mean": round(row["mean"], 2)
            for row in rows
        },
        "rows": rows,
        "runs": [str(run.path) for run in runs],
        "unfinished": [str(path) for path in unfinished],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(rows, args.metric))
    curve_figure(rows, args.metric, ",".join(data)).savefig(args.out.with_suffix(".png"), dpi=120)
    print(markdown(rows, args.metric))
    return record


if __name__ == "__main__":
    main()

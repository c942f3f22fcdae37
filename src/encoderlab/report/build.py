"""`build_report(sweep dirs, out)`: the Markdown table, the per-run list and the PNG figures of finished runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from encoderlab.errors import UserError
from encoderlab.report.plots import learning_curves, save, score_scatter
from encoderlab.report.runs import Run, load_runs
from encoderlab.report.table import Row, common_overrides, group_runs, markdown_runs, markdown_table, pick_metric

FIGURES = {
    "params": "accuracy_vs_params.png",
    "train_time": "accuracy_vs_train_time.png",
    "curves": "learning_curves.png",
}


@dataclass
class Report:
    path: Path  # report.md
    rows: list[Row]
    runs: list[Run]
    unfinished: list[Path]
    figures: list[Path]


def optuna_results(roots: list[Path]) -> list[tuple[Path, dict]]:
    """The Optuna sweeper's `optimization_results.yaml` (best parameters and value) of each sweep that has one."""
    found = []
    for root in roots:
        path = root / "optimization_results.yaml"
        if path.is_file():
            found.append((path, yaml.safe_load(path.read_text()) or {}))
    return found


def build_report(roots: list[Path], out: Path | None = None, metric: str | None = None) -> Report:
    roots = [Path(root) for root in roots]
    for root in roots:
        if not root.is_dir():
            raise UserError(f"no sweep directory {root}; pass a folder such as logs/compare_encoders/sst2/<date_time>")
    runs, unfinished = load_runs(roots)
    if not runs:
        raise UserError(
            f"no finished runs (summary.json) under {', '.join(map(str, roots))}"
            + (f"; {len(unfinished)} run(s) have not finished yet" if unfinished else "")
        )
    metric = pick_metric(runs, metric)
    rows = group_runs(runs, metric)
    out = Path(out) if out else roots[0] / "report"
    out.mkdir(parents=True, exist_ok=True)

    figures = [save(score_scatter(rows, "params"), out / FIGURES["params"])]
    if any(row.train_time for row in rows):
        figures.append(save(score_scatter(rows, "train_time"), out / FIGURES["train_time"]))
    curves = learning_curves(runs, metric)
    if curves is not None:
        figures.append(save(curves, out / FIGURES["curves"]))

    lines = [
        "# Encoder comparison",
        "",
        f"Runs from {', '.join(f'`{root}`' for root in roots)}: {len(runs)} finished"
        + (f", {len(unfinished)} not finished (left out)" if unfinished else "")
        + f". Ranked by `{metric}` (best validation score of each run), mean ± sample standard deviation over seeds.",
        "Train time is the training loop only (`train/time_sec`); tokens/s counts real (unpadded) training tokens in "
        "the last epoch; peak memory is CUDA memory allocated on a GPU, the process's peak resident set on a CPU.",
        "",
        markdown_table(rows),
        "",
    ]
    lines += [f"![{figure.stem}]({figure.name})" for figure in figures] + [""]
    for path, results in optuna_results(roots):
        lines += [f"## Optuna: best of `{path.parent.name}`", "", f"best value: {results.get('best_value')}", ""]
        lines += [f"- `{key}={value}`" for key, value in (results.get("best_params") or {}).items()] + [""]
    shared = common_overrides(runs)
    lines += ["## Runs", ""]
    if shared:
        lines += ["Every run had " + " ".join(f"`{o}`" for o in shared) + ".", ""]
    lines += [markdown_runs(runs, metric), ""]
    if unfinished:
        lines += ["## Not finished", ""] + [f"- `{path}`" for path in unfinished] + [""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return Report(report, rows, runs, unfinished, figures)

"""The comparison's figures: score vs parameters, score vs training time, learning curves (matplotlib, no pyplot:
figures are plain `Figure` objects, so nothing depends on a display or a global backend)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from encoderlab.report.runs import Run
from encoderlab.report.table import Row, is_fraction


def _colors(names: list[str]) -> dict[str, str]:
    return {name: f"C{i % 10}" for i, name in enumerate(sorted(set(names)))}


def _scale(metric: str) -> tuple[float, str]:
    return (100.0, f"{metric} (%)") if is_fraction(metric) else (1.0, metric)


def score_scatter(rows: list[Row], x: str) -> Figure:
    """Mean score (± std over seeds) per model against `x`: `params` (log scale) or `train_time`."""
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    colors = _colors([row.model for row in rows])
    metric = rows[0].metric if rows else "val/acc_best"
    scale, label = _scale(metric)
    for row in rows:
        if row.score is None:
            continue
        if x == "params":
            position, spread = float(row.params), None
        else:
            if row.train_time is None:
                continue
            position, spread = row.train_time
        mean, std = row.score
        axes.errorbar(
            position,
            mean * scale,
            yerr=None if std is None else std * scale,
            xerr=spread,
            fmt="o",
            capsize=4,
            color=colors[row.model],
            label=f"{row.model} ({row.data}, n={len(row.runs)})",
        )
        for run in row.runs:  # each seed as a faint dot
            value = run.metric(metric)
            run_x = run.params if x == "params" else run.metric("train/time_sec")
            if value is not None and run_x is not None:
                axes.plot(run_x, value * scale, ".", color=colors[row.model], alpha=0.35)
    if x == "params":
        axes.set_xscale("log")
        axes.set_xlabel("parameters")
        axes.set_title(f"{metric} vs model size")
    else:
        axes.set_xlabel("training time (s)")
        axes.set_title(f"{metric} vs training time")
    axes.set_ylabel(label)
    axes.grid(True, alpha=0.3)
    if rows:
        axes.legend(fontsize="small")
    return figure


def learning_curves(runs: list[Run], metric: str) -> Figure | None:
    """The per-epoch validation metric (`metric` without `_best`) of every run, one colour per model; None when no
    run logged a curve."""
    name = metric.removesuffix("_best")
    curves = [(run, run.curve(name)) for run in runs]
    curves = [(run, points) for run, points in curves if points]
    if not curves:
        return None
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    colors = _colors([run.model for run, _ in curves])
    scale, label = _scale(name)
    labelled: set[str] = set()
    for run, points in sorted(curves, key=lambda item: (item[0].model, item[0].seed)):
        epochs = [epoch + 1 for epoch, _ in points]
        values = [value * scale for _, value in points]
        key = f"{run.model} ({run.data})"
        axes.plot(
            epochs, values, marker="o", color=colors[run.model], alpha=0.8, label=None if key in labelled else key
        )
        labelled.add(key)
    axes.set_xlabel("epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(label)
    axes.set_title(f"{name} per epoch (one line per seed)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    return figure


def save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=120)
    return path

"""Runs grouped by (data, model): mean ± standard deviation over seeds, as rows and as a Markdown table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from encoderlab.report.runs import Run

# metrics in [0, 1] that read better as percentages
FRACTION_METRICS = {"acc", "f1", "precision", "recall", "auroc"}


def is_fraction(metric: str) -> bool:
    return metric.rsplit("/", 1)[-1].removesuffix("_best") in FRACTION_METRICS


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); no deviation from a single value."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


@dataclass
class Row:
    data: str
    model: str
    runs: list[Run]
    metric: str

    def _values(self, name: str) -> list[float]:
        return [value for run in self.runs if (value := run.metric(name)) is not None]

    def stat(self, name: str) -> tuple[float, float | None] | None:
        values = self._values(name)
        return mean_std(values) if values else None

    @property
    def seeds(self) -> list[int]:
        return sorted(run.seed for run in self.runs)

    @property
    def params(self) -> int:
        return max(run.params for run in self.runs)

    @property
    def score(self) -> tuple[float, float | None] | None:
        return self.stat(self.metric)

    @property
    def train_time(self) -> tuple[float, float | None] | None:
        return self.stat("train/time_sec")

    @property
    def tokens_per_sec(self) -> tuple[float, float | None] | None:
        return self.stat("train/tokens_per_sec")

    @property
    def peak_memory_mb(self) -> tuple[float, float | None] | None:
        return self.stat("train/peak_memory_mb")


def pick_metric(runs: list[Run], preferred: str | None) -> str:
    """The metric to rank by: `preferred`, else the first best-so-far validation metric the runs report."""
    if preferred:
        return preferred
    for name in ("val/acc_best", "val/f1_best", "val/bleu_best"):
        if any(run.metric(name) is not None for run in runs):
            return name
    return "val/acc_best"


def group_runs(runs: list[Run], metric: str) -> list[Row]:
    """One row per (data, model), best mean score first."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.data, run.model), []).append(run)
    rows = [Row(data, model, sorted(group, key=lambda r: r.seed), metric) for (data, model), group in groups.items()]
    return sorted(rows, key=lambda row: (row.data, -(row.score[0] if row.score else float("-inf"))))


def format_stat(stat: tuple[float, float | None] | None, scale: float = 1.0, digits: int = 2) -> str:
    if stat is None:
        return "–"
    mean, std = stat
    text = f"{mean * scale:,.{digits}f}"
    return text if std is None else f"{text} ± {std * scale:,.{digits}f}"


def format_params(count: int) -> str:
    return f"{count / 1e6:.2f} M" if count >= 1e5 else f"{count / 1e3:.1f} k"


def markdown_table(rows: list[Row], test_metric: str | None = None) -> str:
    metric = rows[0].metric if rows else "val/acc_best"
    scale = 100.0 if is_fraction(metric) else 1.0
    unit = " (%)" if scale == 100.0 else ""
    test_metric = test_metric or metric.replace("val/", "test/").removesuffix("_best")
    header = [
        "model",
        "data",
        "seeds",
        "parameters",
        f"{metric}{unit}, mean ± std",
        f"{test_metric}{unit}",
        "train time (s)",
        "tokens/s",
        "peak memory (MB)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        cells = [
            f"`{row.model}`",
            row.data,
            ", ".join(str(seed) for seed in row.seeds),
            format_params(row.params),
            format_stat(row.score, scale),
            format_stat(row.stat(test_metric), scale),
            format_stat(row.train_time, digits=1),
            format_stat(row.tokens_per_sec, digits=0),
            format_stat(row.peak_memory_mb, digits=0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _short(override: str) -> str:
    """`key=0.00021153673722318394` -> `key=0.0002115` (Optuna's samples), anything else as it is."""
    key, _, value = override.partition("=")
    try:
        number = float(value)
    except ValueError:
        return override
    return override if "." not in value and "e" not in value.lower() else f"{key}={number:.4g}"


def common_overrides(runs: list[Run]) -> list[str]:
    """The overrides every run shares (the sweep's fixed settings), in the first run's order."""
    if not runs:
        return []
    shared = set(runs[0].overrides).intersection(*(set(run.overrides) for run in runs[1:]))
    return [o for o in runs[0].overrides if o in shared]


def markdown_runs(runs: list[Run], metric: str) -> str:
    """Every run on its own line: where it is, its seed and score, and the overrides that set it apart."""
    scale = 100.0 if is_fraction(metric) else 1.0
    shared = set(common_overrides(runs))
    header = ["run", "model", "seed", metric, "epochs logged", "train time (s)", "own overrides"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for run in sorted(runs, key=lambda r: (r.data, r.model, r.seed, str(r.path))):
        value = run.metric(metric)
        epochs = len(run.curve(metric.removesuffix("_best")))
        time = run.metric("train/time_sec")
        cells = [
            f"`{run.path.name}`",
            f"`{run.model}`",
            str(run.seed),
            "–" if value is None else f"{value * scale:.2f}",
            str(epochs),
            "–" if time is None else f"{time:,.1f}",
            " ".join(f"`{_short(o)}`" for o in run.overrides if o not in shared) or "–",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

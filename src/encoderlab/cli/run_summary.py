"""The few lines `encoderlab train` ends with: the run's headline metrics, its folder and best checkpoint, and the
exact command that uses that checkpoint next (read back from the run's `summary.json`)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

from encoderlab.callbacks.progress import duration

SHOWN = 6  # metrics on the line: the objective's best, then the test metrics


def shown_path(path: str | Path) -> str:
    """`path` relative to the working folder when it lies inside it (shorter to read and to paste)."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def headline_metrics(metrics: dict[str, float], objective: str | None) -> str:
    names = [objective] if objective in metrics else []
    names += sorted(name for name in metrics if name.startswith("test/") and name != "test/loss")
    return ", ".join(f"{name} {metrics[name]:.4g}" for name in names[:SHOWN])


def next_command(summary: dict[str, Any], task: str, checkpoint: str) -> str | None:
    """How to use what the run made: predict (or translate) with its best checkpoint, or fine-tune its encoder."""
    if "encoder_dir" in summary and "masked_lm" in task:
        return f"encoderlab train model.pretrained={shlex.quote(shown_path(summary['encoder_dir']))} data=sst2"
    if not checkpoint:
        return None
    if "translation" in task:
        return f"encoderlab translate {shlex.quote(checkpoint)} < sentences.txt"
    ner = "token_classification" in task
    example = "'EU rejects German call to boycott British lamb .'" if ner else "'a gripping film'"
    return f"encoderlab predict {shlex.quote(checkpoint)} {example}"


def run_summary(output_dir: Path, task: str, objective: str | None) -> str | None:
    """The summary's lines, or None when the run wrote no `summary.json` (not rank zero, or it failed)."""
    path = output_dir / "summary.json"
    if not path.is_file() or os.environ.get("LOCAL_RANK", "0") != "0":
        return None
    summary = json.loads(path.read_text())
    best = summary.get("best_checkpoint") or ""
    checkpoint = shown_path(best) if best else ""
    lines = [
        f"done in {duration(summary.get('wall_time_sec', 0))}: {headline_metrics(summary['metrics'], objective)}",
        f"run folder:      {shown_path(output_dir)}  (train.log, summary.json)",
        f"best checkpoint: {checkpoint or 'none written (fast_dev_run or no validation)'}",
    ]
    command = next_command(summary, task, checkpoint)
    if command:
        lines.append(f"next:            {command}")
    return "\n".join(lines)

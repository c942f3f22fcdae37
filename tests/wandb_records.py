"""The offline W&B reader lives in the package (the comparison report uses it); tests read through this wrapper,
which waits for W&B's background writer to finish the log (it may lag behind `wandb.finish()`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from encoderlab.report.wandb_offline import records
from encoderlab.report.wandb_offline import run_contents as _run_contents

__all__ = ["records", "run_contents"]


def run_contents(path: Path) -> dict[str, Any]:
    return _run_contents(path, timeout=60.0)

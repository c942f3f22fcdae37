"""The JSON record a measuring command (`encoderlab-compression`, `encoderlab-loadtest`) writes: what was run, on
which commit and device, how long it took, then its results; written where `--output` says."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from encoderlab.report.provenance import device_description, git_commit


class RunRecord:
    """Made when the command starts, before any work: its clock starts and the commit is read then."""

    def __init__(self, prog: str, argv: Sequence[str] | None) -> None:
        self.command = " ".join([prog, *(argv if argv is not None else sys.argv[1:])])  # as typed
        self.started = time.perf_counter()
        self.commit = git_commit()

    def header(self) -> dict[str, Any]:
        """The record's first keys: command, commit, device."""
        return {"command": self.command, "commit": self.commit, "device": device_description()}

    def wall_time_sec(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def write_record(output: str | None, record: dict[str, Any]) -> None:
    """Write `record` as indented JSON to `output` (its folder made as needed); nothing without an `--output`."""
    if output:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text(json.dumps(record, indent=2) + "\n")

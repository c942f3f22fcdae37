"""Where a record comes from: the commit, the device and the command that reproduces it (every `summary.json`
and every record under results/ carries them)."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig

REPO_ROOT = Path(__file__).resolve().parents[3]


def git_commit() -> str:
    """HEAD (`-dirty` with uncommitted changes); outside a git checkout (a copy of the tree on a GPU machine), the
    commit that `ENCODERLAB_COMMIT` names (scripts/pack_gpu_evidence.sh records it), else `unknown`."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
        return commit + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("ENCODERLAB_COMMIT") or "unknown"


def device_description() -> str:
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return (
        f"CPU {platform.processor() or platform.machine()} ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    )


def override_key(override: str) -> str:
    """`+optimizer.foo=1` -> `optimizer.foo`."""
    return override.split("=", 1)[0].lstrip("+~")


def command_line(without: tuple[str, ...] = ()) -> str:
    """This run's command, ready to paste into a shell; `without`: keys whose overrides are left out."""
    if HydraConfig.initialized():
        overrides = [o for o in HydraConfig.get().overrides.task if override_key(o) not in without]
        return shlex.join(["python", "train.py", *overrides])
    return shlex.join(sys.argv)

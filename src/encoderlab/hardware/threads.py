"""Intra-op threads for the training step: one per physical core (hyper-threads share a core's matrix units, so
a second thread per core slows GEMMs down), unless the user set OMP_NUM_THREADS."""

from __future__ import annotations

import os
from pathlib import Path

import torch


def physical_cores(cpuinfo: str | None = None) -> int:
    """Distinct (physical id, core id) pairs among the CPUs this process may run on; the CPU count as a fallback."""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.is_file() else ""
    cores: set[tuple[str, str]] = set()
    for block in cpuinfo.strip().split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        fields = {key.strip(): value.strip() for key, value in fields.items()}
        if "processor" not in fields or int(fields["processor"]) not in allowed:
            continue
        cores.add((fields.get("physical id", "0"), fields.get("core id", fields["processor"])))
    return len(cores) or len(allowed)


def configure_threads(num_workers: int = 0) -> str:
    """Set torch's intra-op threads for this process and say what was chosen. DataLoader workers run one thread
    each (PyTorch sets that in every worker), so they never multiply the step's threads."""
    if os.environ.get("OMP_NUM_THREADS"):
        return f"{torch.get_num_threads()} intra-op threads (OMP_NUM_THREADS)"
    cores = physical_cores()
    torch.set_num_threads(cores)
    note = ""
    if num_workers > 0 and num_workers + cores > len(os.sched_getaffinity(0)):
        note = f"; the {num_workers} data-loader workers share those cores with the step (data.num_workers=0 avoids it)"
    return f"{cores} intra-op threads, one per physical core{note}"

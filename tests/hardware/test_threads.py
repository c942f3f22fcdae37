"""Intra-op threads default to the physical cores, read from /proc/cpuinfo's core ids."""

from __future__ import annotations

import os

import pytest
import torch

from encoderlab.hardware.threads import configure_threads, physical_cores


def cpuinfo(pairs: list[tuple[int, int]]) -> str:
    """A /proc/cpuinfo with one block per logical CPU: (physical id, core id)."""
    return "\n\n".join(
        f"processor\t: {i}\nphysical id\t: {socket}\ncore id\t\t: {core}" for i, (socket, core) in enumerate(pairs)
    )


def test_hyperthreads_count_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1, 2, 3})
    assert physical_cores(cpuinfo([(0, 0), (0, 1), (0, 0), (0, 1)])) == 2
    assert physical_cores(cpuinfo([(0, 0), (1, 0), (0, 1), (1, 1)])) == 4


def test_only_cpus_this_process_may_use_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0})
    assert physical_cores(cpuinfo([(0, 0), (0, 1)])) == 1


def test_configure_threads_sets_torch_and_respects_omp(monkeypatch: pytest.MonkeyPatch) -> None:
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert "one per physical core" in configure_threads()
        assert torch.get_num_threads() == physical_cores()
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(1)
        assert "OMP_NUM_THREADS" in configure_threads()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)

"""One live run per output dir: a Hydra callback locks the run (or sweep) dir before Hydra writes anything into it.

Run dir names carry a suffix drawn once per process (`${run_id:}`), so runs started in the same second with the same
seed already get dirs of their own. The lock covers what a name can't: a `hydra.run.dir` (or `hydra.sweep.dir`) that
points at the dir of a run still alive is refused in one line. The lock is an `flock` on `<dir>/.lock`, held by the
process for as long as it lives, so the dir of a run that has ended (or died) can be reused, e.g. to resume into it.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from encoderlab.errors import UserError

LOCK_FILE = ".lock"
# what launchers (Lightning's DDP, torchrun, srun) set in the extra processes of one run, which share its dir
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID")

_held: dict[Path, int] = {}  # dir -> the open file whose flock this process holds


class RunDirInUse(UserError):
    pass


def is_first_process() -> bool:
    """False in the extra ranks of a distributed run: they write into the dir their rank 0 holds."""
    return all(os.environ.get(name, "0") in ("", "0") for name in RANK_VARIABLES)


def lock_dir(directory: str | Path, setting: str) -> None:
    """Hold `<directory>/.lock` for this process; `RunDirInUse` when another live process holds it."""
    directory = Path(directory).absolute()
    if directory in _held:
        return
    directory.mkdir(parents=True, exist_ok=True)
    handle = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 32).decode(errors="replace").strip() or "unknown"
        os.close(handle)
        raise RunDirInUse(
            f"{setting}={directory} is the dir of a run still in progress (pid {holder}); pick another {setting} "
            "or leave it out (each run gets a dir of its own), or wait for that run to end"
        ) from None
    os.ftruncate(handle, 0)
    os.write(handle, f"{os.getpid()}\n".encode())
    _held[directory] = handle


def unlock_dir(directory: str | Path) -> None:
    handle = _held.pop(Path(directory).absolute(), None)
    if handle is not None:
        os.close(handle)  # closing the file drops the flock


def _lock_or_exit(directory: str | Path, setting: str) -> None:
    # Hydra turns an exception in a callback into a warning and carries on, so a refusal exits here
    if not is_first_process():
        return
    try:
        lock_dir(directory, setting)
    except RunDirInUse as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)


class RunDirLock(Callback):
    """Locks `hydra.run.dir` before a run, `hydra.sweep.dir` before a multirun and each job's dir during its job."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _lock_or_exit(config.hydra.run.dir, "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _lock_or_exit(config.hydra.sweep.dir, "hydra.sweep.dir")

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:  # a single run's dir is locked already
            _lock_or_exit(config.hydra.runtime.output_dir, "hydra.sweep.dir")

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode == RunMode.MULTIRUN:
            unlock_dir(config.hydra.runtime.output_dir)

"""DDP under Hydra: each job's extra ranks write into that job's output dir, also inside a multirun.

Lightning starts ranks > 0 by re-running the script with the original `sys.argv` and Hydra's `run.dir`. Inside a
multirun that re-runs the whole sweep (the `-m` and every choice) in every child, and `run.dir` is not the job's
folder: the known Lightning/Hydra pitfall. Children here get this job's own overrides and its output dir.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from hydra.conf import HydraConf
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_original_cwd, to_absolute_path


def relaunch_command() -> list[str]:
    """How to start this program again: `encoderlab train` sets `sys.argv[0]` to its command's module file, which
    runs as `python -m <module>` (as a script, its folder would shadow top-level modules); else the script itself."""
    script = Path(to_absolute_path(sys.argv[0]))
    package = Path(__file__).resolve().parents[1]
    if script.suffix == ".py" and script.resolve().is_relative_to(package):
        module = ".".join(("encoderlab", *script.resolve().relative_to(package).with_suffix("").parts))
        return [sys.executable, "-m", module]
    return [sys.executable, str(script)]


def user_config_dirs(hydra_cfg: HydraConf) -> list[str]:
    """The user's config folders (`--config-dir`, `hydra.searchpath=`), which a child needs to compose the same."""
    dirs = [
        f"--config-dir={source.path}"
        for source in hydra_cfg.runtime.config_sources
        if source.provider == "command-line" and source.schema == "file"
    ]
    return dirs + [o for o in hydra_cfg.overrides.hydra if o.startswith("hydra.searchpath=")]


def job_subprocess_command(local_rank: int) -> tuple[Sequence[str], str]:
    hydra_cfg = HydraConfig.get()
    command = [*relaunch_command(), f"--config-name={hydra_cfg.job.config_name}", *user_config_dirs(hydra_cfg)]
    command += list(hydra_cfg.overrides.task)
    command += [
        f'hydra.run.dir="{hydra_cfg.runtime.output_dir}"',
        f"hydra.job.name={hydra_cfg.job.name}_rank{local_rank}",
        "hydra.output_subdir=null",  # only rank 0 writes .hydra/
    ]
    return command, get_original_cwd()


def patch_lightning_ddp_launcher() -> None:
    from lightning.pytorch.strategies.launchers import subprocess_script

    subprocess_script._hydra_subprocess_cmd = job_subprocess_command


# what Lightning's launcher and DDP setup leave in the parent's environment
DISTRIBUTED_ENV = ("LOCAL_RANK", "NODE_RANK", "RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def snapshot_distributed_env() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in DISTRIBUTED_ENV}


def reset_distributed_state(snapshot: dict[str, str | None]) -> None:
    """After a job: drop its process group and the variables it set, so the next multirun job launches its own
    ranks (with LOCAL_RANK left over, Lightning would think the processes exist already and wait for them)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    for name, value in snapshot.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

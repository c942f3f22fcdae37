"""OmegaConf resolvers the configs use; registered when `encoderlab` is imported (before any config is composed).

- `${launch_dir:}`: the directory the command was started from. Hydra's own `${hydra:runtime.cwd}` fails where a
  multirun's sweeper resolves `hydra.sweep.dir`, because Hydra's config is set only once the first job starts.
- `${run_group:<sweep_name>,<data>}`: the W&B group, `<data>` for a single run and `<sweep_name>-<data>` for every job
  of a multirun, so the jobs of one sweep land together in W&B.
- `${metric_mode:<metric>}`: `min` for a loss or perplexity, `max` for any other metric: `task.monitor_mode` follows
  `task.monitor` unless set.
- `${run_id:}`: six hex digits drawn once per process, the end of every run and sweep dir name: runs started in the
  same second (with the same seed) get dirs of their own, and every job of one multirun sees the same value. The
  value is cached in the config, so a launcher that runs jobs in other processes (submitit) and a requeued job,
  which unpickle the sweep's config, resolve the same sweep dir.
"""

from __future__ import annotations

import functools
import os
import secrets

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf

from encoderlab.tasks.objective import metric_mode


def launch_dir() -> str:
    if HydraConfig.initialized():
        return str(HydraConfig.get().runtime.cwd)
    return os.getcwd()


def run_group(sweep_name: str, data_name: str) -> str:
    multirun = HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    return f"{sweep_name}-{data_name}" if multirun else data_name


@functools.cache
def run_id() -> str:
    return secrets.token_hex(3)


def register_resolvers() -> None:
    # `optimizer.fused: ${cuda_available:}`: the fused AdamW kernel (one launch for all parameters) where there is a GPU
    resolvers = (
        ("launch_dir", launch_dir),
        ("run_group", run_group),
        ("run_id", run_id),
        ("metric_mode", metric_mode),
        ("cuda_available", torch.cuda.is_available),
    )
    for name, resolver in resolvers:
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver, use_cache=name == "run_id")

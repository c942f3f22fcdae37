"""`hydra/launcher=submitit_local`: a real 2-job multirun, each job in a submitit process of its own, into one
sweep dir (the rehearsal of `hydra/launcher=submitit_slurm`, which needs a cluster)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.conftest import SMALL_MODEL_OVERRIDES, train_subprocess

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None,
    reason="hydra-submitit-launcher is not installed (pip install 'encoderlab[slurm]')",
)


def test_submitit_local_runs_a_two_job_sweep_into_one_sweep_dir(tmp_path: Path, tiny_data_dir: Path) -> None:
    args = ["-m", "hydra/launcher=submitit_local", "seed=1,2", "model=bilstm", *SMALL_MODEL_OVERRIDES["bilstm"]]
    train_subprocess([*args, "trainer.fast_dev_run=true", "logger=csv"], tmp_path, tiny_data_dir)

    sweeps = list((tmp_path / "logs" / "multiruns").iterdir())
    assert len(sweeps) == 1, "the jobs' processes resolve the sweep dir the launcher made"
    sweep = sweeps[0]
    jobs = sorted(p for p in sweep.iterdir() if p.name.isdigit())
    assert [job.name for job in jobs] == ["0", "1"]
    for job, seed in zip(jobs, (1, 2), strict=True):
        assert json.loads((job / "summary.json").read_text())["seed"] == seed
        launcher = OmegaConf.load(job / ".hydra" / "hydra.yaml").hydra.launcher
        assert launcher._target_.endswith("submitit_launcher.LocalLauncher") and launcher.gpus_per_node == 0
    results = list((sweep / ".submitit").glob("*/*_result.pkl"))
    assert len(results) == 2, "both jobs ran (and returned) through submitit"

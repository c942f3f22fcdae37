"""Run dirs: one per run however runs are started, and a live run's dir is never shared."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from encoderlab.config import CONF_DIR
from encoderlab.training.run_dirs import RunDirInUse, lock_dir, unlock_dir
from tests.conftest import ROOT, offline_env

TINY = [
    "model=bilstm",
    "model.encoder.embedding_size=16",
    "model.encoder.hidden_size=16",
    "data.tokenizer.vocab_size=200",
    "data.tokenizer.min_frequency=1",
    "logger=none",
    "~callbacks.early_stopping",
    "callbacks.progress_bar.refresh_rate=0",
    "trainer.enable_model_summary=false",
]


def train_command(tmp_path: Path, data_dir: Path, *overrides: str) -> list[str]:
    return [
        str(ROOT / "train.py"),
        f"paths.root_dir={tmp_path}",
        f"paths.data_dir={data_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        *TINY,
        *overrides,
    ]


# `python train.py ARGS` with Hydra's `${now:}` reading one fixed instant: runs whose clocks read the same second
FROZEN_CLOCK_TRAIN = """
import datetime, runpy, sys
import hydra.core.utils

class SameSecond(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2030, 1, 2, 3, 4, 5)

hydra.core.utils.datetime = SameSecond
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_two_runs_started_in_the_same_second_with_the_same_seed_get_dirs_of_their_own(
    tmp_path: Path, tiny_data_dir: Path
) -> None:
    runs = {
        size: subprocess.Popen(
            [sys.executable, "-c", FROZEN_CLOCK_TRAIN, *train_command(tmp_path, tiny_data_dir, "debug=fdr", size)],
            cwd=tmp_path,
            env=offline_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for size in ("data.batch_size=8", "data.batch_size=16")
    }
    for process in runs.values():  # both started at once, alive together
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-3000:]
    dirs = sorted((tmp_path / "logs" / "bilstm-sst2" / "runs").iterdir())
    assert len(dirs) == 2, "one dir per run"
    assert all(re.fullmatch(r"2030-01-02_03-04-05_s42_[0-9a-f]{6}", d.name) for d in dirs), dirs
    sizes = set()
    for run_dir in dirs:
        overrides = OmegaConf.load(run_dir / ".hydra" / "overrides.yaml")
        [size] = [o for o in overrides if o.startswith("data.batch_size=")]
        assert size in (run_dir / "summary.json").read_text(), "summary and overrides come from the same run"
        sizes.add(size)
    assert sizes == set(runs)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def test_a_live_runs_dir_is_refused_in_one_line_and_reusable_once_it_ends(tmp_path: Path, tiny_data_dir: Path) -> None:
    run_dir = tmp_path / "shared"
    command = [sys.executable, *train_command(tmp_path, tiny_data_dir, f"hydra.run.dir={run_dir}", "data.batch_size=8")]
    live = subprocess.Popen(
        [*command, "trainer.max_epochs=500"],
        cwd=tmp_path,
        env=offline_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    last = run_dir / "checkpoints" / "last.ckpt"
    wait_for(last, live)
    overrides_before = (run_dir / ".hydra" / "overrides.yaml").read_text()

    refused = subprocess.run(
        [*command, "trainer.max_epochs=1"], cwd=tmp_path, env=offline_env(), capture_output=True, text=True, timeout=300
    )
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr[-3000:]
    assert lines[0].startswith(f"error: hydra.run.dir={run_dir} is the dir of a run still in progress (pid {live.pid})")
    assert (run_dir / ".hydra" / "overrides.yaml").read_text() == overrides_before, "nothing written into it"
    assert live.poll() is None, "the live run goes on"

    live.send_signal(signal.SIGTERM)
    live.communicate(timeout=120)
    assert live.returncode == 128 + signal.SIGTERM
    epoch = torch.load(last, weights_only=False)["epoch"]
    resumed = subprocess.run(
        [*command, f"ckpt_path={last}", f"trainer.max_epochs={epoch + 2}"],
        cwd=tmp_path,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (run_dir / "summary.json").exists()


def test_the_lock_is_held_while_its_process_lives_and_gone_once_it_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from encoderlab.training.run_dirs import lock_dir; lock_dir({str(tmp_path)!r}, 'x'); input()",
        ],
        stdin=subprocess.PIPE,
        env=offline_env(),
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / ".lock").exists() or not (tmp_path / ".lock").read_text().strip():
        assert time.monotonic() < deadline and holder.poll() is None
        time.sleep(0.05)
    with pytest.raises(RunDirInUse, match=rf"pid {holder.pid}\)"):
        lock_dir(tmp_path, "hydra.run.dir")
    holder.kill()  # a dead run, not one that cleaned up after itself
    holder.wait()
    lock_dir(tmp_path, "hydra.run.dir")
    assert (tmp_path / ".lock").read_text().strip() == str(os.getpid())
    unlock_dir(tmp_path)


@pytest.mark.parametrize("extra", [[], ["experiment=compare_encoders"], ["hparams_search=sst2_optuna"]])
def test_every_run_and_sweep_dir_name_ends_with_the_process_run_id(extra: list[str]) -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="train", overrides=extra, return_hydra_config=True)
    GlobalHydra.instance().clear()
    for key in ("hydra.run.dir", "hydra.sweep.dir"):
        assert re.search(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(_s42)?_[0-9a-f]{6}$", str(OmegaConf.select(cfg, key))), key

"""DDP on CPU (2 processes, gloo) under Hydra: one output dir per job, per-device batches, synchronised metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from encoderlab.data.collate import ClassificationCollator
from encoderlab.data.sst2 import SST2DataModule
from encoderlab.tasks.classification import ClassificationTask
from tests.conftest import ROOT

TINY = [
    "model=bilstm",
    "model.encoder.embedding_size=16",
    "model.encoder.hidden_size=16",
    "data.tokenizer.vocab_size=200",
    "data.batch_size=16",
    "trainer.max_epochs=1",
    "logger=csv",
    "callbacks.progress_bar.refresh_rate=0",
]


def test_ddp_cpu_multirun_gives_one_dir_per_job_and_synced_metrics(tmp_path: Path, tiny_data_dir: Path) -> None:
    # one thread per process: two processes x two threads on a two-core machine would thrash
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        "-m",
        "seed=1,2",
        "trainer=ddp_cpu",
        *TINY,
        f"paths.root_dir={tmp_path}",
        f"paths.data_dir={tiny_data_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]

    jobs = sorted(p for p in (tmp_path / "sweep").iterdir() if p.is_dir() and p.name.isdigit())
    assert [j.name for j in jobs] == ["0", "1"]
    assert not (tmp_path / "logs").exists(), "ranks > 0 must not open run dirs of their own"
    for job in jobs:
        summary = json.loads((job / "summary.json").read_text())
        # data.batch_size is per device: 256 examples / (16 x 2 processes) = 8 steps per epoch
        assert summary["global_steps"] == 8
        assert (job / "train.log").exists() and (job / "train_rank1.log").exists()
        assert len(list((job / "checkpoints").glob("*.ckpt"))) == 2  # best + last, written once by rank 0

    # test/acc, computed on 32 examples per process and synchronised, equals accuracy on all 64 in one process
    summary = json.loads((jobs[0] / "summary.json").read_text())
    task = ClassificationTask.load_from_checkpoint(summary["best_checkpoint"], map_location="cpu").eval()
    datamodule = SST2DataModule(
        name="sst2",
        data_dir=str(tiny_data_dir),
        cache_dir=str(tmp_path / "cache"),
        tokenizer={"vocab_size": 200},
        seed=1,
    )
    datamodule.setup("test")
    loader = DataLoader(datamodule.datasets["test"], batch_size=64, collate_fn=ClassificationCollator(0))
    batch = next(iter(loader))
    with torch.no_grad():
        accuracy = (task(batch).argmax(-1) == batch["labels"]).float().mean().item()
    assert summary["metrics"]["test/acc"] == accuracy

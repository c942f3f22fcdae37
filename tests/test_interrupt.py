"""A real training process, a real signal: a resumable checkpoint, a non-zero exit and how to resume."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch

from encoderlab.errors import TrainingInterrupted
from encoderlab.training.run import train
from tests.conftest import ROOT

TINY = [
    "model=bilstm",
    "model.encoder.embedding_size=16",
    "model.encoder.hidden_size=16",
    "data.tokenizer.vocab_size=200",
    "data.batch_size=8",
    "logger=none",
    "~callbacks.early_stopping",
    "callbacks.progress_bar.refresh_rate=0",
]


def start(tmp_path: Path, data_dir: Path, *overrides: str) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "offline"}
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        f"paths.root_dir={tmp_path}",
        f"paths.data_dir={data_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "hydra.run.dir=" + str(tmp_path / "run"),
        *TINY,
        *overrides,
    ]
    return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_writes_a_resumable_checkpoint_and_exits_nonzero(tmp_path: Path, tiny_data_dir: Path, signum) -> None:
    process = start(tmp_path, tiny_data_dir, "trainer.max_epochs=500")
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    wait_for(last, process)  # training is under way: one epoch done
    time.sleep(0.5)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum
    [message] = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert f"{signal.Signals(signum).name} at step" in message and "Traceback" not in stderr
    assert f"ckpt_path={last}" in message and "python train.py" in message
    step = int(re.search(r"at step (\d+)", message).group(1))
    checkpoint = torch.load(last, weights_only=False)
    assert checkpoint["global_step"] == step, "the checkpoint holds the state at the moment of the signal"

    resumed = start(
        tmp_path,
        tiny_data_dir,
        f"ckpt_path={last}",
        f"trainer.max_epochs={checkpoint['epoch'] + 2}",
        "hydra.run.dir=" + str(tmp_path / "resumed"),
    )
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-3000:]
    assert torch.load(last, weights_only=False)["global_step"] > step


class SignalDuringValidation(L.Callback):
    """Sends this process SIGTERM at the first batch of the second validation, where Lightning checks for it too."""

    def on_validation_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int, *args) -> None:
        if trainer.current_epoch == 1 and not trainer.sanity_checking and batch_idx == 0:
            os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_during_validation_still_saves_and_stops_with_the_signal(make_cfg) -> None:
    cfg = make_cfg(
        *TINY,
        "trainer.max_epochs=5",
        "data.eval_batch_size=4",  # several validation batches, so the signal lands mid-loop
        f"+callbacks.signal_during_validation._target_={__name__}.SignalDuringValidation",
    )
    with pytest.raises(TrainingInterrupted) as info:
        train(cfg)
    assert info.value.exit_code == 128 + signal.SIGTERM
    assert "SIGTERM at step" in str(info.value)
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    step = int(re.search(r"at step (\d+)", str(info.value)).group(1))
    checkpoint = torch.load(last, weights_only=False)
    assert checkpoint["global_step"] == step and checkpoint["epoch"] == 2, "stopped after the next training step"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the original handler is back"

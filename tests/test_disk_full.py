"""A disk that fills up while a checkpoint is written: one line, non-zero exit, the previous last.ckpt kept."""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from encoderlab.callbacks import AtomicCheckpointIO, checkpoint_io
from encoderlab.errors import CheckpointError
from encoderlab.tasks.checkpoint_file import read_checkpoint
from tests.conftest import ROOT, offline_env


class FullDisk(io.RawIOBase):
    """A file on a disk with `room` bytes left: the write that crosses it fails with ENOSPC, as the kernel's would."""

    def __init__(self, raw: io.FileIO, room: int) -> None:
        self.raw, self.room = raw, room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            self.raw.write(bytes(data[: self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.raw.write(data)

    def fileno(self) -> int:
        return self.raw.fileno()

    def close(self) -> None:
        self.raw.close()
        super().close()


def test_a_write_that_runs_out_of_space_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.ones(3)}, "epoch": 1}, path)
    monkeypatch.setattr(checkpoint_io.os, "fdopen", lambda fd, mode: FullDisk(io.FileIO(fd, "wb"), room=700))
    with pytest.raises(CheckpointError) as info:
        AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(100_000)}, "epoch": 2}, path)
    monkeypatch.undo()
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"disk full while writing checkpoint {path}")
    assert "the previous last.ckpt is kept" in message and f"resume with ckpt_path={path}" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__, "one error, not a chain of tracebacks"
    assert read_checkpoint(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"], "no temporary file left behind"


def test_another_write_error_is_one_line_too(tmp_path: Path) -> None:
    blocker = tmp_path / "checkpoints"
    blocker.write_text("a file where the checkpoint folder should be")
    with pytest.raises(CheckpointError) as info:
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, blocker / "last.ckpt")
    assert str(info.value).startswith(f"can't write checkpoint {blocker / 'last.ckpt'} (")
    assert "no last.ckpt was written" in str(info.value) and "\n" not in str(info.value)


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 32 MiB tmpfs (root only; skipped where mounting isn't permitted)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"can't mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


class FillDiskAfterFirstEpoch(L.Callback):
    """Another process fills the disk after the first `last.ckpt`: half a checkpoint's worth of room is left."""

    def __init__(self, disk: str) -> None:
        self.disk = Path(disk)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch != 1:
            return
        size = (self.disk / "checkpoints" / "last.ckpt").stat().st_size
        with open(self.disk / "filler", "wb") as handle:
            handle.write(b"\0" * (shutil.disk_usage(self.disk).free - size // 2))


def test_train_py_stops_with_one_line_when_the_disk_fills(small_disk: Path, tmp_path: Path, tiny_data_dir) -> None:
    checkpoints = small_disk / "checkpoints"
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        f"paths.data_dir={tiny_data_dir}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        "logger=none",
        "model=bilstm",
        "model.encoder.embedding_size=32",
        "model.encoder.hidden_size=32",
        "data.tokenizer.vocab_size=200",
        "data.tokenizer.min_frequency=1",
        "trainer.max_epochs=3",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "~callbacks.early_stopping",
        "callbacks.progress_bar.refresh_rate=0",
        f"callbacks.model_checkpoint.dirpath={tmp_path / 'best'}",  # only last.ckpt on the small disk
        f"callbacks.last_checkpoint.dirpath={checkpoints}",
        f"+callbacks.fill_disk._target_={__name__}.FillDiskAfterFirstEpoch",
        f"+callbacks.fill_disk.disk={small_disk}",
    ]
    done = subprocess.run(command, cwd=tmp_path, env=offline_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    [message] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    last = checkpoints / "last.ckpt"
    assert message.startswith(f"error: disk full while writing checkpoint {last}")
    assert f"the previous last.ckpt is kept; free some space, then resume with ckpt_path={last}" in message
    assert sorted(p.name for p in checkpoints.iterdir()) == ["last.ckpt"], "no temporary file left behind"
    assert read_checkpoint(last)["epoch"] == 0, "the first epoch's checkpoint, intact"

"""Checkpoint IO for the trainer: atomic writes (temporary file, fsync, rename), one-line errors when a write fails,
and reads through encoderlab's safe reader (no pickled code runs, also when Lightning resumes)."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from encoderlab.errors import CheckpointError
from encoderlab.tasks.checkpoint_file import read_checkpoint

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _is_remote(path: str | os.PathLike) -> bool:
    return "://" in str(path) and not str(path).startswith("file://")


def _os_error(error: BaseException | None) -> OSError | None:
    """The OSError behind `error`: torch's zip writer reports a failed write as a RuntimeError on top of it."""
    while error is not None and not isinstance(error, OSError):
        error = error.__cause__ or error.__context__
    return error


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes each checkpoint to a temporary file in the same folder, then renames it into place: a run killed
    mid-write, or a disk that fills up, leaves the previous `last.ckpt` intact instead of a truncated one."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None) -> None:
        if _is_remote(path):  # remote storage: no rename there
            return super().save_checkpoint(checkpoint, path, storage_options)
        target = Path(path)
        tmp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                torch.save(checkpoint, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except Exception as error:
            cause = _os_error(error)
            if cause is None:
                raise
            raise self._write_error(target, cause) from None
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)

    @staticmethod
    def _write_error(target: Path, cause: OSError) -> CheckpointError:
        """One line: what failed, what is still on disk, how to carry on."""
        kept = f"the previous {target.name} is kept" if target.exists() else f"no {target.name} was written"
        last = target if target.exists() else target.with_name("last.ckpt")
        then = f"resume with ckpt_path={last}" if last.exists() else "train again"
        if cause.errno in DISK_FULL:
            free = shutil.disk_usage(target.parent).free / 2**20 if target.parent.is_dir() else 0.0
            return CheckpointError(
                f"disk full while writing checkpoint {target} ({free:.1f} MiB free there): {kept}; "
                f"free some space, then {then}"
            )
        return CheckpointError(
            f"can't write checkpoint {target} ({cause.strerror or cause}): {kept}; fix it, then {then}"
        )

    def load_checkpoint(self, path: str | Path, map_location: Any = "cpu", weights_only: Any = None) -> dict:
        # Lightning's resume and test(ckpt_path=...) load through here: always weights-only, whatever it asks for
        if _is_remote(path):
            return super().load_checkpoint(path, map_location=map_location, weights_only=True)
        return read_checkpoint(path, map_location=map_location)

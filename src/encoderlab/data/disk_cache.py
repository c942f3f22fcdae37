"""Entries of the on-disk cache (tokenizers, packed blocks): built once under a file lock, written atomically, and
rebuilt, with a warning naming the entry, when one doesn't load (truncated, empty, a folder in its place)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from filelock import FileLock

log = logging.getLogger(__name__)

T = TypeVar("T")


def write_atomic(path: Path, write: Callable[[str], object]) -> None:
    """`write(tmp)` into a temporary file beside `path`, flushed to disk, then renamed over `path` in one step:
    a reader sees the old entry or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_or_build(
    path: Path,
    load: Callable[[Path], T],
    build: Callable[[], T],
    save: Callable[[T, str], None],
    what: str,
) -> T:
    """The entry at `path` when it loads, else `build()` saved there. Safe from every DDP rank: one builds, the others
    wait on the lock and load."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists():
            try:
                return load(path)
            except Exception as error:  # loaders raise many kinds (tokenizers: a bare Exception) for a bad file
                reason = (str(error).splitlines() or [type(error).__name__])[0]
                log.warning("the cached %s %s can't be loaded (%s); rebuilding it", what, path, reason)
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        value = build()
        write_atomic(path, lambda tmp: save(value, tmp))
        return value

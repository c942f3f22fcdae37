"""`python train.py data=text_files` on files that can't be read: one `error:` line naming the file, exit code 2,
no traceback (a real process, real Hydra)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, offline_env

GOOD = b"label,text\n" + b"pos,a fine film\nneg,a dull film\n" * 20


def write_bad(path: Path, kind: str) -> None:
    if kind == "not_utf8":
        path.write_bytes(GOOD + b"pos,caf\xe9\n")
    elif kind == "truncated_gzip":
        path.write_bytes(gzip.compress(GOOD * 100)[:-20])
    elif kind == "directory":
        path.mkdir()
    elif kind == "unclosed_quote":
        path.write_bytes(GOOD + b'pos,"a quote never closed\n' + GOOD[11:])


CASES = {
    "not_utf8": ("train.csv", "train.csv line 42 is not valid UTF-8"),
    "truncated_gzip": ("train.csv.gz", "train.csv.gz is a truncated or corrupt gzip file"),
    "directory": ("train.csv", "train.csv is a directory"),
    "unclosed_quote": ("train.csv", "train.csv line 42 is not valid CSV (a quote opened here is never closed)"),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_an_unreadable_training_file_is_one_error_line(tmp_path: Path, kind: str) -> None:
    name, expected = CASES[kind]
    write_bad(tmp_path / name, kind)
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        "data=text_files",
        f"data.train_file={tmp_path / name}",
        "logger=none",
        f"paths.root_dir={tmp_path}",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]
    result = subprocess.run(command, cwd=tmp_path, env=offline_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr[-3000:]
    assert "Traceback" not in result.stderr

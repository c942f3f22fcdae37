"""Every data reader (tables, SST-2, CoNLL, translation, pretraining corpus) opens files through one helper, so a file
that can't be read stops with one line naming it (and the line, where known), whichever reader meets it."""

from __future__ import annotations

import gzip
import os
import socket
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from encoderlab.data import text_corpus, translation
from encoderlab.data.conll_format import read_conll
from encoderlab.data.sst2 import SST2DataModule
from encoderlab.data.table_format import read_columns
from encoderlab.data.text_lines import read_text_lines
from encoderlab.errors import UserError


def read_sst2(path: Path) -> object:
    """SST-2's module on a data dir whose `path` is the training file (the validation file is good)."""
    with gzip.open(path.parent / "validation.tsv.gz", "wb") as handle:
        handle.write(b"sentence\tlabel\na fine film\t1\n")
    module = SST2DataModule(name="sst2", data_dir=str(path.parent.parent), cache_dir=str(path.parent / "cache"))
    return module.load_splits()


# name -> (file name, two good lines, a reader); a bad line goes third
READERS: dict[str, tuple[str, bytes, Callable[[Path], object]]] = {
    "table": ("train.csv.gz", b"label,text\npos,a fine film\n", lambda p: read_columns(p, ["text", "label"])),
    "sst2": ("sst2/train.tsv.gz", b"sentence\tlabel\na fine film\t1\n", read_sst2),
    "conll": ("train.txt.gz", b"EU NNP I-NP I-ORG\nrejects VBZ I-VP O\n", read_conll),
    "translation": ("train.en.gz", b"A dog runs.\nA man sits.\n", translation.read_parallel_lines),
    "corpus": ("train.txt.gz", b"a first paragraph\na second one\n", lambda p: list(text_corpus.read_corpus_lines(p))),
}


def bind_socket(path: Path) -> socket.socket:
    """A Unix socket in place of the file: it exists, but opening it fails (ENXIO) even for root."""
    server = socket.socket(socket.AF_UNIX)
    cwd = Path.cwd()
    os.chdir(path.parent)  # bind a short relative name: socket paths are limited to ~108 bytes
    try:
        server.bind(path.name)
    finally:
        os.chdir(cwd)
    return server


def make_bad(kind: str, path: Path, good: bytes, cleanup: ExitStack) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "not_utf8":
        path.write_bytes(gzip.compress(good + b"caf\xe9 au lait\n"))
    elif kind == "truncated_gzip":
        path.write_bytes(gzip.compress(good * 2000)[:-20])
    elif kind == "not_gzip":
        path.write_bytes(good)
    elif kind == "directory":
        path.mkdir()
    elif kind == "unreadable":
        cleanup.enter_context(bind_socket(path))


EXPECTED = {
    "not_utf8": "line 3 is not valid UTF-8 (byte 0xe9 at column 4); re-encode the file as UTF-8",
    "truncated_gzip": "is a truncated or corrupt gzip file (it breaks after line",
    "not_gzip": "is a truncated or corrupt gzip file (it breaks at its start: Not a gzipped file",
    "directory": "is a directory",
    "unreadable": "can't be read (No such device or address)",
}


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("reader", list(READERS))
def test_every_reader_names_the_file_that_cant_be_read(tmp_path: Path, reader: str, kind: str) -> None:
    name, good, read = READERS[reader]
    path = tmp_path / name
    with ExitStack() as cleanup:
        make_bad(kind, path, good, cleanup)
        with pytest.raises(UserError) as info:
            read(path)
    message = str(info.value)
    assert message.startswith(str(path)) and EXPECTED[kind] in message, message
    assert "\n" not in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file; the socket case covers root")
def test_a_file_without_read_permission_is_named(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("label,text\npos,fine\n")
    path.chmod(0)
    with pytest.raises(UserError, match=r"train\.csv can't be read \(Permission denied\)"):
        list(read_text_lines(path))


def test_lines_keep_their_endings_and_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "a.txt.gz"
    path.write_bytes(gzip.compress("\ufefffirst\r\nsecond \ufeff\nlast".encode()))
    assert list(read_text_lines(path)) == ["first\r\n", "second \ufeff\n", "last"], "only a leading BOM goes"

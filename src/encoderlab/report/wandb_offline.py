"""Reads an offline W&B run's `run-<id>.wandb` transaction log without an account or a server: the comparison
report takes learning curves from it, and the tests check what was really logged.

The file is a LevelDB-style log: a 7-byte header (':W&B', magic, version), then 32 KiB blocks of chunks, each
`crc32 (4) | length (2, LE) | type (1) | data`, where type 1 is a whole record and 2/3/4 the first/middle/last part
of a record split across blocks. Each record is a `wandb_internal_pb2.Record` protobuf.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2

# wandb builds its protobuf classes when the module is imported, so mypy sees no `Record` there
Record = Any

BLOCK = 32 * 1024
HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path) -> list[Record]:
    raw = path.read_bytes()
    if raw[:4] != b":W&B":
        raise ValueError(f"{path} is not a W&B transaction log")
    out, pending, offset = [], b"", HEADER
    while offset + HEADER <= len(raw):
        if BLOCK - offset % BLOCK < HEADER:  # the block's tail is padding
            offset += BLOCK - offset % BLOCK
            continue
        _crc, length, kind = struct.unpack("<IHB", raw[offset : offset + HEADER])
        data = raw[offset + HEADER : offset + HEADER + length]
        offset += HEADER + length
        if (kind == 0 and length == 0) or len(data) < length:  # the end, or a chunk still being written
            break
        pending = data if kind in (FULL, FIRST) else pending + data
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]  # built at import time, not in the stubs
            record.ParseFromString(pending)
            out.append(record)
            pending = b""
    return out


def _key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def wait_for_exit(path: Path, timeout: float) -> list[Record]:
    """The log's records once its final `exit` record is on disk (or whatever is there after `timeout` seconds).

    W&B's service process writes the log in the background: `wandb.finish()` can return, and even the training
    process exit, while the file still holds only its header.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = records(path)
        if (found and found[-1].WhichOneof("record_type") == "exit") or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def run_contents(path: Path, timeout: float = 0.0) -> dict[str, Any]:
    """`{"run": Run record, "history": [{metric: value}], "summary": {...}, "config": {...}}`; `timeout`: seconds
    to wait for a run that is still being written (see `wait_for_exit`)."""
    result: dict[str, Any] = {"run": None, "history": [], "summary": {}, "config": {}}
    for record in wait_for_exit(path, timeout):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            result["run"] = record.run
        elif kind == "history":
            result["history"].append({_key(i): json.loads(i.value_json) for i in record.history.item})
        elif kind == "summary":
            result["summary"].update({_key(i): json.loads(i.value_json) for i in record.summary.update})
        elif kind == "config":
            result["config"].update({_key(i): json.loads(i.value_json) for i in record.config.update})
    return result

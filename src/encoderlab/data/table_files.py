"""Read labelled-text tables from CSV, TSV or JSON Lines files, plain or gzip, into columns of strings.

Python's `csv` module (not pandas) so quoted fields may hold newlines and every value stays a string: a label `01`
is not silently turned into `1`, and an empty text is an empty string rather than NaN.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from encoderlab.errors import UserError

FORMATS = ("csv", "tsv", "jsonl")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # whole articles fit in one field


def infer_format(path: Path) -> str:
    """`csv`, `tsv` or `jsonl` from the file name (a `.gz` suffix is looked through)."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    known = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}
    if suffix not in known:
        choices = ", ".join(FORMATS)
        raise UserError(f"can't tell the format of {path} from its name; set data.format to one of {choices}")
    return known[suffix]


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # the caller closes it


def _records(handle: io.TextIOBase, path: Path, file_format: str) -> tuple[list[str] | None, Iterator[dict]]:
    """`(header, rows)`; the header is None for JSON Lines, whose records name their own fields."""
    if file_format == "jsonl":
        return None, _jsonl_rows(handle, path)
    reader = csv.DictReader(handle, delimiter="\t" if file_format == "tsv" else ",")
    header = [h.strip() for h in reader.fieldnames or []]
    return header, ({k.strip(): v for k, v in row.items() if k is not None} for row in reader)


def _jsonl_rows(handle: io.TextIOBase, path: Path) -> Iterator[dict[str, object]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(f"{path} line {number} is not valid JSON ({error.msg}); one object per line") from None
        if not isinstance(record, dict):
            raise UserError(f"{path} line {number} is not a JSON object; one object per line")
        yield record


def read_columns(path: Path, columns: Sequence[str], file_format: str | None = None) -> dict[str, list[str]]:
    """The given columns of a table file as lists of strings; a clear error for a missing file, column or row."""
    if not path.exists():
        raise UserError(f"{path} does not exist; check the data.*_file settings (or run `make data`)")
    file_format = file_format or infer_format(path)
    if file_format not in FORMATS:
        raise UserError(f"unknown data.format={file_format!r}; choose one of {', '.join(FORMATS)}")
    out: dict[str, list[str]] = {c: [] for c in columns}
    with _open_text(path) as handle:
        header, rows = _records(handle, path, file_format)
        if header is not None:
            if not header:
                raise UserError(f"{path} is empty; it needs a header line naming its columns and at least one row")
            missing = [c for c in columns if c not in header]
            if missing:
                found = ", ".join(header)
                raise UserError(f"{path} has no column {missing[0]!r} (columns: {found}); fix data.*_column")
        for number, row in enumerate(rows, start=1):
            for column in columns:
                value = row.get(column)
                if value is None:
                    where = f"row {number}" if header is not None else f"record {number}"
                    raise UserError(f"{path} {where} has no {column!r} value; fix the file or data.*_column")
                out[column].append(value if isinstance(value, str) else json.dumps(value))
    if not out[columns[0]]:
        raise UserError(f"{path} is empty; it needs at least one example")
    return out

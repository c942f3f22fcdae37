"""Read labelled-text tables from CSV, TSV or JSON Lines files, plain or gzip, into columns of strings.

Python's `csv` module (not pandas) so every value stays a string: a label `01` is not silently turned into `1`, and
an empty text is an empty string rather than NaN. CSV is read strictly: quoted fields may hold commas and newlines,
and a quote that is never closed is an error, not a field that swallows the rest of the file. TSV is read unquoted
(as GLUE writes it): a `"` in a text is just a character. Every row must have as many fields as the header; a row
that doesn't is an error naming the file and line, so no row is silently lost or merged into another.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from encoderlab.data.text_lines import read_text_lines
from encoderlab.errors import UserError

FORMATS = ("csv", "tsv", "jsonl")
COLUMN_HINT = "fix data.*_column"

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


def table_rows(lines: Iterable[str], path: Path, file_format: str) -> Iterator[tuple[int, list[str]]]:
    """`(line number where the row starts, fields)` for each non-blank row of a CSV or TSV file."""
    if file_format == "tsv":
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(lines, delimiter=",", strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = "a quote opened here is never closed" if "end of data" in str(error) else str(error)
            fix = 'close the quote, or double a quote inside a quoted field ("")' if file_format == "csv" else "fix it"
            raise UserError(f"{path} line {start} is not valid {file_format.upper()} ({reason}); {fix}") from None
        if row:  # a blank line holds no row
            yield start, row
        start = reader.line_num + 1


def jsonl_records(lines: Iterable[str], path: Path | str) -> Iterator[tuple[int, dict[str, object]]]:
    """`(line number, object)` for each non-blank line: one JSON object per line (a multi-line document stays one
    record); anything else is a one-line error naming the file and line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise UserError(f"{path} line {number} is not valid JSON ({error.msg}); one object per line") from None
        if not isinstance(record, dict):
            raise UserError(f"{path} line {number} is not a JSON object; one object per line")
        yield number, record


def _table_records(lines: Iterable[str], path: Path, file_format: str) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    rows = table_rows(lines, path, file_format)
    first = next(rows, None)
    header = [name.strip() for name in first[1]] if first else []

    def records() -> Iterator[tuple[int, dict]]:
        for number, row in rows:
            if len(row) != len(header):
                why = "a tab inside a text?" if file_format == "tsv" else "quote a field that holds a comma"
                fields = f"{len(row)} field{'s' * (len(row) != 1)}"
                raise UserError(
                    f"{path} line {number} has {fields} but the header has {len(header)} ({', '.join(header)}); "
                    f"fix the row ({why})"
                )
            yield number, dict(zip(header, row, strict=True))

    return header, records()


def read_columns(
    path: Path, columns: Sequence[str], file_format: str | None = None, column_hint: str = COLUMN_HINT
) -> dict[str, list[str]]:
    """The given columns of a table file as lists of strings; one-line errors for a bad file, column or row."""
    if not path.exists():
        raise UserError(f"{path} does not exist; check the data.*_file settings (or run `make data`)")
    file_format = file_format or infer_format(path)
    if file_format not in FORMATS:
        raise UserError(f"unknown data.format={file_format!r}; choose one of {', '.join(FORMATS)}")
    lines = read_text_lines(path)
    if file_format == "jsonl":
        records = jsonl_records(lines, path)
    else:
        header, records = _table_records(lines, path, file_format)
        if not header:
            raise UserError(f"{path} is empty; it needs a header line naming its columns and at least one row")
        missing = [c for c in columns if c not in header]
        if missing:
            raise UserError(f"{path} has no column {missing[0]!r} (columns: {', '.join(header)}); {column_hint}")
    out: dict[str, list[str]] = {c: [] for c in columns}
    for number, record in records:
        for column in columns:
            value = record.get(column)
            if value is None:
                raise UserError(f"{path} line {number} has no {column!r} value; fix the file or data.*_column")
            out[column].append(value if isinstance(value, str) else json.dumps(value))
    if not out[columns[0]]:
        what = "holds no records" if file_format == "jsonl" else "has a header but no examples"
        raise UserError(f"{path} {what}; it needs at least one example")
    return out

"""Checks on raw data files and splits, each failing with one line that names the file (and line) and the fix."""

from __future__ import annotations

import csv
import gzip
import logging
from collections.abc import Sequence
from pathlib import Path

from datasets import Dataset

from encoderlab.errors import UserError

log = logging.getLogger(__name__)


def check_text_file(path: Path, required_columns: Sequence[str] = (), delimiter: str = ",") -> None:
    """UTF-8 on every line, a header holding `required_columns`, at least one line."""
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    try:
        with opener(path, "rb") as handle:
            for count, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise UserError(
                        f"{path} line {count} is not valid UTF-8 (byte 0x{raw[error.start]:02x} at column "
                        f"{error.start + 1}); re-encode the file as UTF-8"
                    ) from None
                if count == 1 and required_columns:
                    header = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter))
                    missing = [c for c in required_columns if c not in header]
                    if missing:
                        raise UserError(
                            f"{path} has columns {header} but needs {list(required_columns)} (missing {missing}); "
                            "rename the header or set the data config's column names"
                        )
    except (gzip.BadGzipFile, EOFError) as error:
        raise UserError(f"{path} is not a readable gzip file ({error}); re-download it or run `make data`") from None
    if count == 0:
        raise UserError(f"{path} is empty; it needs a header line and at least one example")
    if count == 1 and required_columns:
        raise UserError(f"{path} has a header but no examples; add examples or point paths.data_dir elsewhere")


def drop_empty_texts(dataset: Dataset, split: str, column: str = "text") -> Dataset:
    """Remove rows whose text is missing or only whitespace, and say how many and where."""
    if column not in dataset.column_names:  # e.g. token classification holds word lists instead
        return dataset
    empty = [i for i, text in enumerate(dataset[column]) if text is None or not str(text).strip()]
    if not empty:
        return dataset
    log.warning(
        "%s: dropped %d empty or whitespace-only texts (rows %s%s)",
        split,
        len(empty),
        ", ".join(str(i + 1) for i in empty[:5]),
        ", ..." if len(empty) > 5 else "",
    )
    keep = sorted(set(range(len(dataset))) - set(empty))
    return dataset.select(keep)

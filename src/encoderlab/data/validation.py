"""Hygiene for raw splits once read (files are checked as they are read: `text_lines`, `table_files`)."""

from __future__ import annotations

import logging

from datasets import Dataset

log = logging.getLogger(__name__)


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

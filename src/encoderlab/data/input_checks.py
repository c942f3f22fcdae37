"""Checks on the input once read: empty texts dropped, overlong texts capped (files themselves are checked as they
are read: `text_lines`, `table_format`)."""

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


CHARS_PER_TOKEN = 100  # generous: English WordPiece tokens average 4-5 characters


def cap_texts(dataset: Dataset, split: str, max_chars: int, keep_tail: bool) -> Dataset:
    """Cut texts over `max_chars` characters to their first `max_chars` (and, with `keep_tail`, their last
    `max_chars` too, for head+tail truncation) before they are tokenized.

    Tokenizing a text costs memory in proportion to its length (a 50 MB line took 4.6 GB); `max_length` tokens never
    span more than a fraction of the cap, so the tokens a model sees are the same as without it.
    """
    columns = [c for c in ("text", "text_pair") if c in dataset.column_names]
    long = sum(len(text) > max_chars for column in columns for text in dataset[column] if text is not None)
    if not long:
        return dataset
    log.warning(
        "%s: %d text(s) over %d characters cut to their first%s %d before tokenizing (data.max_text_chars)",
        split,
        long,
        max_chars,
        " and last" if keep_tail else "",
        max_chars,
    )
    return dataset.map(
        _cap_batch,
        fn_kwargs={"columns": columns, "max_chars": max_chars, "keep_tail": keep_tail},
        batched=True,
        desc=f"Capping long {split} texts",
    )


def cap_text(text: str, max_chars: int, keep_tail: bool) -> str:
    """One text cut as `cap_texts` cuts it; cutting twice changes nothing (inference re-applies it)."""
    if len(text) <= max_chars:
        return text
    # a space keeps the head's last word and the tail's first word apart; both lie beyond the kept tokens
    return f"{text[:max_chars]} {text[-max_chars:]}" if keep_tail else text[:max_chars]


def _cap_batch(batch: dict[str, list], columns: list[str], max_chars: int, keep_tail: bool) -> dict[str, list]:
    return {
        column: [text if text is None else cap_text(text, max_chars, keep_tail) for text in batch[column]]
        for column in columns
    }

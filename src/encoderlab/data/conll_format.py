"""The CoNLL column format (one token per line, the tag in the last column, blank lines between sentences) and
IOB1 -> IOB2 tag conversion."""

from __future__ import annotations

from pathlib import Path

from encoderlab.data.text_lines import read_text_lines

DOCSTART = "-DOCSTART-"


def read_conll(path: Path, tag_column: int = -1) -> list[tuple[list[str], list[str]]]:
    """`[(tokens, tags), ...]` per sentence; `-DOCSTART-` lines (document boundaries) are skipped."""
    sentences: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in read_text_lines(path):
        fields = line.split()
        if fields and fields[0] != DOCSTART:
            tokens.append(fields[0])
            tags.append(fields[tag_column])
        elif tokens:  # a blank line (or a document start) ends the sentence
            sentences.append((tokens, tags))
            tokens, tags = [], []
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def iob1_to_iob2(tags: list[str]) -> list[str]:
    """IOB1 opens an entity with `I-` unless it directly follows one of the same type; IOB2 always opens with `B-`.

    Idempotent: tags already in IOB2 come back unchanged.
    """
    out = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            tag = "B-" + tag[2:]
        out.append(tag)
        previous = tag
    return out

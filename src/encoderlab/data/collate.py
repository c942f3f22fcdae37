"""Dynamic padding: each batch is padded to its own longest sequence (optionally rounded up to a multiple)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

Collator = Callable[[list[dict[str, Any]]], dict[str, Any]]  # examples -> a batch


def pad_sequences(
    sequences: Sequence[Sequence[int]], pad_id: int, multiple_of: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to `[B, T]`; returns `(ids, attention_mask)` with 1 at real tokens."""
    length = max((len(s) for s in sequences), default=1)
    if multiple_of:
        length = -(-length // multiple_of) * multiple_of
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def pad_char_ids(rows: Sequence[Sequence[Sequence[int]]], length: int) -> torch.Tensor:
    """Per example, per token position the character ids of its word -> `[B, length, C]` padded with 0 (the
    character pad id), `C` the longest word of the batch (at least 1)."""
    width = max((len(chars) for row in rows for chars in row), default=0) or 1
    out = torch.zeros((len(rows), length, width), dtype=torch.long)
    for b, row in enumerate(rows):
        for t, chars in enumerate(row):
            if chars:
                out[b, t, : len(chars)] = torch.as_tensor(chars, dtype=torch.long)
    return out


class PaddedInputsCollator:
    """The part every encoder batch shares: `input_ids` padded with `pad_id` (to a multiple of
    `pad_to_multiple_of`, if set) and their `attention_mask`."""

    def __init__(self, pad_id: int = 0, pad_to_multiple_of: int | None = None) -> None:
        self.pad_id = pad_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def pad_inputs(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        input_ids, attention_mask = pad_sequences(
            [ex["input_ids"] for ex in examples], self.pad_id, self.pad_to_multiple_of
        )
        return {"input_ids": input_ids, "attention_mask": attention_mask}


class ClassificationCollator(PaddedInputsCollator):
    """`[{"input_ids": [...], "label": int, ("token_type_ids": [...])}]` -> a batch of tensors."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.pad_inputs(examples)
        if "token_type_ids" in examples[0]:
            batch["token_type_ids"], _ = pad_sequences(
                [ex["token_type_ids"] for ex in examples], 0, self.pad_to_multiple_of
            )
        if "label" in examples[0]:
            batch["labels"] = torch.tensor([ex["label"] for ex in examples], dtype=torch.long)
        return batch


class TokenClassificationCollator(PaddedInputsCollator):
    """Pads `input_ids` (pad id), subword `labels` (-100), `word_positions` (-1), word-level `tags` (-100) and, where
    the examples have them, `char_ids` (to `[B, T, C]`, 0)."""

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.pad_inputs(examples)
        if "char_ids" in examples[0]:
            batch["char_ids"] = pad_char_ids([ex["char_ids"] for ex in examples], batch["input_ids"].shape[1])
        batch["labels"], _ = pad_sequences([ex["labels"] for ex in examples], -100, self.pad_to_multiple_of)
        batch["word_positions"], _ = pad_sequences([ex["word_positions"] for ex in examples], -1)
        if "tags" in examples[0]:
            batch["tags"], _ = pad_sequences([ex["tags"] for ex in examples], -100)
        return batch


class TranslationCollator:
    """`[{"src_ids", "tgt_ids"[, "tgt"]}]` -> source ids/mask, teacher-forcing input/output ids, target mask.

    `tgt_ids` is `[BOS] y_1 .. y_n [EOS]`: the decoder reads all but the last token and predicts all but the first.
    Raw target texts (`references`) travel with validation/test batches for BLEU.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        src_ids, src_mask = pad_sequences([ex["src_ids"] for ex in examples], self.pad_id)
        tgt_ids, tgt_mask = pad_sequences([ex["tgt_ids"] for ex in examples], self.pad_id)
        batch: dict[str, Any] = {
            "src_ids": src_ids,
            "src_mask": src_mask,
            "tgt_in_ids": tgt_ids[:, :-1],
            "tgt_out_ids": tgt_ids[:, 1:],
            "tgt_mask": tgt_mask[:, 1:],
        }
        if "tgt" in examples[0]:
            batch["references"] = [ex["tgt"] for ex in examples]
        return batch

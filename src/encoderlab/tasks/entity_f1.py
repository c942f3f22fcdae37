"""Entity-level precision / recall / F1 with exact span match, counted as the CoNLL `conlleval` script does.

A chunk starts and ends where `conlleval`'s `startOfChunk` / `endOfChunk` say (so an `I-X` after `O` or after
another type opens a chunk, as in IOB1); a predicted chunk counts only if a gold chunk has the same type, the same
first word and the same last word. Partial overlaps count as one false positive and one false negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchmetrics import Metric

Span = tuple[str, int, int]  # (type, first word, last word)


def _split(tag: str) -> tuple[str, str]:
    """`B-PER` -> (`B`, `PER`); `O` (or any tag without a prefix) -> (`O`, ``)."""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIES":
        return tag[0], tag[2:]
    return "O", ""


def entity_spans(tags: Sequence[str]) -> set[Span]:
    """The chunks of one sentence's tag sequence (IOB1, IOB2 or IOBES)."""
    spans: set[Span] = set()
    start: int | None = None
    previous_prefix, previous_type = "O", ""
    for position, tag in enumerate([*tags, "O"]):  # a final O closes an open chunk
        prefix, kind = _split(tag)
        ends = previous_prefix != "O" and (
            prefix in ("B", "S", "O") or previous_prefix in ("E", "S") or previous_type != kind
        )
        if ends and start is not None:
            spans.add((previous_type, start, position - 1))
            start = None
        starts = prefix in ("B", "S") or (
            prefix in ("I", "E") and (previous_prefix in ("E", "S", "O") or previous_type != kind)
        )
        if starts:
            start = position
        previous_prefix, previous_type = prefix, kind
    return spans


def entity_types(tag_names: Sequence[str]) -> list[str]:
    return sorted({kind for prefix, kind in map(_split, tag_names) if prefix != "O"})


class EntityF1(Metric):
    """Accumulates true positives, predicted and gold chunks per entity type; syncs as sums under DDP.

    `update(preds, target)` takes tag ids `[B, W]` on the word level; positions where `target == ignore_index`
    are padding. `compute()` returns `precision`, `recall`, `f1` (micro over types) and `f1_<TYPE>` per type.
    """

    full_state_update = False

    true_positives: torch.Tensor
    predicted: torch.Tensor
    gold: torch.Tensor

    def __init__(self, tag_names: Sequence[str], ignore_index: int = -100) -> None:
        super().__init__()
        self.tag_names = list(tag_names)
        self.types = entity_types(tag_names)
        self.ignore_index = ignore_index
        for name in ("true_positives", "predicted", "gold"):
            self.add_state(name, default=torch.zeros(len(self.types), dtype=torch.long), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        type_index = {kind: i for i, kind in enumerate(self.types)}
        counts = torch.zeros(3, len(self.types), dtype=torch.long)
        for pred_row, gold_row in zip(preds.tolist(), target.tolist(), strict=True):
            length = sum(1 for g in gold_row if g != self.ignore_index)
            gold = entity_spans([self.tag_names[g] for g in gold_row[:length]])
            predicted = entity_spans([self.tag_names[p] for p in pred_row[:length]])
            for row, spans in enumerate((gold & predicted, predicted, gold)):
                for kind, _, _ in spans:
                    counts[row, type_index[kind]] += 1
        self.true_positives += counts[0].to(self.true_positives.device)
        self.predicted += counts[1].to(self.predicted.device)
        self.gold += counts[2].to(self.gold.device)

    def compute(self) -> dict[str, torch.Tensor]:
        precision, recall, f1 = _prf(self.true_positives.sum(), self.predicted.sum(), self.gold.sum())
        scores = {"precision": precision, "recall": recall, "f1": f1}
        for i, kind in enumerate(self.types):
            scores[f"f1_{kind}"] = _prf(self.true_positives[i], self.predicted[i], self.gold[i])[2]
        return scores


def _prf(tp: torch.Tensor, predicted: torch.Tensor, gold: torch.Tensor) -> tuple[torch.Tensor, ...]:
    tp, predicted, gold = tp.double(), predicted.double(), gold.double()
    precision = tp / predicted if predicted > 0 else torch.zeros((), dtype=torch.double, device=tp.device)
    recall = tp / gold if gold > 0 else torch.zeros((), dtype=torch.double, device=tp.device)
    total = precision + recall
    f1 = 2 * precision * recall / total if total > 0 else torch.zeros((), dtype=torch.double, device=tp.device)
    return precision.float(), recall.float(), f1.float()

"""Entity-level P/R/F1 with exact span match, against hand-counted examples."""

from __future__ import annotations

import pytest
import torch

from encoderlab.data.conll2003 import TAGS
from encoderlab.tasks.entity_f1 import EntityF1, entity_spans


def ids(tags: str) -> list[int]:
    return [TAGS.index(t) for t in tags.split()]


def scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """`pairs` of (predicted, gold) sentences, padded to one batch with -100 in the gold."""
    width = max(len(g.split()) for _, g in pairs)
    preds = torch.zeros(len(pairs), width, dtype=torch.long)
    target = torch.full((len(pairs), width), -100, dtype=torch.long)
    for row, (pred, gold) in enumerate(pairs):
        preds[row, : len(pred.split())] = torch.tensor(ids(pred))
        target[row, : len(gold.split())] = torch.tensor(ids(gold))
    metric = EntityF1(TAGS)
    metric.update(preds, target)
    return {name: float(value) for name, value in metric.compute().items()}


def test_spans_of_iob2_and_iob1_sequences() -> None:
    assert entity_spans(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 1), ("LOC", 3, 3)}
    # conlleval: I- after O or after another type opens a chunk; B- after the same type opens a new one
    assert entity_spans(["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG"]) == {
        ("PER", 0, 1),
        ("PER", 2, 2),
        ("LOC", 4, 4),
        ("ORG", 5, 5),
    }
    assert entity_spans(["O", "O"]) == set()


def test_exact_match_counts_and_partial_matches_do_not() -> None:
    # gold: PER(0-1), LOC(3); predicted: PER(0) (too short) and LOC(3) (exact) -> 1 of 2 right each way
    result = scores([("B-PER O O B-LOC", "B-PER I-PER O B-LOC")])
    assert result["precision"] == pytest.approx(0.5)
    assert result["recall"] == pytest.approx(0.5)
    assert result["f1"] == pytest.approx(0.5)


def test_too_long_span_and_wrong_type_are_both_misses() -> None:
    # gold ORG(0-1), PER(3); predicted ORG(0-2) (one word too long) and LOC(3) (right words, wrong type)
    result = scores([("B-ORG I-ORG I-ORG B-LOC", "B-ORG I-ORG O B-PER")])
    assert result["precision"] == result["recall"] == result["f1"] == 0.0


def test_counts_accumulate_over_sentences_and_batches_per_type() -> None:
    metric = EntityF1(TAGS)
    batches = [
        [("B-PER I-PER O", "B-PER I-PER O"), ("B-LOC O", "B-ORG O")],  # PER right; LOC predicted where ORG is
        [("O B-MISC", "O B-MISC"), ("O O O", "B-LOC I-LOC O")],  # MISC right; a LOC missed
    ]
    for pairs in batches:
        width = 3
        preds = torch.zeros(len(pairs), width, dtype=torch.long)
        target = torch.full((len(pairs), width), -100, dtype=torch.long)
        for row, (pred, gold) in enumerate(pairs):
            preds[row, : len(pred.split())] = torch.tensor(ids(pred))
            target[row, : len(gold.split())] = torch.tensor(ids(gold))
        metric.update(preds, target)
    result = {k: float(v) for k, v in metric.compute().items()}
    # predicted PER, LOC, MISC (2 right of 3); gold PER, ORG, MISC, LOC (2 found of 4)
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx(2 / 4)
    assert result["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert result["f1_PER"] == result["f1_MISC"] == 1.0
    assert result["f1_LOC"] == result["f1_ORG"] == 0.0


def test_predictions_beyond_the_sentence_are_ignored() -> None:
    # the padded tail (-100 in the gold) may hold anything in the predictions
    preds = torch.tensor([ids("B-PER O B-LOC I-LOC")])
    target = torch.tensor([[*ids("B-PER O"), -100, -100]])
    metric = EntityF1(TAGS)
    metric.update(preds, target)
    assert float(metric.compute()["precision"]) == 1.0


def test_no_entities_anywhere_scores_zero_without_dividing_by_zero() -> None:
    assert scores([("O O", "O O")])["f1"] == 0.0

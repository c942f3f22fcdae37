"""Validation, test or cross-validation folds carved off a labelled training split: stratified by label, with a
fixed seed, and identical texts kept on one side."""

from __future__ import annotations

import random

from datasets import Dataset

from encoderlab.errors import ConfigError


def carve_split(rows: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """Split off `fraction` of `rows`, stratified by `label` and with a fixed seed: `(rest, carved)`.

    Identical texts stay on one side, so a duplicated example can't sit in both training and validation.
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"a split fraction must lie strictly between 0 and 1, got {fraction}")
    carved: list[int] = []
    for label_groups in shuffled_label_groups(rows, seed):
        target = round(fraction * sum(len(g) for g in label_groups))
        taken = 0
        for group in label_groups:
            if taken + len(group) <= target:
                carved.extend(group)
                taken += len(group)
    return split_off(rows, carved)


def fold_split(rows: Dataset, folds: int, fold: int, seed: int) -> tuple[Dataset, Dataset]:
    """Fold `fold` of a stratified `folds`-fold partition of `rows` (fixed seed): `(other folds, this fold)`.

    Every example is in exactly one fold; identical texts share a fold.
    """
    if folds < 2:
        raise ConfigError(f"cross-validation needs at least 2 folds, got cv_folds={folds}")
    if not 0 <= fold < folds:
        raise ConfigError(f"cv_fold={fold} is not a fold of {folds}; choose 0 to {folds - 1}")
    carved: list[int] = []
    offset = 0  # continue the round-robin across labels, so fold sizes differ by at most one group
    for label_groups in shuffled_label_groups(rows, seed):
        for position, group in enumerate(label_groups, start=offset):
            if position % folds == fold:
                carved.extend(group)
        offset += len(label_groups)
    return split_off(rows, carved)


def shuffled_label_groups(rows: Dataset, seed: int) -> list[list[list[int]]]:
    """Per label (sorted), the groups of row indices with identical text, shuffled with `seed`."""
    groups: dict[tuple[int, str], list[int]] = {}
    for index, (label, text) in enumerate(zip(rows["label"], rows["text"], strict=True)):
        groups.setdefault((label, text), []).append(index)
    by_label: dict[int, list[list[int]]] = {}
    for (label, _), indices in groups.items():
        by_label.setdefault(label, []).append(indices)
    rng = random.Random(seed)
    for label in sorted(by_label):
        rng.shuffle(by_label[label])
    return [by_label[label] for label in sorted(by_label)]


def split_off(rows: Dataset, carved: list[int]) -> tuple[Dataset, Dataset]:
    carved_set = set(carved)
    rest = [i for i in range(len(rows)) if i not in carved_set]
    return rows.select(rest), rows.select(sorted(carved))

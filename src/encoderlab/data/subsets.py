"""`data.train_limit=N`: a seed-fixed subset of the training split, stratified by label where labels are classes
(each class keeps its share, rounded by largest remainder), uniform otherwise (token tags, translation pairs).
Validation and test are never touched, so a learning curve's points are scored on the same examples."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from datasets import Dataset

from encoderlab.errors import ConfigError


def class_quotas(counts: dict[object, int], limit: int) -> dict[object, int]:
    """How many of each class a subset of `limit` keeps: proportional, largest remainder, at least one per class
    when `limit` allows it (a 1k-label SST-2 subset still has both labels)."""
    total = sum(counts.values())
    exact = {label: limit * count / total for label, count in counts.items()}
    quotas = {label: int(share) for label, share in exact.items()}
    if limit >= len(counts):
        for label in counts:
            quotas[label] = max(quotas[label], 1)
    leftover = limit - sum(quotas.values())
    by_remainder = sorted(counts, key=lambda label: (-(exact[label] - int(exact[label])), str(label)))
    for label in by_remainder:
        if leftover <= 0:
            break
        if quotas[label] < counts[label]:
            quotas[label] += 1
            leftover -= 1
    while leftover < 0:  # the one-per-class floor overshot: take back from the largest quotas
        label = max(quotas, key=lambda key: (quotas[key], str(key)))
        quotas[label] -= 1
        leftover += 1
    return quotas


def limit_training_split(train: Dataset, limit: int | None, seed: int, label_column: str = "label") -> Dataset:
    """The first `limit` of a seeded permutation, per class when the labels are classes; rows keep their order."""
    if limit is None:
        return train
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ConfigError(f"data.train_limit={limit!r} must be a positive number of examples (or null for all)")
    if limit > len(train):
        raise ConfigError(
            f"data.train_limit={limit} exceeds the {len(train)} training examples; "
            "lower it or set data.train_limit=null"
        )
    rng = np.random.default_rng(seed)
    labels = train[label_column] if label_column in train.column_names else None
    if labels is None or (labels and isinstance(labels[0], list)):
        chosen = rng.permutation(len(train))[:limit]
    else:
        groups: dict[object, list[int]] = defaultdict(list)
        for index, label in enumerate(labels):
            groups[label].append(index)
        quotas = class_quotas({label: len(rows) for label, rows in groups.items()}, limit)
        chosen = np.concatenate(
            [rng.permutation(np.asarray(groups[label]))[: quotas[label]] for label in sorted(groups, key=str)]
        )
    return train.select(np.sort(chosen).tolist())

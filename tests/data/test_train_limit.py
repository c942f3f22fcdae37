"""`data.train_limit=N`: stratified by class, fixed by the seed, and only ever the training split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from datasets import Dataset
from hydra.utils import instantiate

from encoderlab.data.subsets import class_quotas, limit_training_split
from encoderlab.errors import ConfigError


def labelled(counts: dict[int, int]) -> Dataset:
    rows = [{"text": f"{label} {i}", "label": label} for label, count in counts.items() for i in range(count)]
    return Dataset.from_list(rows)


def test_each_class_keeps_its_share() -> None:
    train = labelled({0: 700, 1: 250, 2: 50})
    subset = limit_training_split(train, 100, seed=1)
    assert len(subset) == 100
    assert Counter(subset["label"]) == {0: 70, 1: 25, 2: 5}
    assert len(set(subset["text"])) == 100  # no example twice


def test_a_tiny_limit_still_keeps_every_class() -> None:
    assert class_quotas({0: 990, 1: 10}, 5) == {0: 4, 1: 1}
    assert sum(class_quotas({0: 3, 1: 3, 2: 3}, 2).values()) == 2


def test_the_subset_is_fixed_by_the_seed() -> None:
    train = labelled({0: 500, 1: 500})
    first, again = (limit_training_split(train, 64, seed=7)["text"] for _ in range(2))
    assert first == again
    assert limit_training_split(train, 64, seed=8)["text"] != first


def test_token_tags_are_subsampled_uniformly() -> None:
    train = Dataset.from_list([{"tokens": [str(i)], "label": [i % 3]} for i in range(50)])
    assert len(limit_training_split(train, 10, seed=0)) == 10


@pytest.mark.parametrize("limit", [0, -3, 1.5, "many"])
def test_a_limit_that_is_not_a_positive_count_is_one_line(limit: object) -> None:
    with pytest.raises(ConfigError, match="must be a positive number of examples"):
        limit_training_split(labelled({0: 5, 1: 5}), limit, seed=0)  # type: ignore[arg-type]


def test_a_limit_above_the_split_is_one_line() -> None:
    with pytest.raises(ConfigError, match="exceeds the 10 training examples"):
        limit_training_split(labelled({0: 5, 1: 5}), 11, seed=0)


def test_validation_and_test_are_untouched(make_cfg, tiny_data_dir: Path) -> None:
    full = instantiate(make_cfg("data=sst2").data)
    limited = instantiate(make_cfg("data=sst2", "data.train_limit=40").data)
    full.setup("fit")
    limited.setup("fit")
    assert len(limited.datasets["train"]) == 40
    assert Counter(limited.datasets["train"]["label"]) == {0: 20, 1: 20}  # the tiny SST-2 is balanced
    for split in ("validation", "test"):
        assert limited.datasets[split]["input_ids"] == full.datasets[split]["input_ids"]

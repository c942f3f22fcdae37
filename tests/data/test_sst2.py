"""The SST-2 data module on files in SST-2's own format, built at test time (and on the real files if present)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from encoderlab.data.sst2 import SST2DataModule
from encoderlab.errors import DataNotFoundError, UserError
from tests.conftest import SHARED_DATA


def make_module(data_dir: Path, cache_dir: Path, **kwargs) -> SST2DataModule:
    return SST2DataModule(
        name="sst2",
        data_dir=str(data_dir),
        cache_dir=str(cache_dir),
        tokenizer={"vocab_size": 200, "min_frequency": 1, "max_length": 16},
        batch_size=8,
        **kwargs,
    )


def test_splits_tokenized_and_test_is_validation(tiny_data_dir: Path, tmp_path: Path) -> None:
    module = make_module(tiny_data_dir, tmp_path)
    module.prepare_data()
    module.setup("fit")
    assert len(module.datasets["train"]) == 256
    assert len(module.datasets["validation"]) == len(module.datasets["test"]) == 64
    assert module.datasets["test"]["label"] == module.datasets["validation"]["label"]
    assert module.num_classes == 2 and module.label_names == ["negative", "positive"]
    batch = next(iter(module.train_dataloader()))
    assert batch["input_ids"].shape[0] == 8
    assert batch["input_ids"].shape == batch["attention_mask"].shape
    assert (batch["input_ids"][batch["attention_mask"] == 0] == module.pad_id).all()
    assert set(batch["labels"].tolist()) <= {0, 1}


def test_truncated_texts_are_counted(tiny_data_dir: Path, tmp_path: Path) -> None:
    module = SST2DataModule(
        name="sst2",
        data_dir=str(tiny_data_dir),
        cache_dir=str(tmp_path),
        tokenizer={"vocab_size": 200, "min_frequency": 1, "max_length": 6},
    )
    module.setup("fit")
    lengths = [len(ids) for ids in module.datasets["train"]["input_ids"]]
    assert max(lengths) == 6
    assert module.truncated["train"] == sum(module.datasets["train"]["truncated"]) > 0


def test_tokenizer_is_trained_on_train_split_only(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "sst2"
    folder.mkdir(parents=True)
    for split, word in (("train", "alpha"), ("validation", "omega")):
        with gzip.open(folder / f"{split}.tsv.gz", "wt") as handle:
            handle.write("sentence\tlabel\n" + f"{word} beta\t1\n{word} gamma\t0\n" * 5)
    module = make_module(tmp_path / "data", tmp_path / "cache")
    vocab = module.tokenizer.get_vocab()
    assert "alpha" in vocab and "omega" not in vocab


def test_missing_files_offline_name_the_path_and_make_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    module = make_module(tmp_path / "nowhere", tmp_path / "cache")
    with pytest.raises(DataNotFoundError) as info:
        module.prepare_data()
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "nowhere" / "sst2" / "train.tsv.gz") in message
    assert "make data" in message and "stanfordnlp/sst2" in message


def test_labels_outside_the_label_set_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "sst2"
    folder.mkdir(parents=True)
    for split in ("train", "validation"):
        with gzip.open(folder / f"{split}.tsv.gz", "wt") as handle:
            handle.write("sentence\tlabel\ngood\t1\nbad\t0\nodd\t7\n")
    module = make_module(tmp_path / "data", tmp_path / "cache")
    with pytest.raises(UserError, match=r"labels \[7\] outside 0..1"):
        module.setup("fit")


@pytest.mark.skipif(not (SHARED_DATA / "sst2").exists(), reason="real SST-2 not present")
def test_real_sst2_files_load_with_glue_sizes(tmp_path: Path) -> None:
    module = make_module(SHARED_DATA, tmp_path)
    raw = module.load_splits()
    assert len(raw["train"]) == 67349 and len(raw["validation"]) == 872
    assert sorted(set(raw["validation"]["label"])) == [0, 1]
    assert all(isinstance(t, str) and t for t in raw["validation"]["text"])

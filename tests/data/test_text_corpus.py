"""Unlabelled corpora for pretraining: documents packed into blocks, WikiText markup undone, fixed eval masks."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest
import torch

from encoderlab.data.text_corpus import TextCorpusDataModule, pack_blocks, read_corpus_lines
from encoderlab.errors import UserError
from encoderlab.models.masked_lm import IGNORE_INDEX

CLS, SEP, PAD = 2, 3, 0


def test_documents_are_packed_into_full_blocks_with_a_sep_between_documents() -> None:
    docs = [[10, 11, 12], [13, 14], None, [20, 21, 22, 23], None, [30], None]
    blocks = pack_blocks(iter(docs), block_size=6, cls_id=CLS, sep_id=SEP, pad_id=PAD)
    assert blocks.tolist() == [
        [CLS, 10, 11, 12, 13, SEP],
        [CLS, 14, SEP, 20, 21, SEP],
        [CLS, 22, 23, SEP, 30, SEP],
        [CLS, SEP, SEP, PAD, PAD, PAD],  # the last document's [SEP], then the block's own, then padding
    ]


def test_wikitext_markup_is_undone(tmp_path: Path) -> None:
    path = tmp_path / "wiki.valid.tokens.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(" = = Early life = = \n 3 @.@ 5 km , a well @-@ known <unk> \n")
    assert list(read_corpus_lines(path)) == ["Early life", "3.5 km , a well-known [UNK]"]


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    words = ["the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "tree", "big", "small"]
    lines = [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(9)) for i in range(300)]
    (folder / "a.txt").write_text("\n".join(lines[:150]) + "\n\n" + "\n".join(lines[150:200]) + "\n")
    with gzip.open(folder / "b.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines[200:]) + "\n")
    return folder


def test_a_folder_of_text_files_gives_train_validation_and_fixed_test_masks(tmp_path: Path) -> None:
    data = TextCorpusDataModule(
        name="text_corpus", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), path="corpus",
        validation_fraction=0.1, block_size=32, tokenizer={"vocab_size": 100, "min_frequency": 1}, batch_size=4,
    )  # fmt: skip
    write_corpus(tmp_path / "corpus")
    data.setup()
    sizes = {split: len(data.datasets[split]) for split in ("train", "validation", "test")}
    assert sizes["validation"] == sizes["test"] and sizes["train"] > 8 * sizes["validation"] > 0
    batch = next(iter(data.val_dataloader()))
    again = next(iter(data.val_dataloader()))
    assert torch.equal(batch["labels"], again["labels"]), "evaluation masks are fixed"
    assert ((batch["labels"] != IGNORE_INDEX).sum(1) > 0).all()
    train = next(iter(data.train_dataloader()))
    assert train["input_ids"].shape == (4, 32) and train["attention_mask"].all()


def test_a_missing_path_is_one_line_naming_it(tmp_path: Path) -> None:
    data = TextCorpusDataModule(name="text_corpus", data_dir=str(tmp_path), cache_dir=str(tmp_path), path="nowhere")
    with pytest.raises(UserError, match=r"data.path=nowhere: .*nowhere does not exist"):
        data.setup()


def test_a_spoiled_block_cache_is_named_and_rebuilt(tmp_path: Path, caplog) -> None:
    def corpus() -> TextCorpusDataModule:
        return TextCorpusDataModule(
            name="text_corpus", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), path="corpus/a.txt",
            validation_path="corpus/b.txt.gz", block_size=32, tokenizer={"vocab_size": 100, "min_frequency": 1},
        )  # fmt: skip

    write_corpus(tmp_path / "corpus")
    first = corpus()
    first.setup()
    entry = first._cache_path("validation")
    entry.write_bytes(entry.read_bytes()[:200])  # a run killed while writing it
    with caplog.at_level(logging.WARNING, logger="encoderlab"):
        second = corpus()
        second.setup()
    assert any(f"the cached packed blocks {entry} can't be loaded" in r.getMessage() for r in caplog.records)
    assert torch.equal(second.datasets["validation"].blocks, first.datasets["validation"].blocks)

"""Translation data modules on tiny parallel files in Multi30k's format (and the real files when present)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from encoderlab.data.multi30k import Multi30kDataModule
from encoderlab.data.tokenizer import BOS, EOS, PAD
from encoderlab.data.translation import detokenize
from encoderlab.data.zh_en import ZhEnDataModule
from encoderlab.errors import DataNotFoundError, UserError
from tests.conftest import SHARED_DATA, write_lines, write_multi30k

TOKENIZER = {"algorithm": "bpe", "vocab_size": 300, "min_frequency": 1, "lowercase": False, "max_length": 32}


def multi30k(data_dir: Path, cache_dir: Path, **kwargs) -> Multi30kDataModule:
    settings = {**TOKENIZER, **kwargs.pop("tokenizer", {})}
    return Multi30kDataModule(
        name="multi30k",
        data_dir=str(data_dir),
        cache_dir=str(cache_dir),
        src_lang=kwargs.pop("src_lang", "en"),
        tgt_lang=kwargs.pop("tgt_lang", "de"),
        tokenizer=settings,
        batch_size=8,
        **kwargs,
    )


def test_splits_batches_and_teacher_forcing_layout(tiny_data_dir: Path, tmp_path: Path) -> None:
    module = multi30k(tiny_data_dir, tmp_path)
    module.setup("fit")
    assert [len(module.datasets[s]) for s in ("train", "validation", "test")] == [96, 32, 32]
    tokenizer = module.tokenizer
    pad, bos, eos = (tokenizer.token_to_id(t) for t in (PAD, BOS, EOS))
    assert module.task_kwargs() == {
        "vocab_size": tokenizer.get_vocab_size(),
        "pad_id": pad,
        "bos_id": bos,
        "eos_id": eos,
        "src_lang": "en",
        "tgt_lang": "de",
    }
    batch = next(iter(module.val_dataloader()))
    assert (batch["tgt_in_ids"][:, 0] == bos).all()
    assert batch["tgt_in_ids"].shape == batch["tgt_out_ids"].shape == batch["tgt_mask"].shape
    for row in range(batch["src_ids"].shape[0]):
        n_src, n_tgt = int(batch["src_mask"][row].sum()), int(batch["tgt_mask"][row].sum())
        assert batch["src_ids"][row, n_src - 1] == eos and (batch["src_ids"][row, n_src:] == pad).all()
        assert batch["tgt_out_ids"][row, n_tgt - 1] == eos
        assert batch["tgt_in_ids"][row, 1:n_tgt].tolist() == batch["tgt_out_ids"][row, : n_tgt - 1].tolist()
        reference = batch["references"][row]
        assert detokenize(tokenizer, batch["tgt_out_ids"][row].tolist()) == reference
    assert "references" not in next(iter(module.train_dataloader()))


def test_direction_is_chosen_by_language_codes(tiny_data_dir: Path, tmp_path: Path) -> None:
    module = multi30k(tiny_data_dir, tmp_path, src_lang="fr", tgt_lang="en")
    raw = module.load_splits()
    assert raw["train"][0]["src"].startswith(("Un ", "Le ")) and raw["train"][0]["tgt"].startswith(("A ", "The "))


@pytest.mark.parametrize("src,tgt,message", [("en", "xx", "data.tgt_lang='xx'"), ("es", "de", "data.src_lang='es'")])
def test_unknown_language_lists_the_available_ones(tiny_data_dir: Path, tmp_path: Path, src, tgt, message) -> None:
    module = multi30k(tiny_data_dir, tmp_path, src_lang=src, tgt_lang=tgt)
    with pytest.raises(UserError) as info:
        module.prepare_data()
    assert message in str(info.value) and "available: en, de, fr" in str(info.value)
    assert "\n" not in str(info.value)


def test_same_source_and_target_language_is_refused(tiny_data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="both 'de'"):
        multi30k(tiny_data_dir, tmp_path, src_lang="de", tgt_lang="de").prepare_data()


def test_joint_tokenizer_is_trained_on_both_sides_of_the_training_split_only(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "multi30k"
    for stem, (en, de) in {
        "train": ("alpha beta", "gamma delta"),
        "val": ("omega beta", "psi delta"),
        "test_2016_flickr": ("omega beta", "psi delta"),
    }.items():
        write_lines(folder / f"{stem}.en.gz", [en] * 20)
        write_lines(folder / f"{stem}.de.gz", [de] * 20)
    vocab = multi30k(tmp_path / "data", tmp_path / "cache").tokenizer.get_vocab()
    assert {"Ġalpha", "Ġgamma"} <= vocab.keys()
    assert not {"Ġomega", "Ġpsi"} & vocab.keys()


def test_byte_level_bpe_round_trips_any_text(tiny_data_dir: Path, tmp_path: Path) -> None:
    tokenizer = multi30k(tiny_data_dir, tmp_path, tokenizer={"max_length": 128}).tokenizer
    for text in ["Ein Mädchen läuft über die Straße.", "Très «bien» — 100 %!", "汉字也可以"]:
        ids = tokenizer.encode(text).ids
        assert ids[-1] == tokenizer.token_to_id(EOS)
        assert detokenize(tokenizer, ids) == text


def test_long_pairs_are_truncated_and_counted(tmp_path: Path) -> None:
    data_dir = write_multi30k(tmp_path / "data")
    module = multi30k(data_dir, tmp_path / "cache", tokenizer={"max_length": 6})
    module.setup("fit")
    assert max(len(ids) for ids in module.datasets["train"]["src_ids"]) == 6
    assert module.truncated["train"] == len(module.datasets["train"])


def test_misaligned_files_are_a_clear_error(tmp_path: Path) -> None:
    data_dir = write_multi30k(tmp_path / "data")
    write_lines(data_dir / "multi30k" / "val.de.gz", ["nur eine Zeile"])
    with pytest.raises(UserError, match="must be line-aligned"):
        multi30k(data_dir, tmp_path / "cache").load_splits()


def test_missing_files_offline_name_the_path_and_make_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataNotFoundError) as info:
        multi30k(tmp_path / "nowhere", tmp_path / "cache").prepare_data()
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "multi30k" / "train.en.gz") in message
    assert "make data" in message and "bentrevett/multi30k" in message


def write_zh_en(folder: Path) -> Path:
    pairs = [
        ("我爱你。", "I love you."),
        ("他很高兴。", "He is happy."),
        ("我们走吧。", "Let's go."),
        ("你好吗？", "How are you?"),
    ]
    for split in ("train", "valid", "test"):
        write_lines(folder / "zh_en" / f"{split}.zh.gz", [zh for zh, _ in pairs] * 5)
        write_lines(folder / "zh_en" / f"{split}.en.gz", [en for _, en in pairs] * 5)
    return folder


def test_zh_en_unigram_segments_chinese_and_detokenizes_without_spaces(tmp_path: Path) -> None:
    module = ZhEnDataModule(
        name="zh_en",
        data_dir=str(write_zh_en(tmp_path / "data")),
        cache_dir=str(tmp_path / "cache"),
        src_lang="en",
        tgt_lang="zh",
        tokenizer={"algorithm": "unigram", "vocab_size": 60, "lowercase": False, "max_length": 32},
    )
    module.setup("fit")
    tokenizer = module.tokenizer
    for text in ["我爱你。", "他很高兴。", "He is happy."]:
        assert detokenize(tokenizer, tokenizer.encode(text).ids) == text
    assert module.task_kwargs()["tgt_lang"] == "zh"


def test_zh_en_without_files_says_make_data(tmp_path: Path) -> None:
    module = ZhEnDataModule(name="zh_en", data_dir=str(tmp_path), cache_dir=str(tmp_path), src_lang="zh", tgt_lang="en")
    with pytest.raises(DataNotFoundError, match="make data"):
        module.prepare_data()


@pytest.mark.skipif(not (SHARED_DATA / "multi30k").exists(), reason="real Multi30k not present")
def test_real_multi30k_files_have_the_official_sizes(tmp_path: Path) -> None:
    raw = multi30k(SHARED_DATA, tmp_path, tgt_lang="fr").load_splits()
    assert [len(raw[s]) for s in ("train", "validation", "test")] == [29000, 1014, 1000]
    with gzip.open(SHARED_DATA / "multi30k" / "test_2016_flickr.fr.gz", "rt", encoding="utf-8") as handle:
        assert raw["test"][0]["tgt"] == handle.readline().rstrip("\n")


@pytest.mark.skipif(not (SHARED_DATA / "zh_en").exists(), reason="real zh_en not present")
def test_real_zh_en_files_have_their_sizes(tmp_path: Path) -> None:
    module = ZhEnDataModule(
        name="zh_en", data_dir=str(SHARED_DATA), cache_dir=str(tmp_path), src_lang="zh", tgt_lang="en"
    )
    raw = module.load_splits()
    assert [len(raw[s]) for s in ("train", "validation", "test")] == [25626, 3295, 3107]

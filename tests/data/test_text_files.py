"""The own-data module on generated CSV/TSV/JSONL files: formats, columns, label names, carving, errors."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hydra.utils import instantiate

from encoderlab.data.encoding import encode_head_tail
from encoderlab.data.text_files import TextFilesDataModule, infer_label_names
from encoderlab.errors import ConfigError, DataNotFoundError, UserError
from tests.builders import write_bbc_news

ROWS = [
    {
        "title": f"title {i}",
        "body": f"{'great' if i % 3 else 'awful'} story number {i}",
        "label": ["neg", "pos"][i % 3 > 0],
    }
    for i in range(60)
]


def write_rows(path: Path, rows: list[dict], file_format: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        if file_format == "jsonl":
            handle.writelines(json.dumps(row) + "\n" for row in rows)
        else:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t" if file_format == "tsv" else ",")
            writer.writeheader()
            writer.writerows(rows)
    return path


def make_module(tmp_path: Path, **kwargs) -> TextFilesDataModule:
    settings = {"vocab_size": 100, "min_frequency": 1, "max_length": 32}
    return TextFilesDataModule(
        name="mine", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), tokenizer=settings, **kwargs
    )


@pytest.mark.parametrize(
    "name", ["train.csv", "train.csv.gz", "train.tsv", "train.tsv.gz", "train.jsonl", "train.jsonl.gz"]
)
def test_every_format_plain_or_gzip_reads_the_same_rows(tmp_path: Path, name: str) -> None:
    file_format = name.split(".")[1]
    write_rows(tmp_path / name, ROWS, file_format)
    module = make_module(tmp_path, train_file=name, text_column="body")
    raw = module.load_splits()
    assert module.label_names == ["neg", "pos"], "inferred from the training file, sorted"
    total = sum(len(raw[split]) for split in ("train", "validation", "test"))
    assert total == len(ROWS)
    texts = sorted(t for split in raw.values() for t in split["text"])
    assert texts == sorted(row["body"] for row in ROWS)
    for split in raw.values():
        for text, label in zip(split["text"], split["label"], strict=True):
            assert label == int("great" in text)


def test_carved_splits_are_stratified_disjoint_and_fixed_by_split_seed(tmp_path: Path) -> None:
    write_rows(tmp_path / "train.csv", ROWS, "csv")
    raw = make_module(tmp_path, train_file="train.csv", text_column="body", validation_fraction=0.2).load_splits()
    assert len(raw["test"]) == 6 and len(raw["validation"]) == 11  # 10% of 60, then 20% of the 54 left
    assert Counter(raw["test"]["label"]) == {1: 4, 0: 2}, "each label keeps its share (40 pos / 20 neg)"
    splits = [set(raw[s]["text"]) for s in ("train", "validation", "test")]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])
    again = make_module(tmp_path, train_file="train.csv", text_column="body", validation_fraction=0.2).load_splits()
    assert again["validation"]["text"] == raw["validation"]["text"]
    other = make_module(tmp_path, train_file="train.csv", text_column="body", validation_fraction=0.2, split_seed=1)
    assert other.load_splits()["validation"]["text"] != raw["validation"]["text"]


def test_duplicated_texts_stay_on_one_side(tmp_path: Path) -> None:
    rows = [{"text": f"copy {i % 10}", "label": str(i % 2)} for i in range(40)]  # every text four times
    write_rows(tmp_path / "train.csv", rows, "csv")
    raw = make_module(tmp_path, train_file="train.csv", validation_fraction=0.25).load_splits()
    assert not set(raw["train"]["text"]) & set(raw["validation"]["text"])
    assert not set(raw["train"]["text"]) & set(raw["test"]["text"])


def test_cross_validation_folds_partition_the_training_rows_stratified(tmp_path: Path) -> None:
    write_rows(tmp_path / "train.csv", ROWS, "csv")
    write_rows(tmp_path / "test.csv", ROWS[:6], "csv")

    def fold(k: int) -> dict:
        module = make_module(
            tmp_path, train_file="train.csv", test_file="test.csv", text_column="body", cv_folds=5, cv_fold=k
        )
        return module.load_splits()

    folds = [fold(k) for k in range(5)]
    validation_texts = [set(f["validation"]["text"]) for f in folds]
    assert sorted(len(v) for v in validation_texts) == [12] * 5
    assert set().union(*validation_texts) == {row["body"] for row in ROWS}, "every row validates exactly once"
    assert sum(map(len, validation_texts)) == len(ROWS)
    for f in folds:
        assert Counter(f["validation"]["label"]) == {1: 8, 0: 4}, "each fold keeps the label shares"
        assert not set(f["train"]["text"]) & set(f["validation"]["text"])
        assert len(f["train"]) == 48 and len(f["test"]) == 6
    assert fold(2)["validation"]["text"] == folds[2]["validation"]["text"], "fixed by split_seed"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"cv_folds": 5, "cv_fold": 5}, "cv_fold=5 is not a fold of 5; choose 0 to 4"),
        ({"cv_folds": 1}, "at least 2 folds"),
        ({"cv_folds": 5, "validation_file": "train.csv"}, "validation_file is set"),
    ],
)
def test_bad_fold_settings_are_named(tmp_path: Path, settings: dict, expected: str) -> None:
    write_rows(tmp_path / "train.csv", ROWS, "csv")
    with pytest.raises(ConfigError, match=re.escape(expected)):
        make_module(tmp_path, train_file="train.csv", text_column="body", **settings).load_splits()


def test_two_text_columns_become_a_pair_with_segment_ids(tmp_path: Path) -> None:
    write_rows(tmp_path / "train.jsonl", ROWS, "jsonl")
    module = make_module(tmp_path, train_file="train.jsonl", text_column="title", text_pair_column="body")
    module.setup("fit")
    example = module.datasets["train"][0]
    assert set(example["token_type_ids"]) == {0, 1}
    assert len(example["token_type_ids"]) == len(example["input_ids"])
    batch = next(iter(module.train_dataloader()))
    assert batch["token_type_ids"].shape == batch["input_ids"].shape
    vocab = module.tokenizer.get_vocab()
    assert "title" in vocab and "story" in vocab, "the tokenizer learns from both columns"


def test_given_label_names_fix_the_ids_and_unknown_labels_name_label_and_file(tmp_path: Path) -> None:
    write_rows(tmp_path / "train.csv", ROWS, "csv")
    write_rows(tmp_path / "valid.csv", [*ROWS[:5], {**ROWS[0], "label": "meh"}], "csv")
    module = make_module(
        tmp_path, train_file="train.csv", validation_file="valid.csv", text_column="body", label_names=["pos", "neg"]
    )
    with pytest.raises(UserError) as info:
        module.load_splits()
    message = str(info.value)
    assert "label 'meh'" in message and str(tmp_path / "valid.csv") in message and "\n" not in message
    write_rows(tmp_path / "valid.csv", ROWS[:5], "csv")
    module = make_module(
        tmp_path, train_file="train.csv", validation_file="valid.csv", text_column="body", label_names=["pos", "neg"]
    )
    raw = module.load_splits()
    assert raw["validation"]["label"] == [0 if row["label"] == "pos" else 1 for row in ROWS[:5]]


def test_integer_labels_are_inferred_in_numeric_order() -> None:
    assert infer_label_names(["10", "2", "1", "2"]) == ["1", "2", "10"]


@pytest.mark.parametrize(
    "content,expected",
    [
        ("", "is empty"),
        ("label,text\n", "has a header but no examples"),
        ("label,body\npos,fine\n", "has no column 'text' (columns: label, body)"),
        ("label,text\npos\n", "line 2 has 1 field but the header has 2 (label, text)"),
        ('{"label": "pos"}\n', "line 1 has no 'text' value"),
    ],
)
def test_file_errors_are_one_line(tmp_path: Path, content: str, expected: str) -> None:
    name = "train.jsonl" if content.startswith("{") else "train.csv"
    (tmp_path / name).write_text(content)
    with pytest.raises(UserError, match=re.escape(expected)) as info:
        make_module(tmp_path, train_file=name).load_splits()
    assert "\n" not in str(info.value)


def test_missing_train_file_and_unknown_format_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"set data\.train_file"):
        make_module(tmp_path).load_splits()
    with pytest.raises(UserError, match=r"nope\.csv does not exist"):
        make_module(tmp_path, train_file="nope.csv").load_splits()
    (tmp_path / "train.txt").write_text("x")
    with pytest.raises(UserError, match=r"set data\.format"):
        make_module(tmp_path, train_file="train.txt").load_splits()


def test_bbc_news_layout_keeps_multiline_articles(tmp_path: Path) -> None:
    write_bbc_news(tmp_path)
    module = make_module(
        tmp_path, train_file="bbc_news/train.csv.gz", test_file="bbc_news/test.csv.gz", validation_fraction=0.1
    )
    raw = module.load_splits()
    # 10% of each class of 32 rounds to 3: 15 validation rows
    assert (len(raw["train"]), len(raw["validation"]), len(raw["test"])) == (145, 15, 40)
    assert all("\n\n" in text for text in raw["test"]["text"]), "headline and paragraphs survive the CSV round trip"
    assert module.label_names == ["business", "entertainment", "politics", "sport", "tech"]


def test_head_tail_keeps_the_start_and_the_end(tmp_path: Path) -> None:
    rows = [{"text": " ".join(f"w{i}" for i in range(40)), "label": "a"}] * 4
    write_rows(tmp_path / "train.csv", rows, "csv")
    module = make_module(tmp_path, train_file="train.csv", validation_file="train.csv", test_file="train.csv")
    tokenizer = module.tokenizer
    encoded = encode_head_tail([rows[0]["text"]], tokenizer, max_length=12, head_tokens=4)
    tokens = [tokenizer.id_to_token(i) for i in encoded.input_ids[0]]
    assert tokens == ["[CLS]", "w0", "w1", "w2", "w3", "w34", "w35", "w36", "w37", "w38", "w39", "[SEP]"]
    assert encoded.truncated == [True]
    short = encode_head_tail(["w1 w2"], tokenizer, max_length=12)
    assert short.truncated == [False] and len(short.input_ids[0]) == 4


def test_unknown_truncation_is_refused() -> None:
    with pytest.raises(ConfigError, match="head, head_tail"):
        TextFilesDataModule(name="x", data_dir=".", cache_dir=".", truncation="middle")


def test_ag_news_without_files_offline_names_the_path_and_the_hub(make_cfg, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    module = instantiate(make_cfg("data=ag_news", data_dir=tmp_path / "empty").data)
    with pytest.raises(DataNotFoundError) as info:
        module.load_splits()
    message = str(info.value)
    assert str(tmp_path / "empty" / "ag_news" / "train.csv.gz") in message
    assert "fancyzhx/ag_news" in message and "make data" in message and "\n" not in message


def numbered_rows(count: int) -> list[str]:
    return [f"{['neg', 'pos'][i % 2]}\tstory number {i}" for i in range(count)]


def test_tsv_is_read_unquoted_so_a_stray_quote_swallows_no_rows_and_quotes_stay(tmp_path: Path) -> None:
    rows = numbered_rows(200)
    rows[50] = 'pos\t"an unbalanced quote opens this text'
    rows[51] = 'neg\t"paired" quotes open this one'
    (tmp_path / "train.tsv").write_text("label\ttext\n" + "\n".join(rows) + "\n")
    raw = make_module(tmp_path, train_file="train.tsv").load_splits()
    texts = [text for split in raw.values() for text in split["text"]]
    assert len(texts) == 200, "every row is an example"
    assert '"an unbalanced quote opens this text' in texts and '"paired" quotes open this one' in texts


@pytest.mark.parametrize(
    "bad_row,expected",
    [
        ('pos,"a quote never closed', "line 52 is not valid CSV (a quote opened here is never closed)"),
        ('pos,"quoted" then more', "line 52 is not valid CSV (',' expected after '\"')"),
        ("pos,one, two", "line 52 has 3 fields but the header has 2 (label, text)"),
    ],
)
def test_csv_is_read_strictly_and_a_bad_row_names_file_and_line(tmp_path: Path, bad_row: str, expected: str) -> None:
    rows = [row.replace("\t", ",") for row in numbered_rows(200)]
    rows[50] = bad_row
    (tmp_path / "train.csv").write_text("label,text\n" + "\n".join(rows) + "\n")
    with pytest.raises(UserError) as info:
        make_module(tmp_path, train_file="train.csv").load_splits()
    assert str(info.value).startswith(f"{tmp_path / 'train.csv'} {expected}"), str(info.value)


def test_a_tsv_row_with_a_tab_too_many_names_file_and_line(tmp_path: Path) -> None:
    rows = numbered_rows(20)
    rows[3] = "pos\ta text\twith a tab"
    (tmp_path / "train.tsv").write_text("label\ttext\n" + "\n".join(rows) + "\n\n")
    with pytest.raises(UserError, match=r"train\.tsv line 5 has 3 fields but the header has 2 \(label, text\)"):
        make_module(tmp_path, train_file="train.tsv").load_splits()


@pytest.mark.parametrize("name", ["train.csv", "train.tsv.gz", "train.jsonl"])
def test_a_byte_order_mark_before_the_header_is_dropped(tmp_path: Path, name: str) -> None:
    path = write_rows(tmp_path / name, ROWS, name.split(".")[1])
    content = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    content = "\ufeff".encode() + content
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    raw = make_module(tmp_path, train_file=name, text_column="title").load_splits()  # the first column
    assert sum(len(split) for split in raw.values()) == len(ROWS)
    assert sorted(t for split in raw.values() for t in split["text"]) == sorted(row["title"] for row in ROWS)


HUGE_WORDS = 250_000  # a ~2 MB line: big enough to show the cap, small enough to tokenize uncapped in a test


@pytest.mark.parametrize("truncation", ["head", "head_tail"])
def test_a_huge_line_is_cut_before_tokenizing_without_changing_its_tokens(tmp_path: Path, truncation: str) -> None:
    huge = " ".join(f"w{i}" for i in range(HUGE_WORDS))
    rows = [*ROWS, {"title": "t", "body": huge, "label": "pos"}]
    write_rows(tmp_path / "train.csv", rows, "csv")
    files = {"train_file": "train.csv", "validation_file": "train.csv", "test_file": "train.csv"}
    module = make_module(tmp_path, **files, text_column="body", truncation=truncation, head_tokens=8)
    module.setup("fit")
    cap = 100 * 32  # the default: 100 characters per token of max_length
    stored = module.load_splits()["train"]["text"]
    assert len(stored[-1]) <= (2 * cap + 1 if truncation == "head_tail" else cap) < len(huge) // 200
    assert stored[:-1] == [row["body"] for row in ROWS], "normal texts are untouched"
    tokenizer = module.tokenizer
    if truncation == "head":
        uncapped = tokenizer.encode(huge).ids
    else:
        uncapped = encode_head_tail([huge], tokenizer, max_length=32, head_tokens=8).input_ids[0]
    assert module.datasets["train"]["input_ids"][-1] == uncapped, "the kept tokens are those of the whole text"
    assert module.datasets["train"]["truncated"][-1]
    last_word = f"w{HUGE_WORDS - 1}"
    assert tokenizer.decode(uncapped).endswith(last_word) == (truncation == "head_tail"), "head_tail keeps the end"


def test_max_text_chars_is_configurable_and_must_cover_max_length(tmp_path: Path) -> None:
    rows = [{"body": "x" * 500, "label": "a"}] * 4
    write_rows(tmp_path / "train.csv", rows, "csv")
    files = {"train_file": "train.csv", "validation_file": "train.csv", "test_file": "train.csv"}
    module = make_module(tmp_path, **files, text_column="body", max_text_chars=100)
    assert module.load_splits()["train"]["text"] == ["x" * 100] * 4
    with pytest.raises(ConfigError, match=r"data\.max_text_chars=10 is below data\.tokenizer\.max_length=32"):
        make_module(tmp_path, **files, max_text_chars=10)

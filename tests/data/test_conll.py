"""CoNLL column files, IOB1 -> IOB2, and word -> subword label alignment with a real trained WordPiece tokenizer."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from encoderlab.data.chars import CHAR_PAD, CHAR_UNK, CharVocabulary
from encoderlab.data.collate import TokenClassificationCollator
from encoderlab.data.conll2003 import TAGS, CoNLL2003DataModule
from encoderlab.data.conll_format import iob1_to_iob2, read_conll
from encoderlab.data.token_classification import IGNORE, align_labels, encode_words
from encoderlab.data.tokenizer import UNK, TokenizerSettings, load_or_train
from encoderlab.errors import DataNotFoundError, UserError
from tests.builders import write_conll2003
from tests.conftest import SHARED_DATA


@pytest.mark.parametrize(
    "iob1,iob2",
    [
        ("I-PER I-PER O I-LOC", "B-PER I-PER O B-LOC"),
        ("I-LOC B-LOC I-LOC", "B-LOC B-LOC I-LOC"),  # B- in IOB1: a second entity right after one of its type
        ("I-PER I-ORG I-ORG", "B-PER B-ORG I-ORG"),  # a type change opens a new entity
        ("O O", "O O"),
        ("B-PER I-PER O B-LOC", "B-PER I-PER O B-LOC"),  # already IOB2: unchanged
    ],
)
def test_iob1_to_iob2(iob1: str, iob2: str) -> None:
    assert iob1_to_iob2(iob1.split()) == iob2.split()


def test_read_conll_splits_sentences_and_skips_docstart(tmp_path: Path) -> None:
    path = tmp_path / "train.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\n\nPeter NNP I-NP I-PER\n\n")
        handle.write("-DOCSTART- -X- -X- O\n\nBRUSSELS NNP I-NP I-LOC\n")  # last sentence without a blank line
    assert read_conll(path) == [
        (["EU", "rejects"], ["I-ORG", "O"]),
        (["Peter"], ["I-PER"]),
        (["BRUSSELS"], ["I-LOC"]),
    ]


def test_align_labels_puts_the_tag_on_the_first_subword() -> None:
    # [CLS] un ##believ ##able Paris [SEP]: words 0 and 1
    labels, positions = align_labels([None, 0, 0, 0, 1, None], [3, 5])
    assert labels == [IGNORE, 3, IGNORE, IGNORE, 5, IGNORE]
    assert positions == [1, 4]


TRICKY = ["state-of-the-art", "1996-08-22", "3.5%", "Zürich", "naïve", "São", "東京", "\x07", "U.S."]


@pytest.fixture(scope="module")
def cased_tokenizer(tmp_path_factory: pytest.TempPathFactory):
    corpus = ["the state of the art in 1996 was 3 . 5 % in Zürich and naïve São Paulo U . S . 東 京"] * 20
    settings = TokenizerSettings(vocab_size=120, min_frequency=1, lowercase=False, max_length=64)
    tokenizer, _ = load_or_train(tmp_path_factory.mktemp("tok"), settings, "tricky", lambda: iter(corpus))
    return tokenizer


def test_alignment_on_tricky_words(cased_tokenizer) -> None:
    tags = list(range(1, len(TRICKY) + 1))  # a distinct tag per word
    encoded = encode_words({"tokens": [TRICKY], "tags": [tags]}, cased_tokenizer)
    ids, labels, positions = encoded["input_ids"][0], encoded["labels"][0], encoded["word_positions"][0]
    assert len(ids) > len(TRICKY) + 2, "hyphens, digits and punctuation split words into several subwords"
    assert len(positions) == len(TRICKY) and not encoded["truncated"][0]
    assert [labels[p] for p in positions] == tags, "each word's tag sits on its first subword"
    assert sum(label != IGNORE for label in labels) == len(TRICKY), "every other subword is ignored"
    assert labels[0] == labels[-1] == IGNORE, "[CLS] and [SEP] carry no tag"
    # the subwords from one first-subword position to the next all belong to that word
    words = [
        t for t in cased_tokenizer.encode([w if w != "\x07" else UNK for w in TRICKY], is_pretokenized=True).word_ids
    ]
    for word, (start, end) in enumerate(zip(positions, [*positions[1:], len(ids) - 1], strict=True)):
        assert set(words[start:end]) == {word}
    hyphenated = positions[1] - positions[0]
    assert hyphenated >= 5, "state-of-the-art: at least state - of - ... as separate subwords, one tag"


def test_a_word_the_normalizer_erases_keeps_its_tag_as_unk(cased_tokenizer) -> None:
    encoded = encode_words({"tokens": [["Paris", "\x07", "today"]], "tags": [[5, 7, 0]]}, cased_tokenizer)
    positions = encoded["word_positions"][0]
    assert len(positions) == 3
    assert encoded["input_ids"][0][positions[1]] == cased_tokenizer.token_to_id(UNK)
    assert encoded["labels"][0][positions[1]] == 7


def test_truncation_is_flagged_and_keeps_a_prefix_of_words(tmp_path: Path) -> None:
    data = write_conll2003(tmp_path / "data")
    module = CoNLL2003DataModule(
        name="conll2003",
        data_dir=str(data),
        cache_dir=str(tmp_path / "cache"),
        tokenizer={"vocab_size": 200, "min_frequency": 1, "lowercase": False, "max_length": 6},
    )
    module.setup("fit")
    train = module.datasets["train"]
    assert module.truncated["train"] > 0
    for positions, tags in zip(train["word_positions"], train["tags"], strict=True):
        assert len(positions) <= len(tags)
        assert positions == sorted(positions) and all(p < 5 for p in positions)


def test_data_module_reads_iob1_files_as_iob2_ids(tmp_path: Path) -> None:
    data = write_conll2003(tmp_path / "data")
    module = CoNLL2003DataModule(name="conll2003", data_dir=str(data), cache_dir=str(tmp_path / "cache"))
    raw = module.load_splits()
    assert {split: len(rows) for split, rows in raw.items()} == {"train": 120, "validation": 40, "test": 40}
    expected = [
        (tokens, [TAGS.index(t) for t in iob1_to_iob2(tags)])
        for tokens, tags in read_conll(data / "conll2003" / "train.txt.gz")
    ]
    assert list(zip(raw["train"]["tokens"], raw["train"]["tags"], strict=True)) == expected
    assert module.task_kwargs()["label_names"] == TAGS


def test_unknown_tag_names_the_tag_and_file(tmp_path: Path) -> None:
    data = write_conll2003(tmp_path / "data")
    path = data / "conll2003" / "valid.txt.gz"
    with gzip.open(path, "at", encoding="utf-8") as handle:
        handle.write("Mars NNP I-NP I-PLANET\n\n")
    module = CoNLL2003DataModule(name="conll2003", data_dir=str(data), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(UserError, match=r"tag 'B-PLANET' in .*valid.txt.gz is not one of the tags"):
        module.load_splits()


def test_missing_files_offline_name_the_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    module = CoNLL2003DataModule(name="conll2003", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError, match=r"conll2003/train.txt.gz.*make data"):
        module.load_splits()


@pytest.mark.skipif(not (SHARED_DATA / "conll2003").exists(), reason="real CoNLL-2003 not present")
def test_real_conll2003_has_the_official_sentence_counts_in_valid_iob2() -> None:
    files = {"train": 14041, "valid": 3250, "test": 3453}
    for name, count in files.items():
        sentences = read_conll(SHARED_DATA / "conll2003" / f"{name}.txt.gz")
        assert len(sentences) == count
        for _, tags in sentences:
            converted = iob1_to_iob2(tags)
            assert all(t in TAGS for t in converted)
            for previous, tag in zip(["O", *converted], converted, strict=False):
                assert not tag.startswith("I-") or previous[2:] == tag[2:], "IOB2: I- only continues its own type"


def test_the_character_vocabulary_is_cased_ordered_and_cuts_long_words() -> None:
    chars = CharVocabulary.from_words(["Paris", "paris", "Zürich"], max_word_chars=4)
    assert chars.chars == tuple(sorted(set("ParispZürch")))
    assert chars.size == len(chars.chars) + 2
    assert chars.encode("Pari") != chars.encode("pari"), "capitals are their own characters"
    assert chars.encode("Parisian") == chars.encode("Pari"), "the first max_word_chars characters"
    assert chars.encode("Qé") == [CHAR_UNK, CHAR_UNK] and CHAR_PAD not in chars.encode("Zürich")
    with pytest.raises(ValueError, match="at least 1"):
        CharVocabulary(("a",), 0)


def test_every_subword_gets_its_words_characters_and_special_tokens_none(cased_tokenizer) -> None:
    chars = CharVocabulary.from_words(TRICKY, max_word_chars=20)
    tags = [0] * len(TRICKY)
    encoded = encode_words({"tokens": [TRICKY], "tags": [tags]}, cased_tokenizer, chars)
    plain = encode_words({"tokens": [TRICKY], "tags": [tags]}, cased_tokenizer)
    assert "char_ids" not in plain and {k: v for k, v in encoded.items() if k != "char_ids"} == plain
    char_ids = encoded["char_ids"][0]
    assert len(char_ids) == len(encoded["input_ids"][0])
    assert char_ids[0] == char_ids[-1] == [], "[CLS] and [SEP] have no characters"
    word_ids = cased_tokenizer.encode([w if w != "\x07" else UNK for w in TRICKY], is_pretokenized=True).word_ids
    for position, word in enumerate(word_ids):
        if word is not None:
            assert char_ids[position] == chars.encode(TRICKY[word]), (position, TRICKY[word])
    assert char_ids[encoded["word_positions"][0][TRICKY.index("\x07")]] == chars.encode("\x07"), "the word, not [UNK]"


def test_the_collator_pads_characters_to_the_batch(cased_tokenizer) -> None:
    chars = CharVocabulary.from_words(["Paris", "state-of-the-art"], max_word_chars=20)
    batch = {"tokens": [["Paris"], ["state-of-the-art", "Paris"]], "tags": [[1], [0, 1]]}
    encoded = encode_words(batch, cased_tokenizer, chars)
    examples = [{k: v[i] for k, v in encoded.items()} for i in range(2)]
    padded = TokenClassificationCollator(pad_id=0, pad_to_multiple_of=8)(examples)
    assert padded["char_ids"].shape == (2, padded["input_ids"].shape[1], len("state-of-the-art"))
    assert padded["input_ids"].shape[1] % 8 == 0
    for row, example in enumerate(examples):
        for position, word_chars in enumerate(example["char_ids"]):
            assert padded["char_ids"][row, position, : len(word_chars)].tolist() == word_chars
            assert not padded["char_ids"][row, position, len(word_chars) :].any()
        assert not padded["char_ids"][row, len(example["char_ids"]) :].any(), "padded positions have no characters"


def test_the_data_module_gives_character_ids_only_when_asked(tmp_path: Path) -> None:
    data = write_conll2003(tmp_path / "data")
    settings = {"vocab_size": 200, "min_frequency": 1, "lowercase": False, "max_length": 64}
    common = {"name": "conll2003", "data_dir": str(data), "cache_dir": str(tmp_path / "cache"), "tokenizer": settings}
    plain = CoNLL2003DataModule(**common)
    plain.setup("fit")
    assert plain.char_vocabulary is None and "char_vocab" not in plain.task_kwargs()
    assert "char_ids" not in plain.datasets["train"].column_names
    with_chars = CoNLL2003DataModule(**common, max_word_chars=5)
    with_chars.setup("fit")
    vocabulary = with_chars.char_vocabulary
    assert vocabulary is not None and vocabulary.max_word_chars == 5
    train_words = {w for tokens in with_chars.load_splits()["train"]["tokens"] for w in tokens}
    assert set(vocabulary.chars) == set("".join(train_words)), "counted on the training split"
    assert with_chars.task_kwargs()["char_vocab"] == list(vocabulary.chars)
    batch = next(iter(with_chars.val_dataloader()))
    assert batch["char_ids"].shape[:2] == batch["input_ids"].shape and batch["char_ids"].shape[2] <= 5
    assert plain.datasets["validation"]["input_ids"] == with_chars.datasets["validation"]["input_ids"]
    with pytest.raises(UserError, match="max_word_chars=0 must be at least 1"):
        CoNLL2003DataModule(**common, max_word_chars=0)

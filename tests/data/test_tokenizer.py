"""WordPiece trained from scratch, cached under a key of its settings and corpus, reloaded with the same ids."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from encoderlab.data.disk_cache import write_atomic
from encoderlab.data.tokenizer import (
    CLS,
    PAD,
    SEP,
    TokenizerSettings,
    cache_key,
    files_fingerprint,
    load_or_train,
)
from tests.conftest import separable_sentences

TEXTS = [text for text, _ in separable_sentences(200, seed=0)]


def never_called():
    raise AssertionError("the cached tokenizer should have been loaded, not retrained")


def test_trained_cached_and_reloaded_with_same_ids(tmp_path: Path) -> None:
    settings = TokenizerSettings(vocab_size=120, min_frequency=1, max_length=16)
    trained, path = load_or_train(tmp_path, settings, "corpus-a", lambda: iter(TEXTS))
    assert path.exists()
    cached, cached_path = load_or_train(tmp_path, settings, "corpus-a", never_called)
    assert cached_path == path
    from_file = Tokenizer.from_file(str(path))
    sentence = "the brilliant film is unexpectedly dull"
    assert trained.encode(sentence).ids == cached.encode(sentence).ids == from_file.encode(sentence).ids


def test_bert_layout_special_tokens_and_truncation(tmp_path: Path) -> None:
    settings = TokenizerSettings(vocab_size=120, min_frequency=1, max_length=8)
    tokenizer, _ = load_or_train(tmp_path, settings, "corpus", lambda: iter(TEXTS))
    assert tokenizer.token_to_id(PAD) == 0
    encoding = tokenizer.encode("The FILM is great " * 10)
    assert len(encoding.ids) == 8
    assert encoding.tokens[0] == CLS and encoding.tokens[-1] == SEP
    assert encoding.overflowing, "truncation must be visible so the data module can count it"
    assert encoding.tokens[1] == "the", "lower-cased as configured"
    pair = tokenizer.encode("great film", "dull plot")
    assert pair.type_ids[-1] == 1 and pair.type_ids[0] == 0


def test_vocabulary_size_is_configurable(tmp_path: Path) -> None:
    small, _ = load_or_train(tmp_path, TokenizerSettings(vocab_size=60, min_frequency=1), "c", lambda: iter(TEXTS))
    large, _ = load_or_train(tmp_path, TokenizerSettings(vocab_size=150, min_frequency=1), "c", lambda: iter(TEXTS))
    assert small.get_vocab_size() <= 60 < large.get_vocab_size()


def test_cache_key_changes_with_settings_and_corpus() -> None:
    base = TokenizerSettings()
    assert cache_key(base, "a") == cache_key(TokenizerSettings(), "a")
    assert cache_key(base, "a") != cache_key(base, "b")
    assert cache_key(base, "a") != cache_key(TokenizerSettings(vocab_size=999), "a")
    assert cache_key(base, "a") != cache_key(TokenizerSettings(lowercase=False), "a")


def test_files_fingerprint_follows_file_content(tmp_path: Path) -> None:
    corpus = tmp_path / "train.txt"
    corpus.write_text("one\n")
    first = files_fingerprint([corpus])
    corpus.write_text("one two three\n")
    assert files_fingerprint([corpus]) != first


def test_unknown_algorithm_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown tokenizer algorithm"):
        load_or_train(tmp_path, TokenizerSettings(algorithm="bpe-ish"), "c", lambda: iter(TEXTS))


def spoil(path: Path, how: str) -> None:
    """What a run killed mid-write (or a stray tool) leaves in place of a cache entry."""
    good = path.read_bytes()
    path.unlink()
    if how == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "directory":
        path.mkdir()


@pytest.mark.parametrize("how", ["truncated", "empty", "directory"])
def test_a_spoiled_cache_entry_is_named_and_rebuilt(tmp_path: Path, how: str, caplog) -> None:
    settings = TokenizerSettings(vocab_size=120, min_frequency=1, max_length=16)
    trained, path = load_or_train(tmp_path, settings, "corpus", lambda: iter(TEXTS))
    spoil(path, how)
    with caplog.at_level(logging.WARNING, logger="encoderlab"):
        rebuilt, rebuilt_path = load_or_train(tmp_path, settings, "corpus", lambda: iter(TEXTS))
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"the cached tokenizer {path} can't be loaded" in warning and "rebuilding it" in warning
    assert "\n" not in warning
    assert rebuilt_path == path and path.is_file()
    assert rebuilt.get_vocab_size() == trained.get_vocab_size()
    again, _ = load_or_train(tmp_path, settings, "corpus", never_called)  # the entry is whole again
    assert again.get_vocab() == rebuilt.get_vocab()


def test_cache_entries_are_written_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "entry.json"
    path.write_text("old")

    def write_half_then_fail(tmp: str) -> None:
        Path(tmp).write_text("ne")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, write_half_then_fail)
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path], "no half-written entry, no litter"
    write_atomic(path, lambda tmp: Path(tmp).write_text("new"))
    assert path.read_text() == "new"

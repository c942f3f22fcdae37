"""A LightningDataModule for token classification (NER): words + tags -> WordPiece ids + aligned labels.

Words are encoded as pre-tokenized input, so every subword knows its word (`Encoding.word_ids`). The word's tag
goes on its first subword; the other subwords and the special tokens get -100, which the loss ignores. The gold tags
of every word are kept too (`tags`), so entity scores are counted on the word level even for a truncated sentence.
With `max_word_chars` set (the pipeline sets it when the model has a `char_encoder`), each token position also gets
the character ids of its word (`char_ids`, `data/chars.py`), from a character vocabulary counted on the training split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from datasets import DatasetDict
from tokenizers import Tokenizer

from encoderlab.data.chars import CharVocabulary, token_char_ids
from encoderlab.data.classification import TextClassificationDataModule
from encoderlab.data.collate import TokenClassificationCollator
from encoderlab.data.datamodule_base import SPLITS
from encoderlab.data.tokenizer import UNK
from encoderlab.errors import ConfigError, UserError

IGNORE = -100


def align_labels(word_ids: list[int | None], word_labels: list[int]) -> tuple[list[int], list[int]]:
    """`(labels, word_positions)`: per subword the word's label on its first subword and -100 elsewhere, and per
    word (that survived truncation) the position of its first subword."""
    labels, positions = [], []
    previous = None
    for position, word in enumerate(word_ids):
        if word is None or word == previous:
            labels.append(IGNORE)
        else:
            labels.append(word_labels[word])
            positions.append(position)
        previous = word
    return labels, positions


def encode_words(batch: dict[str, list], tokenizer: Tokenizer, chars: CharVocabulary | None = None) -> dict[str, list]:
    """Training, evaluation and inference all encode words here; with `chars`, `char_ids` per token position too
    (the characters of the word as written, before the tokenizer's normalizer)."""
    # A word the normalizer erases (a lone control character) would have no subword to carry its tag: make it [UNK].
    normalize = tokenizer.normalizer.normalize_str if tokenizer.normalizer is not None else (lambda w: w)
    words = [[w if normalize(w).strip() else UNK for w in sentence] for sentence in batch["tokens"]]
    encodings = tokenizer.encode_batch(words, is_pretokenized=True)
    out: dict[str, list] = {"input_ids": [], "labels": [], "word_positions": [], "truncated": []}
    if chars is not None:
        out["char_ids"] = []
    for encoding, tags, sentence in zip(encodings, batch["tags"], batch["tokens"], strict=True):
        labels, positions = align_labels(encoding.word_ids, tags)
        out["input_ids"].append(encoding.ids)
        out["labels"].append(labels)
        out["word_positions"].append(positions)
        out["truncated"].append(len(positions) < len(tags))
        if chars is not None:
            out["char_ids"].append(token_char_ids(sentence, encoding.word_ids, chars))
    return out


class TokenClassificationDataModule(TextClassificationDataModule):
    """Splits hold `tokens` (a list of words) and `tags` (a list of tag ids in `[0, len(label_names))`).

    Shares the tokenizer cache, length bucketing and loaders of the classification module; `label_names` are the
    tags (IOB2, `O` first by convention).
    """

    task = "token_classification"

    def __init__(self, *args: Any, max_word_chars: int | None = None, **kwargs: Any) -> None:
        """`max_word_chars`: None for no character ids (the default), else the characters kept per word."""
        super().__init__(*args, **kwargs)
        if max_word_chars is not None and max_word_chars < 1:
            raise ConfigError(f"max_word_chars={max_word_chars} must be at least 1 (e.g. 20)")
        self.max_word_chars = max_word_chars
        self._chars: CharVocabulary | None = None

    @property
    def char_vocabulary(self) -> CharVocabulary | None:
        """The characters of the training split's words (None without `max_word_chars`)."""
        if self.max_word_chars is None:
            return None
        if self._chars is None:
            words = (word for tokens in self.load_splits()["train"]["tokens"] for word in tokens)
            self._chars = CharVocabulary.from_words(words, self.max_word_chars)
        return self._chars

    def task_kwargs(self) -> dict[str, Any]:
        chars = self.char_vocabulary
        return {**super().task_kwargs(), **({"char_vocab": list(chars.chars)} if chars is not None else {})}

    def training_texts(self) -> Iterator[str]:
        for tokens in self.load_splits()["train"]["tokens"]:
            yield " ".join(tokens)

    def tag_ids(self, tags: list[str], where: str) -> list[int]:
        """Tag names -> ids; an unknown tag is the user's to fix (a typo in the file or in data.label_names)."""
        index = {name: i for i, name in enumerate(self.label_names)}
        try:
            return [index[tag] for tag in tags]
        except KeyError as missing:
            raise UserError(
                f"tag {missing.args[0]!r} in {where} is not one of the tags ({', '.join(self.label_names)}); "
                "add it to data.label_names or fix the file"
            ) from None

    def kept_columns(self, split: str) -> tuple[str, ...]:
        return ("tags",)

    def check_splits(self, raw: DatasetDict) -> None:
        for split in SPLITS:
            if split not in raw or len(raw[split]) == 0:
                raise UserError(f"the {split} split of {type(self).__name__} is empty or missing")

    @property
    def encoding_spec(self) -> None:
        return None  # words are encoded by `encode_words` (pre-tokenized), which inference/tagging.py calls too

    def encode_function(self) -> tuple[Callable[..., dict[str, list]], dict[str, Any]]:
        return encode_words, {"chars": self.char_vocabulary}

    def make_collator(self) -> TokenClassificationCollator:
        return TokenClassificationCollator(self.pad_id, self.pad_to_multiple_of)

"""Character ids for character-level word features (`model.char_encoder`, NER): a cased character vocabulary counted
on the training split's words, and per token position the ids of the first `max_word_chars` characters of its word.

Id 0 pads, id 1 stands for a character the training split never showed; the characters follow in code-point order,
so the same training words always give the same ids. Cased: capitals are the strongest cue for names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CHAR_PAD, CHAR_UNK = 0, 1
SPECIAL_CHARS = 2  # ids below this are pad and unk


@dataclass(frozen=True)
class CharVocabulary:
    """`chars[i]` has id `i + SPECIAL_CHARS`; a word keeps its first `max_word_chars` characters."""

    chars: tuple[str, ...]
    max_word_chars: int
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_word_chars < 1:
            raise ValueError(f"max_word_chars must be at least 1, got {self.max_word_chars}")
        object.__setattr__(self, "index", {char: i + SPECIAL_CHARS for i, char in enumerate(self.chars)})

    @classmethod
    def from_words(cls, words: Iterable[str], max_word_chars: int) -> CharVocabulary:
        return cls(tuple(sorted({char for word in words for char in word})), max_word_chars)

    @property
    def size(self) -> int:
        """Rows of the character-embedding table (pad and unk included)."""
        return len(self.chars) + SPECIAL_CHARS

    def encode(self, word: str) -> list[int]:
        return [self.index.get(char, CHAR_UNK) for char in word[: self.max_word_chars]]


def token_char_ids(words: Sequence[str], word_ids: Sequence[int | None], vocabulary: CharVocabulary) -> list[list[int]]:
    """Per token position the character ids of the word it belongs to (every subword of a word gets the whole
    word's characters); special tokens get none."""
    encoded = [vocabulary.encode(word) for word in words]
    return [[] if word is None else encoded[word] for word in word_ids]

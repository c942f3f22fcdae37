"""A LightningDataModule for text classification: raw splits -> WordPiece ids -> dynamically padded batches.

Subclasses say where the raw data comes from (`read_splits`) and what identifies the training corpus
(`corpus_fingerprint`); everything else (tokenizer, tokenization, truncation, sampling, loaders) is shared.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from datasets import Dataset, DatasetDict
from tokenizers import Tokenizer

from encoderlab.data.collate import ClassificationCollator, Collator
from encoderlab.data.datamodule_base import SPLITS, BucketedLoaderSettings, SplitDataModule
from encoderlab.data.encoding import EncodingSpec, encode_columns
from encoderlab.data.input_checks import CHARS_PER_TOKEN, cap_texts, drop_empty_texts
from encoderlab.data.tokenizer import TokenizerSettings
from encoderlab.errors import ConfigError, UserError


@dataclass
class ClassificationLoaderSettings(BucketedLoaderSettings):
    """`BucketedLoaderSettings` with batches of 32 texts by default, padded to a multiple of `pad_to_multiple_of`
    tokens where set."""

    batch_size: int = 32
    pad_to_multiple_of: int | None = None


class TextClassificationDataModule(SplitDataModule):
    """Splits hold a `text` column (and optionally `text_pair`) and an integer `label` column in `[0, num_classes)`.

    Texts longer than `tokenizer.max_length` keep their first tokens (`truncation: head`) or their first
    `head_tokens` and last tokens (`truncation: head_tail`, Sun et al. 2019: the end of a long text carries signal).
    Before that, texts are cut to `max_text_chars` characters (default: 100 per token of `max_length`; head and tail
    kept for head_tail), so one huge line can't exhaust memory. These settings are `encoding_spec`, which every
    checkpoint carries so that inference encodes through the same `data.encoding.encode`.
    """

    task = "classification"

    config_class = ClassificationLoaderSettings

    def __init__(
        self,
        name: str,
        data_dir: str,
        cache_dir: str,
        label_names: list[str] | None = None,
        tokenizer: dict[str, Any] | None = None,
        truncation: str = "head",
        head_tokens: int | None = None,
        max_text_chars: int | None = None,
        tokenizer_path: str | None = None,
        **loader: Any,
    ) -> None:
        """`loader`: the `ClassificationLoaderSettings` (`batch_size`, `length_bucketing`, `train_limit`, ...)."""
        settings = TokenizerSettings(**(tokenizer or {}))
        super().__init__(name, data_dir, cache_dir, settings, **loader)
        self.tokenizer_path = tokenizer_path
        self._label_names = list(label_names) if label_names else None  # None: the subclass infers them on reading
        self.truncation = truncation
        self.head_tokens = head_tokens
        default_chars = CHARS_PER_TOKEN * settings.max_length
        self.max_text_chars = max_text_chars if max_text_chars is not None else default_chars
        self._single_text_spec()  # checks truncation and the character cap before any data is read
        self._raw: DatasetDict | None = None

    # -- where the data comes from (subclasses) -------------------------------------------------------------------
    @abstractmethod
    def read_splits(self) -> DatasetDict:
        """Raw `train`, `validation` and `test` splits with `text` and `label` columns."""

    def load_splits(self) -> DatasetDict:
        if self._raw is None:
            splits = {split: drop_empty_texts(data, split) for split, data in self.read_splits().items()}
            keep_tail = self.truncation == "head_tail"
            self._raw = DatasetDict(
                {split: cap_texts(data, split, self.max_text_chars, keep_tail) for split, data in splits.items()}
            )
        return self._raw

    def _single_text_spec(self) -> EncodingSpec:
        return EncodingSpec(
            max_length=self.tokenizer_settings.max_length,
            truncation=self.truncation,
            head_tokens=self.head_tokens,
            max_text_chars=self.max_text_chars,
        )

    @property
    def encoding_spec(self) -> EncodingSpec | None:
        """How every split is encoded (pairs when the splits hold a `text_pair` column); saved in checkpoints."""
        text_pair = "text_pair" in self.load_splits()["train"].column_names
        return EncodingSpec(**{**self._single_text_spec().to_dict(), "text_pair": text_pair})

    @property
    def label_names(self) -> list[str]:
        if self._label_names is None:
            self.load_splits()  # a subclass that infers label names sets them while reading
        if self._label_names is None:
            raise ConfigError(f"{type(self).__name__} has no label names; set data.label_names")
        return self._label_names

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    # -- tokenizer ------------------------------------------------------------------------------------------------
    def load_tokenizer(self) -> Tokenizer:
        tokenizer = super().load_tokenizer()
        if self.tokenizer_path:  # a trained one is cut to `max_length` already
            tokenizer.enable_truncation(max_length=self.tokenizer_settings.max_length)
        return tokenizer

    def training_token_ids(self) -> Iterator[list[int]]:
        """The encoded training texts, for statistics an encoder counts before training (`Encoder.fit`)."""
        self.setup("fit")
        yield from self.datasets["train"]["input_ids"]

    def training_texts(self) -> Iterator[str]:
        train = self.load_splits()["train"]
        yield from train["text"]
        if "text_pair" in train.column_names:
            yield from train["text_pair"]

    def task_kwargs(self) -> dict[str, Any]:
        """What the task needs from the data to build its model (the pipeline passes these on)."""
        return {
            "vocab_size": self.vocab_size,
            "num_classes": self.num_classes,
            "label_names": self.label_names,
            "pad_id": self.pad_id,
        }

    # -- datasets and loaders -------------------------------------------------------------------------------------
    def kept_columns(self, split: str) -> tuple[str, ...]:
        return ("label",)

    def check_splits(self, raw: DatasetDict) -> None:
        for split in SPLITS:
            if split not in raw or len(raw[split]) == 0:
                raise UserError(
                    f"the {split} split of data={self.name} has no examples (missing, empty, or only empty texts); "
                    "check the data files"
                )
            labels = set(raw[split].unique("label"))
            unknown = sorted(
                (label for label in labels if not (isinstance(label, int) and 0 <= label < self.num_classes)), key=str
            )
            if unknown:
                raise UserError(
                    f"{split} split has labels {unknown} outside 0..{self.num_classes - 1} "
                    f"({', '.join(self.label_names)}); fix the data or data.label_names"
                )

    def encode_function(self) -> tuple[Callable[..., dict[str, list]], dict[str, Any]]:
        """A module-level function and its settings for `Dataset.map` (hashable, unlike this module's state)."""
        return encode_columns, {"spec": self.encoding_spec}  # never None here: only token classification has none

    def make_collator(self) -> Collator:
        return ClassificationCollator(self.pad_id, self.pad_to_multiple_of)

    def example_lengths(self, dataset: Dataset) -> list[int]:
        return [len(ids) for ids in dataset["input_ids"]]

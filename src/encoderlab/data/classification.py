"""A LightningDataModule for text classification: raw splits -> WordPiece ids -> dynamically padded batches.

Subclasses say where the raw data comes from (`load_splits`) and which files identify the training corpus
(`corpus_files`); everything else (tokenizer, tokenization, sampling, loaders) is shared.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import torch
from datasets import Dataset, DatasetDict
from tokenizers import Tokenizer
from torch.utils.data import DataLoader, SequentialSampler

from encoderlab.data.collate import ClassificationCollator
from encoderlab.data.sampler import LengthBucketBatchSampler, SeededRandomSampler
from encoderlab.data.tokenizer import PAD, TokenizerSettings, load_or_train
from encoderlab.data.validation import drop_empty_texts
from encoderlab.errors import UserError

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


class TextClassificationDataModule(L.LightningDataModule):
    """Splits hold a `text` column and an integer `label` column in `[0, num_classes)`."""

    task = "classification"

    def __init__(
        self,
        name: str,
        data_dir: str,
        cache_dir: str,
        label_names: list[str],
        tokenizer: dict[str, Any] | None = None,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        length_bucketing: bool = True,
        pad_to_multiple_of: int | None = None,
        seed: int = 0,
        limit_train_examples: int | None = None,
        tokenizer_path: str | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir)
        self.label_names = list(label_names)
        self.tokenizer_settings = TokenizerSettings(**(tokenizer or {}))
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.length_bucketing = length_bucketing
        self.pad_to_multiple_of = pad_to_multiple_of
        self.seed = seed
        self.limit_train_examples = limit_train_examples
        self.tokenizer_path = tokenizer_path  # a pretrained tokenizer to use instead of training one
        self._tokenizer: Tokenizer | None = None
        self.datasets: dict[str, Dataset] = {}
        self.truncated: dict[str, int] = {}
        self._raw: DatasetDict | None = None

    # -- where the data comes from (subclasses) -------------------------------------------------------------------
    @abstractmethod
    def read_splits(self) -> DatasetDict:
        """Raw `train`, `validation` and `test` splits with `text` and `label` columns."""

    def load_splits(self) -> DatasetDict:
        if self._raw is None:
            splits = self.read_splits()
            self._raw = DatasetDict({split: drop_empty_texts(data, split) for split, data in splits.items()})
        return self._raw

    @abstractmethod
    def corpus_fingerprint(self) -> str:
        """Identity of the training texts, part of the tokenizer's cache key."""

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    # -- tokenizer ------------------------------------------------------------------------------------------------
    @property
    def tokenizer(self) -> Tokenizer:
        """Trained on the training split only; cached on disk, so every process (and every later run) shares it."""
        if self._tokenizer is None:
            if self.tokenizer_path:
                self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
                self._tokenizer.enable_truncation(max_length=self.tokenizer_settings.max_length)
            else:
                self._tokenizer, path = load_or_train(
                    self.cache_dir, self.tokenizer_settings, self.corpus_fingerprint(), self._training_texts
                )
                self.tokenizer_file = path
        return self._tokenizer

    def _training_texts(self) -> Iterator[str]:
        yield from self.load_splits()["train"]["text"]

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    @property
    def pad_id(self) -> int:
        return self.tokenizer.token_to_id(PAD)

    def task_kwargs(self) -> dict[str, Any]:
        """What the task needs from the data to build its model (the pipeline passes these on)."""
        return {
            "vocab_size": self.vocab_size,
            "num_classes": self.num_classes,
            "label_names": self.label_names,
            "pad_id": self.pad_id,
        }

    # -- Lightning hooks ------------------------------------------------------------------------------------------
    def prepare_data(self) -> None:
        # Once per node: fetch (hub) or check (local) the raw data and build the tokenizer cache.
        self.load_splits()
        _ = self.tokenizer

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        raw = DatasetDict(self.load_splits())
        self._check_splits(raw)
        tokenizer = self.tokenizer
        if self.limit_train_examples:
            raw["train"] = raw["train"].shuffle(seed=self.seed).select(range(self.limit_train_examples))
        for split in SPLITS:
            self.datasets[split] = raw[split].map(
                _encode_batch,
                fn_kwargs={"tokenizer": tokenizer},
                batched=True,
                remove_columns=[c for c in raw[split].column_names if c != "label"],
                desc=f"Tokenizing {split}",
            )
            self.truncated[split] = sum(self.datasets[split]["truncated"])
            if self.truncated[split]:
                log.warning(
                    "%s: %d of %d texts were truncated to %d tokens",
                    split,
                    self.truncated[split],
                    len(self.datasets[split]),
                    self.tokenizer_settings.max_length,
                )

    def _check_splits(self, raw: DatasetDict) -> None:
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

    def _loader(self, split: str, train: bool) -> DataLoader:
        dataset = self.datasets[split]
        common = {
            "collate_fn": ClassificationCollator(self.pad_id, self.pad_to_multiple_of),
            "num_workers": self.num_workers,
            "pin_memory": self.pin_memory,
            "persistent_workers": self.num_workers > 0,
            # its own generator: creating an iterator then never draws from the global RNG (which dropout uses),
            # so a resumed run continues exactly
            "generator": torch.Generator().manual_seed(self.seed),
        }
        if not train:
            return DataLoader(dataset, batch_size=self.eval_batch_size, sampler=SequentialSampler(dataset), **common)
        sampler = SeededRandomSampler(dataset, seed=self.seed)
        if self.length_bucketing:
            lengths = [len(ids) for ids in dataset["input_ids"]]
            batch_sampler = LengthBucketBatchSampler(
                sampler, self.batch_size, drop_last=False, lengths=lengths, seed=self.seed
            )
            return DataLoader(dataset, batch_sampler=batch_sampler, **common)
        return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler, **common)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)


def _encode_batch(batch: dict[str, list], tokenizer: Tokenizer) -> dict[str, list]:
    encodings = tokenizer.encode_batch(batch["text"])
    return {
        "input_ids": [e.ids for e in encodings],
        "truncated": [bool(e.overflowing) for e in encodings],
    }

"""A LightningDataModule for translation: line-aligned parallel text -> joint subword ids -> padded batches.

Subclasses name their languages, splits and files (and a hub copy, where one exists); the joint tokenizer (trained
on both sides of the training split), encoding, bucketing and loaders are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from datasets import Dataset, DatasetDict
from tokenizers import Tokenizer

from encoderlab.data.collate import TranslationCollator
from encoderlab.data.datamodule_base import SPLITS, BucketedLoaderSettings, SplitDataModule
from encoderlab.data.sources import local_or_hub
from encoderlab.data.text_lines import read_text_lines
from encoderlab.data.tokenizer import BOS, EOS, SEQ2SEQ_SPECIAL_TOKENS, TokenizerSettings, files_fingerprint, token_id
from encoderlab.errors import DataNotFoundError, UserError


def read_parallel_lines(path: Path) -> list[str]:
    return [line.rstrip("\r\n") for line in read_text_lines(path)]


def encode_texts(tokenizer: Tokenizer, texts: list[str]) -> tuple[list[list[int]], list[bool]]:
    """Texts -> ids ending in `[EOS]` (cut to the tokenizer's max length) and whether each was truncated."""
    encodings = tokenizer.encode_batch(texts)
    return [e.ids for e in encodings], [bool(e.overflowing) for e in encodings]


def detokenize(tokenizer: Tokenizer, ids: list[int]) -> str:
    """Generated ids -> plain text: stop at `[EOS]`, drop special tokens, undo the subword marks."""
    eos = tokenizer.token_to_id(EOS)
    if eos in ids:
        ids = ids[: ids.index(eos)]
    return tokenizer.decode(ids, skip_special_tokens=True).strip()


class TranslationDataModule(SplitDataModule):
    """Splits hold `src` and `tgt` text columns; batches come from `TranslationCollator`."""

    task = "translation"
    examples = "sentence pairs"
    languages: tuple[str, ...] = ()
    folder = ""
    split_files: ClassVar[dict[str, str]] = {"train": "train", "validation": "valid", "test": "test"}
    hub_id: str | None = None
    config_class = BucketedLoaderSettings

    def __init__(
        self,
        name: str,
        data_dir: str,
        cache_dir: str,
        src_lang: str,
        tgt_lang: str,
        tokenizer: dict[str, Any] | None = None,
        **loader: Any,
    ) -> None:
        """`loader`: the `BucketedLoaderSettings` (`batch_size`, `length_bucketing`, `max_tokens`, ...)."""
        settings = TokenizerSettings(**{"special_tokens": list(SEQ2SEQ_SPECIAL_TOKENS), **(tokenizer or {})})
        super().__init__(name, data_dir, cache_dir, settings, **loader)
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self._raw: DatasetDict | None = None

    # -- languages and files --------------------------------------------------------------------------------------
    def check_languages(self) -> None:
        available = ", ".join(self.languages)
        for side, lang in (("src_lang", self.src_lang), ("tgt_lang", self.tgt_lang)):
            if lang not in self.languages:
                raise UserError(f"unknown language data.{side}={lang!r} for data={self.name}; available: {available}")
        if self.src_lang == self.tgt_lang:
            raise UserError(
                f"data.src_lang and data.tgt_lang are both {self.src_lang!r}; pick two different ones of {available}"
            )

    def local_files(self) -> dict[str, Path]:
        """`<split>.<side>` -> path, e.g. `train.src` -> `<data_dir>/multi30k/train.en.gz`."""
        folder = self.data_dir / self.folder
        return {
            f"{split}.{side}": folder / f"{stem}.{lang}.gz"
            for split, stem in self.split_files.items()
            for side, lang in (("src", self.src_lang), ("tgt", self.tgt_lang))
        }

    def corpus_fingerprint(self) -> str:
        files = self.local_files()
        if files["train.src"].exists() and files["train.tgt"].exists():
            return files_fingerprint([files["train.src"], files["train.tgt"]])
        return f"{self.hub_id}:{self.src_lang}-{self.tgt_lang}"

    def load_splits(self) -> DatasetDict:
        if self._raw is None:
            self.check_languages()
            files = self.local_files()
            if self.hub_id is None:
                missing = [path for path in files.values() if not path.exists()]
                if missing:
                    raise DataNotFoundError(
                        f"{self.name}: no local files (expected {missing[0]}). Run `make data`, or set "
                        f"paths.data_dir=<folder holding {self.folder}/>"
                    )
                self._raw = self._read_local(files)
            else:
                self._raw = local_or_hub(self.name, files, self._read_local, self.read_hub, self.hub_id)
        return self._raw

    def _read_local(self, files: dict[str, Path]) -> DatasetDict:
        splits = {}
        for split in SPLITS:
            src, tgt = read_parallel_lines(files[f"{split}.src"]), read_parallel_lines(files[f"{split}.tgt"])
            if len(src) != len(tgt):
                raise UserError(
                    f"{files[f'{split}.src']} has {len(src)} lines but {files[f'{split}.tgt']} has {len(tgt)}; "
                    "parallel files must be line-aligned"
                )
            splits[split] = Dataset.from_dict({"src": src, "tgt": tgt})
        return DatasetDict(splits)

    def read_hub(self) -> DatasetDict:
        raise NotImplementedError

    # -- tokenizer ------------------------------------------------------------------------------------------------
    def load_tokenizer(self) -> Tokenizer:
        """One joint vocabulary for both languages, trained on the training split only and cached on disk."""
        self.check_languages()
        return super().load_tokenizer()

    def training_texts(self) -> Iterator[str]:
        train = self.load_splits()["train"]
        yield from train["src"]
        yield from train["tgt"]

    def task_kwargs(self) -> dict[str, Any]:
        return {
            "vocab_size": self.vocab_size,
            "pad_id": self.pad_id,
            "bos_id": token_id(self.tokenizer, BOS),
            "eos_id": token_id(self.tokenizer, EOS),
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
        }

    # -- datasets and loaders -------------------------------------------------------------------------------------
    def check_splits(self, raw: DatasetDict) -> None:
        for split in SPLITS:
            if len(raw[split]) == 0:
                raise UserError(f"the {split} split of data={self.name} is empty")

    def encode_function(self) -> tuple[Callable[..., dict[str, list]], dict[str, Any]]:
        return _encode_pairs, {"bos_id": token_id(self.tokenizer, BOS)}

    def kept_columns(self, split: str) -> tuple[str, ...]:
        return () if split == "train" else ("tgt",)  # evaluation keeps the references BLEU scores against

    def make_collator(self) -> TranslationCollator:
        return TranslationCollator(self.pad_id)

    def example_lengths(self, dataset: Dataset) -> list[int]:
        return [max(len(s), len(t)) for s, t in zip(dataset["src_ids"], dataset["tgt_ids"], strict=True)]


def _encode_pairs(batch: dict[str, list], tokenizer: Tokenizer, bos_id: int) -> dict[str, list]:
    src_ids, src_truncated = encode_texts(tokenizer, batch["src"])
    tgt_ids, tgt_truncated = encode_texts(tokenizer, batch["tgt"])
    return {
        "src_ids": src_ids,
        "tgt_ids": [[bos_id, *ids] for ids in tgt_ids],
        "truncated": [a or b for a, b in zip(src_truncated, tgt_truncated, strict=True)],
    }

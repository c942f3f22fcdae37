"""Unlabelled text for masked-language-model pretraining: files -> WordPiece -> documents packed into blocks.

Files are plain text or gzip, one paragraph per line; an empty line (or the end of a file) ends a document. Every
document's tokens are followed by `[SEP]`, the token stream is cut into blocks of `block_size - 2` and each block is
wrapped as `[CLS] ... [SEP]` (the last, shorter block is padded), so almost no position is padding. The tokenizer is
trained on the training files only. Packed blocks are cached under `cache_dir/mlm_blocks/<key>/` (the key covers the
tokenizer, the files and the block size), so a second run starts in seconds.

WikiText files (`*.tokens`, `*.tokens.gz`) are detokenized first: ` @-@ ` -> `-`, ` @,@ ` -> `,`, ` @.@ ` -> `.`,
and `<unk>` -> `[UNK]` (never masked, like every special token).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Sized
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tokenizers import Tokenizer
from torch.utils.data import Dataset

from encoderlab.data.datamodule_base import SPLITS, SplitDataModule
from encoderlab.data.disk_cache import load_or_build
from encoderlab.data.masking import MaskedLMCollator, MaskingRates, mask_tokens
from encoderlab.data.sampler import ResumableBatchSampler
from encoderlab.data.text_lines import read_text_lines
from encoderlab.data.tokenizer import CLS, MASK, PAD, SEP, UNK, TokenizerSettings, files_fingerprint, token_id
from encoderlab.errors import ConfigError, DataNotFoundError, UserError

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".txt.gz", ".tokens", ".tokens.gz", ".text", ".text.gz")
WIKITEXT_MARKUP = [(" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), ("<unk>", UNK)]
ENCODE_CHUNK_LINES = 5000


def is_wikitext(path: Path) -> bool:
    return path.name.endswith((".tokens", ".tokens.gz"))


def read_corpus_lines(path: Path) -> Iterator[str]:
    """Lines without their newline; WikiText markup undone. A file that can't be read stops with one line."""
    wikitext = is_wikitext(path)
    for line in read_text_lines(path):
        line = line.strip()
        if wikitext:
            if re.fullmatch(r"(= )+.*( =)+", line):
                line = line.strip("= ")  # a heading ` = = Title = = ` becomes its title
            for markup, plain in WIKITEXT_MARKUP:
                line = line.replace(markup, plain)
        yield line


def pack_blocks(token_lists: Iterator[list[int] | None], block_size: int, cls_id: int, sep_id: int, pad_id: int):
    """Token lists (None = end of a document) -> `int32 [N, block_size]`: `[CLS] stream-slice [SEP]` rows."""
    body = block_size - 2
    stream: list[int] = []
    blocks: list[np.ndarray] = []

    def flush(final: bool) -> None:
        nonlocal stream
        whole = len(stream) // body
        if whole:
            chunk = np.asarray(stream[: whole * body], dtype=np.int32).reshape(whole, body)
            edges = np.full((whole, 1), cls_id, np.int32), np.full((whole, 1), sep_id, np.int32)
            blocks.append(np.concatenate([edges[0], chunk, edges[1]], axis=1))
            stream = stream[whole * body :]
        if final and stream:
            row = np.full((1, block_size), pad_id, np.int32)
            row[0, : len(stream) + 2] = [cls_id, *stream, sep_id]
            blocks.append(row)
            stream = []

    for ids in token_lists:
        if ids is None:
            if stream and stream[-1] != sep_id:
                stream.append(sep_id)
        else:
            stream.extend(ids)
        if len(stream) >= 64 * body:
            flush(final=False)
    flush(final=True)
    return np.concatenate(blocks) if blocks else np.zeros((0, block_size), np.int32)


class BlockDataset(Dataset):
    """Rows of a `[N, T]` tensor; with `labels`, rows of (masked inputs, labels, original) for evaluation."""

    def __init__(self, blocks: torch.Tensor, masked: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
        self.blocks = blocks
        self.masked = masked

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if self.masked is None:
            return {"input_ids": self.blocks[index]}
        inputs, labels = self.masked
        return {"input_ids": inputs[index], "labels": labels[index], "original": self.blocks[index]}


class TextCorpusDataModule(SplitDataModule):
    """Pretraining text: `path` (and `validation_path`/`test_path`), each a file, a folder of text files
    (`*.txt`, `*.tokens`, optionally `.gz`) or a list of them, absolute or relative to `data_dir`.

    Without a validation path, `validation_fraction` of the training blocks is held out (fixed `split_seed`); without
    a test path, the test split is the validation split.
    """

    task = "masked_lm"

    def __init__(
        self,
        name: str,
        data_dir: str,
        cache_dir: str,
        path: str | list[str] | None = None,
        validation_path: str | list[str] | None = None,
        test_path: str | list[str] | None = None,
        validation_fraction: float = 0.01,
        split_seed: int = 0,
        block_size: int = 128,
        mlm_probability: float = 0.15,
        mask_ratio: float = 0.8,
        random_ratio: float = 0.1,
        tokenizer: dict[str, Any] | None = None,
        tokenizer_path: str | None = None,
        limit_train_blocks: int | None = None,
        **loader: Any,
    ) -> None:
        """`loader`: the `LoaderSettings` (`batch_size`, `num_workers`, ...)."""
        settings = TokenizerSettings(**{"max_length": block_size, **(tokenizer or {})})
        super().__init__(name, data_dir, cache_dir, settings, **loader)
        self.tokenizer_path = tokenizer_path
        self.sources = {"train": path, "validation": validation_path, "test": test_path}
        if not 0.0 < validation_fraction < 1.0:
            raise ConfigError(f"data.validation_fraction={validation_fraction} must lie strictly between 0 and 1")
        if not 0.0 < mlm_probability < 1.0:
            raise ConfigError(f"data.mlm_probability={mlm_probability} must lie strictly between 0 and 1")
        if mask_ratio < 0 or random_ratio < 0 or mask_ratio + random_ratio > 1:
            raise ConfigError("data.mask_ratio and data.random_ratio must be >= 0 and sum to at most 1")
        self.validation_fraction = validation_fraction
        self.split_seed = split_seed
        self.block_size = block_size
        self.masking = MaskingRates(mlm_probability, mask_ratio, random_ratio)
        self.limit_train_blocks = limit_train_blocks

    # -- files ------------------------------------------------------------------------------------------------------
    def files(self, split: str) -> list[Path]:
        """The split's text files (folders expanded, sorted); [] when the split has no files of its own."""
        source = self.sources[split]
        if not source and split == "train":
            raise ConfigError(f"data={self.name} needs data.path=<a text file, a folder of them, or a list>")
        if not source:
            return []
        found: list[Path] = []
        for entry in [source] if isinstance(source, str) else list(source):
            path = Path(entry).expanduser()
            path = path if path.is_absolute() else self.data_dir / path
            if path.is_dir():
                inside = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(TEXT_SUFFIXES))
                if not inside:
                    raise UserError(
                        f"{path} holds no text files ({', '.join(TEXT_SUFFIXES)}); point {self.option(split)} elsewhere"
                    )
                found += inside
            elif path.is_file():
                found.append(path)
            else:
                raise DataNotFoundError(
                    f"{self.option(split)}={entry}: {path} does not exist; run `make data`, or give an existing "
                    "file or folder (absolute, or relative to paths.data_dir)"
                )
        return found

    @staticmethod
    def option(split: str) -> str:
        return "data.path" if split == "train" else f"data.{split}_path"

    def _lines(self, split: str) -> Iterator[str]:
        for path in self.files(split):
            yield from read_corpus_lines(path)
            yield ""  # a file ends its last document

    # -- tokenizer --------------------------------------------------------------------------------------------------
    def corpus_fingerprint(self) -> str:
        return files_fingerprint(self.files("train"))

    def training_texts(self) -> Iterator[str]:
        return (line for line in self._lines("train") if line)

    def load_tokenizer(self) -> Tokenizer:
        """Trained on the training files only (cached), or read from `tokenizer_path` (a pretrained one)."""
        tokenizer = super().load_tokenizer()
        for token in (PAD, CLS, SEP, MASK):
            if tokenizer.token_to_id(token) is None:
                raise ConfigError(f"the tokenizer has no {token} token; masked-LM pretraining needs a BERT vocab")
        return tokenizer

    @property
    def special_ids(self) -> list[int]:
        ids = (self.tokenizer.token_to_id(t) for t in (PAD, UNK, CLS, SEP, MASK))
        return sorted({i for i in ids if i is not None})

    def task_kwargs(self) -> dict[str, Any]:
        return {"vocab_size": self.vocab_size, "pad_id": self.pad_id}

    # -- blocks -----------------------------------------------------------------------------------------------------
    def _encode(self, split: str) -> Iterator[list[int] | None]:
        encoder = Tokenizer.from_str(self.tokenizer.to_str())
        encoder.no_truncation()
        encoder.no_padding()
        chunk: list[str] = []

        def drain() -> Iterator[list[int] | None]:
            texts = [line for line in chunk if line]
            encodings = iter(encoder.encode_batch(texts, add_special_tokens=False))
            for line in chunk:
                yield next(encodings).ids if line else None

        for line in self._lines(split):
            chunk.append(line)
            if len(chunk) >= ENCODE_CHUNK_LINES:
                yield from drain()
                chunk = []
        yield from drain()

    def _cache_path(self, split: str) -> Path:
        payload = {
            "tokenizer": hashlib.sha256(self.tokenizer.to_str().encode()).hexdigest(),
            "files": files_fingerprint(self.files(split)),
            "block_size": self.block_size,
        }
        key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        return self.cache_dir / "mlm_blocks" / key / "blocks.npy"

    def _blocks(self, split: str) -> np.ndarray:
        path = self._cache_path(split)

        def pack() -> np.ndarray:
            log.info("Packing %s into blocks of %d tokens -> %s", split, self.block_size, path)
            ids = {t: token_id(self.tokenizer, t) for t in (CLS, SEP, PAD)}
            return pack_blocks(self._encode(split), self.block_size, ids[CLS], ids[SEP], ids[PAD])

        return load_or_build(path, np.load, pack, lambda blocks, tmp: np.save(tmp, blocks), "packed blocks")

    def training_blocks(self) -> np.ndarray:
        """The training split's packed token blocks `int32 [N, block_size]` (what word vectors train on)."""
        return self._blocks("train")

    def prepare_data(self) -> None:
        for split in SPLITS:
            if self.files(split):
                self._blocks(split)

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        blocks = {split: torch.from_numpy(self._blocks(split)) for split in SPLITS if self.files(split)}
        train = blocks["train"]
        if "validation" not in blocks:
            order = torch.randperm(len(train), generator=torch.Generator().manual_seed(self.split_seed))
            held_out = max(1, round(self.validation_fraction * len(train)))
            if held_out >= len(train):
                raise UserError(f"data={self.name}: the training text makes only {len(train)} block(s); add text")
            blocks["validation"], train = train[order[:held_out]], train[order[held_out:]]
        blocks.setdefault("test", blocks["validation"])
        if self.limit_train_blocks:
            train = train[: self.limit_train_blocks]
        blocks["train"] = train
        for split, rows in blocks.items():
            if len(rows) == 0:
                raise UserError(f"the {split} split of data={self.name} holds no text; check {self.option(split)}")
            log.info("%s: %d blocks of %d tokens", split, len(rows), self.block_size)
        self.datasets["train"] = BlockDataset(blocks["train"])
        for offset, split in enumerate(("validation", "test"), start=1):
            # masked once, with a fixed seed: every validation scores the same positions
            generator = torch.Generator().manual_seed(self.split_seed + offset)
            masked = mask_tokens(
                blocks[split].long(),
                self.special_ids,
                token_id(self.tokenizer, MASK),
                self.vocab_size,
                self.masking,
                generator=generator,
            )
            self.datasets[split] = BlockDataset(blocks[split], masked)

    def make_collator(self) -> MaskedLMCollator:
        return MaskedLMCollator(
            self.pad_id, token_id(self.tokenizer, MASK), self.vocab_size, self.special_ids, self.masking
        )

    def train_batch_sampler(self, dataset: Sized) -> ResumableBatchSampler:
        return self.train_batches(dataset, self.batch_size, drop_last=len(dataset) > self.batch_size)

"""The base of every data module: its settings, tokenizer, train/validation/test loaders and the training loader's
position in the checkpoint, so a run interrupted mid-epoch resumes at the next unseen batch.

A data module says what is its own: where its texts come from (`load_splits`, `corpus_fingerprint`,
`training_texts`), how a split is checked and encoded (`check_splits`, `encode_function`, `kept_columns`), its
collator and the length of each training example (for length bucketing).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Container, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any, TypedDict, cast

import lightning as L
import torch
from datasets import DatasetDict
from lightning.pytorch.loops.progress import _ProcessedTracker
from lightning.pytorch.trainer.states import TrainerFn
from tokenizers import Tokenizer
from torch.utils.data import DataLoader, SequentialSampler

from encoderlab.data.collate import Collator
from encoderlab.data.sampler import LengthBucketBatchSampler, ResumableBatchSampler, SeededRandomSampler, TrainPosition
from encoderlab.data.subsets import limit_training_split
from encoderlab.data.token_budget import TokenBudgetBatchSampler
from encoderlab.data.tokenizer import PAD, TokenizerSettings, load_or_train, token_id
from encoderlab.errors import ConfigError

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


class LoaderOptions(TypedDict):
    """What the loaders of all three splits share."""

    collate_fn: Collator
    num_workers: int
    pin_memory: bool
    persistent_workers: bool
    generator: torch.Generator


@dataclasses.dataclass
class LoaderSettings:
    """How a data module batches its splits: the `data.*` settings that every data module takes."""

    batch_size: int = 64
    eval_batch_size: int | None = None  # None: `batch_size`
    num_workers: int = 0
    pin_memory: bool = False
    seed: int = 0


@dataclasses.dataclass
class BucketedLoaderSettings(LoaderSettings):
    """`LoaderSettings` of a data module whose training batches are bucketed by length (`length_bucketing`) or, with
    `max_tokens`, hold as many examples as fit in that many padded tokens, and which may train on a fixed sample of
    `train_limit` examples."""

    length_bucketing: bool = True
    max_tokens: int | None = None
    train_limit: int | None = None

    def __post_init__(self) -> None:
        if self.max_tokens is not None and (self.max_tokens <= 0 or not self.length_bucketing):
            raise ConfigError(
                f"data.max_tokens={self.max_tokens} needs a positive budget and data.length_bucketing=true "
                "(or data.max_tokens=null for batches of data.batch_size sentences)"
            )


class SplitDataModule(L.LightningDataModule):
    """A LightningDataModule whose three loaders differ only in the split they read and whether they shuffle.

    Its checkpoint state is where training goes on (`TrainPosition`), read from the trainer's own progress when the
    checkpoint is written. Lightning restores a data module's state before it asks for the first training loader
    (its fit loop's own hook for stateful loaders is skipped when `configure_optimizers` reads
    `trainer.estimated_stepping_batches`, as the tasks' schedulers do), so `train_batches` builds that loader's batch
    sampler already positioned.

    Training batches hold `batch_size` examples, bucketed by length (`length_bucketing`) or, with `max_tokens`, as
    many as fit in that many padded tokens.
    """

    name: str  # set by every data module (Lightning's own is optional)
    config_class: type[LoaderSettings] = LoaderSettings  # the settings a data module takes besides its own
    # its `config_class` settings, as attributes; one that a data module does not take keeps the class default here
    batch_size: int
    eval_batch_size: int
    num_workers: int
    pin_memory: bool
    seed: int
    length_bucketing: bool = False
    max_tokens: int | None = None
    pad_to_multiple_of: int | None = None
    train_limit: int | None = None  # train on this many examples of the training split (a fixed sample)
    tokenizer_path: str | None = None  # a pretrained tokenizer to use instead of training one (where one is taken)

    def __init__(
        self,
        name: str,
        data_dir: str,
        cache_dir: str,
        tokenizer_settings: TokenizerSettings,
        **loader: Any,
    ) -> None:
        """`loader`: the `config_class` settings (`batch_size`, `num_workers`, ...)."""
        super().__init__()
        self.name = name
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir)
        self.tokenizer_settings = tokenizer_settings
        settings = self.config_class(**loader)
        for field in dataclasses.fields(settings):
            setattr(self, field.name, getattr(settings, field.name))
        self.eval_batch_size = settings.eval_batch_size or settings.batch_size
        self.datasets: dict[str, Any] = {}  # per split: what its loader reads (built by `setup`)
        self.truncated: dict[str, int] = {}  # per split: how many examples lost tokens to `max_length`
        self._tokenizer: Tokenizer | None = None
        self._resume_at: TrainPosition | None = None

    # -- tokenizer ------------------------------------------------------------------------------------------------
    def corpus_fingerprint(self) -> str:
        """Identity of the training texts, part of the tokenizer's cache key."""
        raise NotImplementedError

    def training_texts(self) -> Iterator[str]:
        """The texts a tokenizer is trained on: the training split's only."""
        raise NotImplementedError

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = self.load_tokenizer()
        return self._tokenizer

    def load_tokenizer(self) -> Tokenizer:
        """The pretrained tokenizer at `tokenizer_path`, else one trained on `training_texts` and cached on disk, so
        every process (and every later run) shares it."""
        if self.tokenizer_path:
            return Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer, self.tokenizer_file = load_or_train(
            self.cache_dir, self.tokenizer_settings, self.corpus_fingerprint(), self.training_texts
        )
        return tokenizer

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    @property
    def pad_id(self) -> int:
        return token_id(self.tokenizer, PAD)

    # -- raw splits -> datasets (where splits are rows of a `datasets.Dataset`; text_corpus packs blocks instead) -
    examples = "texts"  # what one row is, for the truncation warning

    def load_splits(self) -> DatasetDict:
        """The raw `train`, `validation` and `test` splits (read once)."""
        raise NotImplementedError

    def check_splits(self, raw: DatasetDict) -> None:
        """Stop with one line when a split can't be trained or scored on."""

    def encode_function(self) -> tuple[Callable[..., dict[str, list]], dict[str, Any]]:
        """A module-level function (`Dataset.map` hashes it) and its settings besides the tokenizer."""
        raise NotImplementedError

    def prepare_data(self) -> None:
        # Once per node: fetch (hub) or check (local) the raw data and build the tokenizer cache.
        self.load_splits()
        _ = self.tokenizer

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        raw = DatasetDict(self.load_splits())
        self.check_splits(raw)
        tokenizer = self.tokenizer
        raw["train"] = limit_training_split(raw["train"], self.train_limit, self.seed)
        encode, settings = self.encode_function()
        self.encode_splits(raw, encode, {"tokenizer": tokenizer, **settings})

    def encode_splits(self, raw: DatasetDict, encode: Callable[..., dict[str, list]], settings: dict[str, Any]) -> None:
        """Every split of `raw` through `encode(batch, **settings)` into `datasets`, keeping the raw columns
        `kept_columns(split)`; warns how many rows were truncated."""
        for split in SPLITS:
            kept = self.kept_columns(split)
            self.datasets[split] = raw[split].map(
                encode,
                fn_kwargs=settings,
                batched=True,
                remove_columns=[c for c in raw[split].column_names if c not in kept],
                desc=f"Tokenizing {split}",
            )
            self.truncated[split] = sum(self.datasets[split]["truncated"])
            if self.truncated[split]:
                log.warning(
                    "%s: %d of %d %s were truncated to %d tokens",
                    split,
                    self.truncated[split],
                    len(self.datasets[split]),
                    self.examples,
                    self.tokenizer_settings.max_length,
                )

    def kept_columns(self, split: str) -> Container[str]:
        """The raw columns a split keeps next to its encoded ones."""
        return ()

    # -- loaders --------------------------------------------------------------------------------------------------
    def make_collator(self) -> Collator:
        raise NotImplementedError

    def example_lengths(self, dataset: Any) -> Sequence[int]:
        """Per training example the length it is bucketed by (with `length_bucketing`)."""
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", train=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", train=False)

    def _loader(self, split: str, train: bool) -> DataLoader:
        dataset = self.datasets[split]
        options = LoaderOptions(
            collate_fn=self.make_collator(),
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.num_workers > 0,
            # its own generator: creating an iterator then never draws from the global RNG (which dropout uses),
            # so a resumed run continues exactly
            generator=torch.Generator().manual_seed(self.seed),
        )
        if not train:
            return DataLoader(dataset, batch_size=self.eval_batch_size, sampler=SequentialSampler(dataset), **options)
        return DataLoader(dataset, batch_sampler=self.train_batch_sampler(dataset), **options)

    def train_batch_sampler(self, dataset: Sized) -> ResumableBatchSampler:
        lengths = self.example_lengths(dataset) if self.length_bucketing else None
        return self.train_batches(
            dataset, self.batch_size, lengths=lengths, max_tokens=self.max_tokens, multiple_of=self.pad_to_multiple_of
        )

    def train_batches(
        self,
        dataset: Sized,
        batch_size: int,
        drop_last: bool = False,
        lengths: Sequence[int] | None = None,
        max_tokens: int | None = None,
        multiple_of: int | None = None,
    ) -> ResumableBatchSampler:
        """The training batch sampler: an epoch-seeded order, bucketed by `lengths` if given (by token budget when
        `max_tokens` is set), starting where a restored checkpoint left off (once: a loader built again later starts
        its epoch from the first batch)."""
        start, self._resume_at = self._resume_at or TrainPosition(), None
        sampler = SeededRandomSampler(dataset, seed=self.seed)
        if lengths is not None and max_tokens:
            return TokenBudgetBatchSampler(
                sampler,
                batch_size,
                drop_last,
                lengths,
                max_tokens,
                seed=self.seed,
                pad_to_multiple_of=multiple_of,
                start_epoch=start.epoch,
                start_batch=start.batch,
            )
        if lengths is not None:
            return LengthBucketBatchSampler(
                sampler,
                batch_size,
                drop_last,
                lengths=lengths,
                seed=self.seed,
                start_epoch=start.epoch,
                start_batch=start.batch,
            )
        return ResumableBatchSampler(sampler, batch_size, drop_last, start_epoch=start.epoch, start_batch=start.batch)

    # -- checkpoint state -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        trainer = self.trainer
        if trainer is None or trainer.state.fn != TrainerFn.FITTING or trainer.sanity_checking:
            return {}
        return {"train_position": dataclasses.asdict(next_position(trainer))}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if "train_position" in state_dict:
            self._resume_at = TrainPosition(**state_dict["train_position"])


def next_position(trainer: L.Trainer) -> TrainPosition:
    """The batch a run restored from a checkpoint written now trains next (checkpoints are written after a training
    batch, after validation, at an epoch's end or after the last epoch)."""
    # both progress trackers are `_ProcessedTracker`s; Lightning annotates them with their base class
    epochs = cast(_ProcessedTracker, trainer.fit_loop.epoch_progress.current)
    if epochs.started == epochs.processed:  # between epochs: the next one starts from its first batch
        return TrainPosition(epochs.processed, 0)
    epoch = epochs.started - 1
    batches = cast(_ProcessedTracker, trainer.fit_loop.epoch_loop.batch_progress.current)
    done = batches.processed  # batches whose training step ran
    if done >= trainer.num_training_batches:
        return TrainPosition(epoch + 1, 0)
    return TrainPosition(epoch, done)

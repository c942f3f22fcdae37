"""Tiny checkpoints trained once per session through the real pipeline (real Trainer, tokenizer, checkpoint IO)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from encoderlab.training.run import train
from tests.builders import write_conll2003
from tests.conftest import SMALL_MODEL_OVERRIDES, compose_train_cfg

FIT = ["~callbacks.early_stopping", "scheduler=constant", "test=false"]


def train_checkpoint(root: Path, data_dir: Path, cache_dir: Path, *overrides: str) -> Path:
    cfg = compose_train_cfg(root, data_dir, cache_dir, *overrides, *FIT)
    try:
        train(cfg)
    finally:
        GlobalHydra.instance().clear()
    return Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="session")
def sst2_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path, cache_dir: Path) -> Path:
    """A BiLSTM that separates the tiny SST-2's positive and negative word lists."""
    overrides = ["model=bilstm", "model.lr=5e-3", *SMALL_MODEL_OVERRIDES["bilstm"], "trainer.max_epochs=6"]
    return train_checkpoint(tmp_path_factory.mktemp("sst2_ckpt"), tiny_data_dir, cache_dir, *overrides)


@pytest.fixture(scope="session")
def ner_checkpoint(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """A BiLSTM-CRF on the tiny CoNLL-2003 slice (names, places, organisations in filler words)."""
    data_dir = write_conll2003(tmp_path_factory.mktemp("ner_data"))
    overrides = [
        "model=bilstm",
        "data=conll2003",
        "data.tokenizer.max_length=64",
        "task.crf=true",
        "model.lr=1e-2",
        *SMALL_MODEL_OVERRIDES["bilstm"],
        "trainer.max_epochs=8",
    ]
    return train_checkpoint(tmp_path_factory.mktemp("ner_ckpt"), data_dir, cache_dir, *overrides)


@pytest.fixture(scope="session")
def translation_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path, cache_dir: Path) -> Path:
    """A one-step Transformer translation model: it translates badly, but through the real checkpoint path."""
    overrides = [
        "model=transformer_seq2seq",
        "data=multi30k",
        "data.tokenizer.vocab_size=400",
        *SMALL_MODEL_OVERRIDES["transformer_seq2seq"],
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=1",
        "trainer.limit_val_batches=1",
    ]
    return train_checkpoint(tmp_path_factory.mktemp("mt_ckpt"), tiny_data_dir, cache_dir, *overrides)

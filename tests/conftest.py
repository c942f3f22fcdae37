"""Shared fixtures: offline environment, a tiny separable SST-2 built at test time, and real Hydra composition."""

from __future__ import annotations

import csv
import gzip
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from encoderlab.pipeline import CONF_DIR

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

POSITIVE = ["great", "wonderful", "moving", "charming", "brilliant", "delightful", "superb", "funny"]
NEGATIVE = ["dull", "boring", "awful", "tedious", "clumsy", "lifeless", "bland", "painful"]
FILLER = ["the", "film", "is", "a", "movie", "story", "with", "and", "its", "cast", "plot", "this", "of"]


def separable_sentences(count: int, seed: int) -> list[tuple[str, int]]:
    """Sentences whose label is given by which word list their sentiment words come from (lengths 3..20)."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        label = i % 2
        words = rng.choices(FILLER, k=rng.randint(2, 17))
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if label else NEGATIVE))
        rows.append((" ".join(words), label))
    return rows


def write_sst2(folder: Path, train: int = 256, validation: int = 64) -> Path:
    """SST-2's local format: gzip TSV with header `sentence<TAB>label`."""
    (folder / "sst2").mkdir(parents=True, exist_ok=True)
    for split, count, seed in (("train", train, 0), ("validation", validation, 1)):
        with gzip.open(folder / "sst2" / f"{split}.tsv.gz", "wt", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
            writer.writerow(["sentence", "label"])
            writer.writerows(separable_sentences(count, seed))
    return folder


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sst2(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


# Small shapes so every encoder trains in seconds on a CPU.
SMALL_MODEL_OVERRIDES = {
    "bert_tiny": [],
    "bert_mini": ["model.encoder.num_layers=1"],
    "bert_small": ["model.encoder.num_layers=1"],
    "bert_medium": ["model.encoder.num_layers=1"],
    "bert_base": ["model.encoder.num_layers=1"],
    "lstm": ["model.encoder.embedding_size=32", "model.encoder.hidden_size=32"],
    "bilstm": ["model.encoder.embedding_size=32", "model.encoder.hidden_size=32"],
    "bilstm_attn": ["model.encoder.embedding_size=32", "model.encoder.hidden_size=32"],
}
MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
DATASETS = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))


@pytest.fixture
def make_cfg(tmp_path: Path, tiny_data_dir: Path, cache_dir: Path) -> Callable[..., DictConfig]:
    """Compose the real `train.yaml` with overrides, pointed at the tiny data and a per-test output dir."""

    def _make(*overrides: str, data_dir: Path | None = None) -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(
                config_name="train",
                overrides=[
                    "logger=none",
                    "trainer.accelerator=cpu",
                    "data.tokenizer.vocab_size=200",
                    "data.tokenizer.min_frequency=1",
                    "data.batch_size=16",
                    "data.eval_batch_size=32",
                    "callbacks.progress_bar.refresh_rate=0",
                    "trainer.enable_model_summary=false",
                    *overrides,
                ],
                return_hydra_config=True,
            )
            with open_dict(cfg):
                cfg.paths.root_dir = str(tmp_path)
                cfg.paths.data_dir = str(data_dir or tiny_data_dir)
                cfg.paths.cache_dir = str(cache_dir)
                cfg.paths.output_dir = str(tmp_path / "run")
                cfg.paths.log_dir = str(tmp_path / "logs")
            HydraConfig.instance().set_config(cfg)
        return cfg

    yield _make
    GlobalHydra.instance().clear()

"""Shared fixtures: offline environment, a tiny separable SST-2 built at test time, and real Hydra composition."""

from __future__ import annotations

import csv
import gzip
import os
import random
import subprocess
import sys
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

from encoderlab.config import CONF_DIR
from encoderlab.config.model_catalog import models_of_family
from tests.small_models import small_overrides

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


# A toy language pair for translation tests: a word-for-word dictionary plus one reordering (the verb moves to the
# end, as in a German subordinate clause), so a model must learn both lexical choice and word order.
LEXICON = {
    "en": [
        "a",
        "the",
        "man",
        "woman",
        "dog",
        "child",
        "red",
        "small",
        "happy",
        "old",
        "sees",
        "holds",
        "likes",
        "ball",
    ],
    "de": [
        "ein",
        "der",
        "mann",
        "frau",
        "hund",
        "kind",
        "rote",
        "kleine",
        "frohe",
        "alte",
        "sieht",
        "hält",
        "mag",
        "ball",
    ],
    "fr": [
        "un",
        "le",
        "homme",
        "femme",
        "chien",
        "enfant",
        "rouge",
        "petit",
        "heureux",
        "vieux",
        "voit",
        "tient",
        "aime",
        "balle",
    ],
}
NOUNS, ADJECTIVES, VERBS = [2, 3, 4, 5, 13], [6, 7, 8, 9], [10, 11, 12]


def toy_parallel_sentences(count: int, seed: int) -> dict[str, list[str]]:
    """`count` sentences in each of en/de/fr: `det adj noun verb det noun`; de/fr put the verb last."""
    rng = random.Random(seed)
    sentences: dict[str, list[str]] = {lang: [] for lang in LEXICON}
    for _ in range(count):
        words = [rng.choice([0, 1]), rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(VERBS)]
        words += [rng.choice([0, 1]), rng.choice(NOUNS)]
        for lang, lexicon in LEXICON.items():
            order = words if lang == "en" else words[:3] + words[4:] + words[3:4]
            sentences[lang].append(" ".join(lexicon[w] for w in order).capitalize() + ".")
    return sentences


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


def write_multi30k(
    folder: Path, train: int = 96, validation: int = 32, test: int = 32, same_splits: bool = False
) -> Path:
    """Multi30k's local format: `multi30k/{train,val,test_2016_flickr}.{en,de,fr}.gz`, one sentence per line.
    `same_splits`: every split holds the training sentences (to test memorisation)."""
    counts = {"train": (train, 0), "val": (validation, 1), "test_2016_flickr": (test, 2)}
    for stem, (count, seed) in counts.items():
        sentences = toy_parallel_sentences(train if same_splits else count, 0 if same_splits else seed)
        for lang, lines in sentences.items():
            write_lines(folder / "multi30k" / f"{stem}.{lang}.gz", lines)
    return folder


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_multi30k(write_sst2(tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
ENCODER_MODELS = models_of_family(("encoder",))
CLASSIFIER_MODELS = models_of_family(("encoder", "document_encoder"))  # adds the TF-IDF-pooled bag
DATASETS = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))
# Small shapes so every model trains in seconds on a CPU, derived from each conf/model YAML (tests/small_models.py).
SMALL_MODEL_OVERRIDES = {model: small_overrides(model) for model in MODELS}


def compose_train_cfg(root: Path, data_dir: Path, cache_dir: Path, *overrides: str) -> DictConfig:
    """The real `train.yaml` with the test defaults and `overrides`, writing under `root`."""
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
            cfg.paths.root_dir = str(root)
            cfg.paths.data_dir = str(data_dir)
            cfg.paths.cache_dir = str(cache_dir)
            cfg.paths.output_dir = str(root / "run")
            cfg.paths.log_dir = str(root / "logs")
        HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def make_cfg(tmp_path: Path, tiny_data_dir: Path, cache_dir: Path) -> Callable[..., DictConfig]:
    """Compose the real `train.yaml` with overrides, pointed at the tiny data and a per-test output dir."""

    def _make(*overrides: str, data_dir: Path | None = None) -> DictConfig:
        return compose_train_cfg(tmp_path, data_dir or tiny_data_dir, cache_dir, *overrides)

    yield _make
    GlobalHydra.instance().clear()


def offline_env() -> dict[str, str]:
    """The environment for a `train.py` subprocess: offline, one thread (tests share a small CPU)."""
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "OMP_NUM_THREADS": "1",
    }


def train_subprocess(args: list[str], workdir: Path, data_dir: Path) -> subprocess.CompletedProcess:
    """`python train.py ARGS` from `workdir`, on the tiny data, shrunk for speed; fails the test on a non-zero exit."""
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        *args,
        f"paths.data_dir={data_dir}",
        f"paths.cache_dir={workdir / 'cache'}",
        "data.tokenizer.vocab_size=200",
        "data.tokenizer.min_frequency=1",
        "trainer.max_epochs=2",
        "trainer.accelerator=cpu",
        "trainer.enable_model_summary=false",
        "callbacks.progress_bar.refresh_rate=0",
    ]
    done = subprocess.run(command, cwd=workdir, env=offline_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


@pytest.fixture(scope="session")
def tiny_sweep(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path) -> Path:
    """A real 2-job multirun (`-m model=bilstm_attn,bert_tiny`, W&B offline): the sweep dir, shared by the
    comparison and notebook tests."""
    workdir = tmp_path_factory.mktemp("sweep")
    train_subprocess(["-m", "model=bilstm_attn,bert_tiny", "model.encoder.hidden_size=32"], workdir, tiny_data_dir)
    sweeps = list((workdir / "logs" / "multiruns").iterdir())
    assert len(sweeps) == 1, "one multirun, one sweep dir under logs/multiruns/"
    return sweeps[0]

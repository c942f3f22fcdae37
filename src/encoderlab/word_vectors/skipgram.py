"""Skip-gram with negative sampling over token ids, with gensim's Word2Vec as the engine.

gensim trains from a `corpus_file` (one sentence per line, tokens separated by spaces) without the GIL, so every
worker thread does useful work; our "words" are the tokenizer's ids written as decimal strings, so the vectors
line up with the encoder's embedding rows whatever the vocabulary (WordPiece, BPE, unigram or words).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from encoderlab.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass
class SkipGramSettings:
    dim: int = 300
    window: int = 5
    negative: int = 5
    epochs: int = 3
    min_count: int = 5  # ids seen fewer times get no vector (the encoder's init stays)
    sample: float = 1e-4  # down-sampling of frequent ids
    alpha: float = 0.025
    workers: int = 0  # 0: one per physical core
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dim", "window", "negative", "epochs", "min_count"):
            if int(getattr(self, name)) <= 0:
                raise ConfigError(f"task.{name}={getattr(self, name)} must be a positive integer")


def write_id_corpus(rows: Iterable[np.ndarray], path: Path, drop_ids: set[int], break_ids: set[int]) -> int:
    """One line per stretch of ids between `break_ids` (document ends), without `drop_ids` (CLS, PAD); returns
    the number of ids written."""
    written = 0
    with open(path, "w", encoding="ascii") as out:
        for row in rows:
            line: list[str] = []
            for token in row.tolist():
                if token in break_ids:
                    if line:
                        out.write(" ".join(line) + "\n")
                        written += len(line)
                    line = []
                elif token not in drop_ids:
                    line.append(str(token))
            if line:
                out.write(" ".join(line) + "\n")
                written += len(line)
    return written


def train_skipgram(
    corpus_file: Path, settings: SkipGramSettings, vocab_size: int
) -> tuple[np.ndarray, np.ndarray, Any]:
    """Train on `corpus_file`; returns (vectors [vocab_size, dim] float32, covered [vocab_size] bool, gensim model)."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise ConfigError("word vectors need gensim: pip install 'encoderlab[vectors]' (or make install)") from None
    from encoderlab.hardware.threads import physical_cores

    workers = settings.workers or physical_cores()
    started = time.perf_counter()
    model = Word2Vec(
        corpus_file=str(corpus_file),
        vector_size=settings.dim,
        window=settings.window,
        negative=settings.negative,
        sg=1,
        hs=0,
        min_count=settings.min_count,
        sample=settings.sample,
        alpha=settings.alpha,
        epochs=settings.epochs,
        workers=workers,
        seed=settings.seed,
    )
    log.info(
        "Skip-gram: %d ids with vectors, %.0f s on %d workers", len(model.wv), time.perf_counter() - started, workers
    )
    vectors = np.zeros((vocab_size, settings.dim), np.float32)
    covered = np.zeros(vocab_size, bool)
    for key, index in model.wv.key_to_index.items():
        token = int(key)
        if 0 <= token < vocab_size:
            vectors[token] = model.wv.vectors[index]
            covered[token] = True
    return vectors, covered, model


def nearest_neighbours(vectors: np.ndarray, covered: np.ndarray, query: int, k: int = 5) -> list[tuple[int, float]]:
    """The `k` covered ids with the highest cosine similarity to `query` (itself excluded)."""
    if not covered[query]:
        return []
    normed = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    scores = normed @ normed[query]
    scores[~covered] = -np.inf
    scores[query] = -np.inf
    best = np.argsort(-scores)[:k]
    return [(int(i), float(scores[i])) for i in best]


def settings_record(settings: SkipGramSettings) -> dict[str, Any]:
    return asdict(settings)

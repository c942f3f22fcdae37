"""`python train.py model=skipgram data=enwiki` (`experiment=pretrain_word_vectors`): tokenize the corpus with the
data's tokenizer, train skip-gram vectors over its ids, write `<run>/embeddings/` and `<run>/summary.json`."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, cast

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from encoderlab.data.tokenizer import CLS, MASK, PAD, SEP, UNK
from encoderlab.errors import ConfigError
from encoderlab.word_vectors.skipgram import (
    SkipGramSettings,
    nearest_neighbours,
    settings_record,
    train_skipgram,
    write_id_corpus,
)
from encoderlab.word_vectors.store import Embeddings, save_embeddings

log = logging.getLogger(__name__)
SETTING_KEYS = tuple(SkipGramSettings.__dataclass_fields__)


def neighbour_report(embeddings: Embeddings, tokenizer: Any, words: list[str], k: int = 5) -> dict[str, list[str]]:
    """For each word that is one token of the vocabulary with a vector: its `k` nearest tokens."""
    report: dict[str, list[str]] = {}
    for word in words:
        token = tokenizer.token_to_id(word)
        if token is None or not embeddings.covered[token]:
            continue
        report[word] = [
            tokenizer.id_to_token(i) for i, _ in nearest_neighbours(embeddings.vectors, embeddings.covered, token, k)
        ]
    return report


def run_word_vectors(cfg: DictConfig) -> dict[str, float]:
    from encoderlab.data.text_corpus import TextCorpusDataModule
    from encoderlab.report.provenance import command_line, device_description, git_commit

    started = time.perf_counter()
    commit = git_commit()
    model_cfg = cast(dict[str, Any], OmegaConf.to_container(cfg.model, resolve=True))  # a mapping node
    settings = SkipGramSettings(**{key: model_cfg[key] for key in SETTING_KEYS if key in model_cfg}, seed=cfg.seed)
    datamodule = instantiate(cfg.data)
    if not isinstance(datamodule, TextCorpusDataModule):
        raise ConfigError(
            f"model={cfg.model.name} trains word vectors on unlabelled text; data={cfg.data.name} is not a text "
            "corpus (use data=enwiki or data=text_corpus data.path=...)"
        )
    tokenizer = datamodule.tokenizer
    blocks = datamodule.training_blocks()
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    corpus_file = output_dir / "skipgram_corpus.txt"
    ids = {name: tokenizer.token_to_id(name) for name in (PAD, UNK, CLS, SEP, MASK)}
    breaks = {i for name, i in ids.items() if name == SEP and i is not None}
    drops = {i for name, i in ids.items() if name != SEP and i is not None}
    try:
        tokens = write_id_corpus(iter(blocks), corpus_file, drops, breaks)
        log.info("Skip-gram corpus: %s ids from %d blocks of data=%s", f"{tokens:,}", len(blocks), cfg.data.name)
        trained = time.perf_counter()
        vectors, covered, _ = train_skipgram(corpus_file, settings, tokenizer.get_vocab_size())
        train_time = time.perf_counter() - trained
    finally:
        corpus_file.unlink(missing_ok=True)
    record = {
        **settings_record(settings),
        "engine": "gensim",
        "data": cfg.data.name,
        "corpus_tokens": tokens,
        "epochs": settings.epochs,
        "covered_ids": int(covered.sum()),
        "vocab_size": len(covered),
    }
    embeddings = Embeddings(vectors, covered, tokenizer.to_str(), record)
    directory = save_embeddings(output_dir / "embeddings", embeddings)
    neighbours = neighbour_report(embeddings, tokenizer, list(model_cfg.get("neighbours") or []))
    for word, near in neighbours.items():
        log.info("Nearest to %-10s %s", word, ", ".join(near))
    metrics = {
        "train/time_sec": round(train_time, 1),
        "train/tokens_per_sec": round(tokens * settings.epochs / max(train_time, 1e-9)),
        "vectors/covered_ids": float(covered.sum()),
        "vectors/vocab_coverage": float(covered.mean()),
        "vectors/corpus_tokens": float(tokens),
    }
    summary = {
        "command": command_line(),
        "commit": commit,
        "device": device_description(),
        "model": cfg.model.name,
        "data": cfg.data.name,
        "seed": cfg.seed,
        "wall_time_sec": round(time.perf_counter() - started, 1),
        "embeddings_dir": str(directory),
        "settings": record,
        "neighbours": neighbours,
        "metrics": metrics,
    }
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("Word vectors written to %s (start an encoder from them with model.embeddings=%s)", directory, directory)
    return metrics

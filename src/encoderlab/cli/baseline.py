"""TF-IDF + logistic regression / linear SVM on a data config's own splits: `encoderlab baseline data=bbc_news`.
Writes `summary.json` in the run's output dir, like `encoderlab train` (needs `pip install 'encoderlab[baselines]'`)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from encoderlab.cli.one_line_errors import report
from encoderlab.config import CONF_DIR
from encoderlab.errors import ConfigError, UserError
from encoderlab.report.provenance import command_line, device_description, git_commit

ENTRY_POINT = "python -m encoderlab.cli.baseline"

log = logging.getLogger(__name__)


def split_texts(rows: Any) -> list[str]:
    if "text_pair" in rows.column_names:
        return [f"{a}\n{b}" for a, b in zip(rows["text"], rows["text_pair"], strict=True)]
    return list(rows["text"])


def make_classifier(name: str, c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if name == "logreg":
        return LogisticRegression(C=c, max_iter=2000, random_state=seed)
    if name == "linear_svm":
        return LinearSVC(C=c, random_state=seed)
    raise ConfigError(f"unknown baseline classifier {name!r}; choose logreg or linear_svm")


def run_baseline(cfg: DictConfig) -> dict[str, Any]:
    """Fit TF-IDF on train, pick classifier and C on validation, measure test; returns the summary written."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics import accuracy_score, f1_score
    except ImportError as error:
        raise UserError("the TF-IDF baseline needs scikit-learn: pip install -e '.[baselines]'") from error

    started = time.perf_counter()
    datamodule = instantiate(cfg.data)
    if datamodule.task != "classification":
        raise ConfigError(f"the TF-IDF baseline classifies texts; data={cfg.data.name} is {datamodule.task}")
    splits = datamodule.load_splits()
    settings = cfg.baseline
    vectorizer = TfidfVectorizer(
        ngram_range=(1, settings.ngram_max),
        min_df=settings.min_df,
        sublinear_tf=settings.sublinear_tf,
        lowercase=settings.lowercase,
    )
    features = {"train": vectorizer.fit_transform(split_texts(splits["train"]))}
    for split in ("validation", "test"):
        features[split] = vectorizer.transform(split_texts(splits[split]))
    labels = {split: list(splits[split]["label"]) for split in ("train", "validation", "test")}

    results: dict[str, dict[str, float]] = {}
    for name in settings.classifiers:
        best: dict[str, float] | None = None
        for c in settings.C:
            model = make_classifier(name, float(c), cfg.seed).fit(features["train"], labels["train"])
            val_acc = accuracy_score(labels["validation"], model.predict(features["validation"]))
            log.info("%s C=%g: val/acc %.4f", name, c, val_acc)
            if best is None or val_acc > best["val/acc"]:
                predicted = model.predict(features["test"])
                best = {
                    "C": float(c),
                    "val/acc": float(val_acc),
                    "test/acc": float(accuracy_score(labels["test"], predicted)),
                    "test/f1_macro": float(f1_score(labels["test"], predicted, average="macro")),
                }
        if best is None:
            raise ConfigError("baseline.C is empty: give at least one regularization strength to try")
        results[name] = best
        log.info("%s: best C=%g val/acc %.4f test/acc %.4f", name, best["C"], best["val/acc"], best["test/acc"])
    chosen = max(results, key=lambda n: results[n]["val/acc"])
    summary = {
        "command": command_line().replace("python train.py", ENTRY_POINT, 1),
        "commit": git_commit(),
        "device": device_description(),
        "model": f"tfidf_{chosen}",
        "data": cfg.data.name,
        "split_sizes": {split: len(labels[split]) for split in labels},
        "features": len(vectorizer.vocabulary_),
        "settings": {k: list(v) if not isinstance(v, int | float | bool | str) else v for k, v in settings.items()},
        "wall_time_sec": round(time.perf_counter() - started, 1),
        "metrics": {"val/acc": results[chosen]["val/acc"], "test/acc": results[chosen]["test/acc"]},
        "classifiers": results,
    }
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="baseline")
def main(cfg: DictConfig) -> float | None:
    try:
        summary = run_baseline(cfg)
    except Exception as error:
        sys.exit(report(error))
    print(json.dumps(summary["classifiers"], indent=2))
    return summary["metrics"]["val/acc"]


if __name__ == "__main__":
    main()

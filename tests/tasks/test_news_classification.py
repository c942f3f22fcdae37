"""News topics and own files through the real pipeline: a real Trainer on tiny bbc_news-format data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate

from encoderlab.inference.checkpoint import load_task
from encoderlab.training.run import train
from tests.builders import write_bbc_news
from tests.conftest import CLASSIFIER_MODELS, SMALL_MODEL_OVERRIDES

NEWS = ["data=bbc_news", "data.tokenizer.max_length=48"]


@pytest.fixture(scope="module")
def news_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bbc_news(tmp_path_factory.mktemp("news"))


@pytest.mark.parametrize("model", CLASSIFIER_MODELS)
def test_fast_dev_run_each_encoder_on_bbc_news(make_cfg, news_data_dir: Path, model: str) -> None:
    metrics = train(
        make_cfg(f"model={model}", *NEWS, "debug=fdr", *SMALL_MODEL_OVERRIDES[model], data_dir=news_data_dir)
    )
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    assert 0.0 <= metrics["test/acc"] <= 1.0


@pytest.mark.parametrize("model", ["bert_tiny", "bilstm"])
def test_fast_dev_run_text_files_with_a_text_pair(make_cfg, tmp_path: Path, model: str) -> None:
    path = tmp_path / "pairs.jsonl"
    rows = [f'{{"title": "t{i}", "body": "{"up" if i % 2 else "down"} day", "y": {i % 2}}}' for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    cfg = make_cfg(
        f"model={model}",
        "data=text_files",
        f"data.train_file={path}",
        "data.text_column=title",
        "data.text_pair_column=body",
        "data.label_column=y",
        "debug=fdr",
        *SMALL_MODEL_OVERRIDES[model],
    )
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))


def test_bilstm_learns_tiny_news_topics_with_head_tail_truncation(make_cfg, news_data_dir: Path) -> None:
    cfg = make_cfg(
        "model=bilstm",
        *NEWS,
        "data.truncation=head_tail",
        "trainer.max_epochs=8",
        "~callbacks.early_stopping",
        "scheduler=constant",
        "model.lr=5e-3",
        *SMALL_MODEL_OVERRIDES["bilstm"],
        data_dir=news_data_dir,
    )
    metrics = train(cfg)
    assert metrics["val/acc_best"] > 0.9, metrics
    assert metrics["test/acc"] > 0.9, metrics


def test_tfidf_bag_counts_training_documents_learns_and_keeps_the_counts_in_its_checkpoint(
    make_cfg, news_data_dir: Path
) -> None:
    cfg = make_cfg(
        "experiment=bbc_news_fasttext_tfidf",
        *NEWS,
        "trainer.max_epochs=6",
        "model.lr=2e-2",
        *SMALL_MODEL_OVERRIDES["fasttext_tfidf"],
        data_dir=news_data_dir,
    )
    metrics = train(cfg)
    assert metrics["test/acc"] > 0.9, metrics
    checkpoint = next(Path(cfg.paths.output_dir, "checkpoints").glob("epoch*.ckpt"))
    _, task = load_task(checkpoint)
    counts = task.net.encoder.tfidf
    train_size = len(instantiate(cfg.data).load_splits()["train"])
    assert int(counts.num_documents) == train_size
    assert not task.net.encoder.needs_fit
    assert counts.document_frequency.max() <= train_size and counts.document_frequency.sum() > train_size

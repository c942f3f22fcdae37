"""NER through the real pipeline: a real Trainer on a tiny CoNLL-2003-format data set written in IOB1."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from encoderlab.training.run import train
from tests.builders import write_conll2003
from tests.conftest import ENCODER_MODELS, SMALL_MODEL_OVERRIDES

NER = ["data=conll2003", "data.tokenizer.max_length=64"]


@pytest.fixture(scope="module")
def ner_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_conll2003(tmp_path_factory.mktemp("ner"))


@pytest.mark.parametrize("model", ENCODER_MODELS)
def test_fast_dev_run_each_encoder_on_conll(make_cfg, ner_data_dir: Path, model: str) -> None:
    metrics = train(make_cfg(f"model={model}", *NER, "debug=fdr", *SMALL_MODEL_OVERRIDES[model], data_dir=ner_data_dir))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    assert {"test/f1", "test/precision", "test/recall", "test/f1_PER", "test/f1_LOC"} <= metrics.keys()


@pytest.mark.parametrize("model", ["bert_tiny", "bilstm"])
def test_fast_dev_run_with_crf(make_cfg, ner_data_dir: Path, model: str) -> None:
    cfg = make_cfg(
        f"model={model}", *NER, "debug=fdr", "task.crf=true", *SMALL_MODEL_OVERRIDES[model], data_dir=ner_data_dir
    )
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    assert 0.0 <= metrics["test/f1"] <= 1.0


LEARN = {
    "bilstm_crf": ["model=bilstm", "task.crf=true", "model.lr=1e-2", *SMALL_MODEL_OVERRIDES["bilstm"]],
    "bert_tiny": ["model=bert_tiny", "model.lr=3e-3", "model.encoder.num_layers=1", "model.encoder.dropout=0.0"],
}


@pytest.mark.parametrize("name", LEARN)
def test_encoders_learn_a_tiny_ner_slice(make_cfg, ner_data_dir: Path, name: str) -> None:
    cfg = make_cfg(
        *LEARN[name],
        *NER,
        "trainer.max_epochs=8",
        "~callbacks.early_stopping",
        "scheduler=constant",
        data_dir=ner_data_dir,
    )
    metrics = train(cfg)
    assert metrics["val/f1_best"] > 0.85, metrics
    assert metrics["test/f1"] > 0.85, metrics
    assert cfg.optimized_metric == "val/f1_best"


CHARS = {
    "bilstm_cnn": ["model=bilstm", "char_encoder=cnn", "task.crf=true", *SMALL_MODEL_OVERRIDES["bilstm"]],
    "bilstm_lstm": ["model=bilstm", "char_encoder=lstm", *SMALL_MODEL_OVERRIDES["bilstm"]],
    "bert_tiny_cnn": ["model=bert_tiny", "char_encoder=cnn", *SMALL_MODEL_OVERRIDES["bert_tiny"]],
}


@pytest.mark.parametrize("name", CHARS)
def test_fast_dev_run_with_character_features(make_cfg, ner_data_dir: Path, name: str) -> None:
    cfg = make_cfg(*CHARS[name], *NER, "debug=fdr", data_dir=ner_data_dir)
    assert cfg.model.char_encoder.max_word_chars == 20
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    assert 0.0 <= metrics["test/f1"] <= 1.0


def test_character_features_learn_a_tiny_ner_slice(make_cfg, ner_data_dir: Path) -> None:
    cfg = make_cfg(
        *LEARN["bilstm_crf"],
        "char_encoder=cnn",
        *NER,
        "trainer.max_epochs=8",
        "~callbacks.early_stopping",
        "scheduler=constant",
        data_dir=ner_data_dir,
    )
    metrics = train(cfg)
    assert metrics["val/f1_best"] > 0.85, metrics
    assert metrics["test/f1"] > 0.85, metrics

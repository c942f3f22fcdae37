"""The classification task through the real pipeline: a real Trainer on a tiny separable SST-2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer

from encoderlab.pipeline import run
from encoderlab.tasks.classification import ClassificationTask
from tests.conftest import CLASSIFIER_MODELS, SMALL_MODEL_OVERRIDES


@pytest.mark.parametrize("model", CLASSIFIER_MODELS)
def test_fast_dev_run_trains_each_encoder(make_cfg, model: str) -> None:
    cfg = make_cfg(f"model={model}", "debug=fdr", *SMALL_MODEL_OVERRIDES[model])
    metrics = run(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    assert 0.0 <= metrics["test/acc"] <= 1.0


BERT_OVERFIT = ["model=bert_tiny", "model.lr=1e-3", "model.encoder.dropout=0.0", "model.encoder.attention_dropout=0.0"]
OVERFIT = {
    "bert_tiny": BERT_OVERFIT,
    "bert_tiny_unpadded": [*BERT_OVERFIT, "model.encoder.unpad=true"],
    "lstm": ["model=lstm", "model.lr=5e-3", *SMALL_MODEL_OVERRIDES["lstm"]],
    "bilstm": ["model=bilstm", "model.lr=5e-3", *SMALL_MODEL_OVERRIDES["bilstm"]],
    "bilstm_attn": ["model=bilstm_attn", "model.lr=5e-3", *SMALL_MODEL_OVERRIDES["bilstm_attn"]],
}


@pytest.mark.parametrize("model", OVERFIT)
def test_each_encoder_learns_a_separable_slice(make_cfg, model: str) -> None:
    cfg = make_cfg(
        "trainer.max_epochs=12",
        "~callbacks.early_stopping",
        "scheduler=constant",
        "data.batch_size=32",
        *OVERFIT[model],
    )
    metrics = run(cfg)
    assert metrics["train/acc"] > 0.9, metrics
    assert metrics["val/acc_best"] > 0.9, metrics
    assert metrics["test/acc"] > 0.9, metrics


def test_checkpoint_alone_is_enough_to_predict(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "trainer.max_epochs=1")
    run(cfg)
    output = Path(cfg.paths.output_dir)
    summary = json.loads((output / "summary.json").read_text())
    best = Path(summary["best_checkpoint"])
    assert best.exists() and (output / "checkpoints" / "last.ckpt").exists()
    assert (output / "tokenizer.json").exists()
    task = ClassificationTask.load_from_checkpoint(best, map_location="cpu").eval()
    tokenizer = Tokenizer.from_str(task.tokenizer_json)
    encoding = tokenizer.encode("a wonderful and brilliant film")
    ids = torch.tensor([encoding.ids])
    probs = task({"input_ids": ids, "attention_mask": torch.ones_like(ids)}).softmax(-1)
    assert probs.shape == (1, 2) and torch.allclose(probs.sum(), torch.tensor(1.0))
    assert task.hparams.label_names == ["negative", "positive"]
    assert summary["metrics"]["test/acc"] == pytest.approx(summary["metrics"]["test/acc"])
    assert {"command", "commit", "device", "wall_time_sec"} <= summary.keys()


def test_compiled_inner_module_keeps_clean_state_dict_keys(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "debug=fdr", "task.compile=true")
    run(cfg)  # trains through torch.compile
    task = ClassificationTask(
        model=cfg.model, vocab_size=50, num_classes=2, label_names=["a", "b"], optimizer=cfg.optimizer, compile=True
    )
    task.configure_model()
    assert not any("_orig_mod" in key for key in task.state_dict())


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("scheduler", ["cosine", "constant"])
def test_optimizer_and_scheduler_choices_train(make_cfg, optimizer: str, scheduler: str) -> None:
    metrics = run(make_cfg("model=bert_tiny", "debug=fdr", f"optimizer={optimizer}", f"scheduler={scheduler}"))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))


def test_bf16_mixed_precision_trains_on_cpu(make_cfg) -> None:
    metrics = run(make_cfg("model=bert_tiny", "debug=fdr", "trainer.precision=bf16-mixed"))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))

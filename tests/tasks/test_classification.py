"""The classification task through the real pipeline: a real Trainer on a tiny separable SST-2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra.utils import get_class
from tokenizers import Tokenizer

from encoderlab.tasks.classification import ClassificationTask
from encoderlab.training.run import train
from tests.conftest import CLASSIFIER_MODELS, SMALL_MODEL_OVERRIDES, separable_sentences


@pytest.mark.parametrize("model", CLASSIFIER_MODELS)
def test_fast_dev_run_trains_each_encoder(make_cfg, model: str) -> None:
    cfg = make_cfg(f"model={model}", "debug=fdr", *SMALL_MODEL_OVERRIDES[model])
    metrics = train(cfg)
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


@pytest.mark.slow
@pytest.mark.parametrize("model", OVERFIT)
def test_each_encoder_learns_a_separable_slice(make_cfg, model: str) -> None:
    cfg = make_cfg(
        "trainer.max_epochs=12",
        "~callbacks.early_stopping",
        "scheduler=constant",
        "data.batch_size=32",
        *OVERFIT[model],
    )
    metrics = train(cfg)
    assert metrics["train/acc"] > 0.9, metrics
    assert metrics["val/acc_best"] > 0.9, metrics
    assert metrics["test/acc"] > 0.9, metrics


def test_checkpoint_alone_is_enough_to_predict(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "trainer.max_epochs=1")
    metrics = train(cfg)
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
    assert summary["metrics"]["test/acc"] == pytest.approx(metrics["test/acc"])
    # the checkpoint and its tokenizer alone reproduce the accuracy the run tested (SST-2 tests on validation)
    validation = separable_sentences(64, 1)
    correct = 0
    with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=summary["precision"] == "bf16-mixed"):
        for text, label in validation:
            ids = torch.tensor([tokenizer.encode(text).ids])
            correct += int(task({"input_ids": ids, "attention_mask": torch.ones_like(ids)}).argmax(-1).item() == label)
    assert correct / len(validation) == pytest.approx(metrics["test/acc"], abs=1.01 / len(validation))  # 1 near-tie
    assert {"command", "commit", "device", "wall_time_sec"} <= summary.keys()


@pytest.mark.slow
def test_compiled_inner_module_keeps_clean_state_dict_keys(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "debug=fdr", "task.compile=true")
    train(cfg)  # trains through torch.compile
    task = ClassificationTask(
        model=cfg.model, vocab_size=50, num_classes=2, label_names=["a", "b"], optimizer=cfg.optimizer, compile=True
    )
    task.configure_model()
    assert not any("_orig_mod" in key for key in task.state_dict())


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("scheduler", ["cosine", "constant"])
def test_optimizer_and_scheduler_choices_train(make_cfg, tmp_path: Path, optimizer: str, scheduler: str) -> None:
    record = tmp_path / "optimizer.json"
    cfg = make_cfg(
        "model=bert_tiny", "debug=fdr", f"optimizer={optimizer}", f"scheduler={scheduler}",
        "+callbacks.record._target_=tests.helpers.RecordOptimizer", f"+callbacks.record.path={record}",
    )  # fmt: skip
    metrics = train(cfg)
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))
    seen = json.loads(record.read_text())
    chosen = get_class(cfg.optimizer._target_)
    assert seen["optimizers"] == [f"{chosen.__module__}.{chosen.__qualname__}"]
    assert seen["with_state"] > 0  # Adam's moments, SGD's momentum buffers, RMSprop's square averages
    assert seen["changed"] == seen["trainable"] > 0, seen  # the one step moved every trainable tensor
    assert seen["scheduler_steps"] == [1], seen


def test_bf16_mixed_precision_trains_on_cpu(make_cfg) -> None:
    metrics = train(make_cfg("model=bert_tiny", "debug=fdr", "trainer.precision=bf16-mixed"))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))

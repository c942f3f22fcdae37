"""Nothing lost: exact resume, reproducible runs, atomic checkpoint writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from encoderlab.callbacks import AtomicCheckpointIO
from encoderlab.training.run import train
from tests.builders import write_conll2003

TINY_BILSTM = ["model=bilstm", "model.encoder.embedding_size=32", "model.encoder.hidden_size=32"]
TWO_EPOCHS = ["trainer.max_epochs=2", "~callbacks.early_stopping", "data.batch_size=32"]
STOP_AFTER_ONE = ["+callbacks.stop_after._target_=tests.helpers.StopAfterEpochs", "+callbacks.stop_after.epochs=1"]


def weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    return torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


NER = ["data=conll2003", "data.tokenizer.max_length=64"]
CASES = {
    "classification-bilstm": (TINY_BILSTM, False),
    "classification-bert_tiny": (["model=bert_tiny"], False),
    "ner-bilstm_crf": ([*TINY_BILSTM, *NER, "task.crf=true"], True),
}


@pytest.mark.parametrize("case", CASES)
def test_one_epoch_plus_resume_equals_two_epochs_straight(make_cfg, tmp_path: Path, case: str) -> None:
    overrides, ner = CASES[case]
    data_dir = write_conll2003(tmp_path / "ner") if ner else None

    def make(*extra: str):
        return make_cfg(*overrides, *TWO_EPOCHS, *extra, data_dir=data_dir)

    straight_cfg = make()
    straight = train(straight_cfg)
    straight_last = Path(straight_cfg.paths.output_dir) / "checkpoints" / "last.ckpt"

    first_cfg = make(*STOP_AFTER_ONE)
    first_cfg.paths.output_dir = str(tmp_path / "first")
    train(first_cfg)
    interrupted = Path(first_cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    assert torch.load(interrupted, weights_only=False)["epoch"] == 0

    resumed_cfg = make(f"ckpt_path={interrupted}")
    resumed_cfg.paths.output_dir = str(tmp_path / "resumed")
    resumed = train(resumed_cfg)

    assert torch.load(straight_last, weights_only=False)["epoch"] == 1
    assert torch.load(interrupted, weights_only=False)["epoch"] == 1, "the resumed run carries on in its folder"
    assert max_difference(weights(straight_last), weights(interrupted)) <= 1e-6
    keys = ("val/f1", "val/f1_best", "test/f1") if ner else ("val/acc", "val/acc_best", "test/acc")
    for key in ("val/loss", "train/loss_epoch", *keys):
        assert resumed[key] == pytest.approx(straight[key], abs=1e-6), key
    summary = json.loads((Path(resumed_cfg.paths.output_dir) / "summary.json").read_text())
    straight_summary = json.loads((Path(straight_cfg.paths.output_dir) / "summary.json").read_text())
    assert summary["resumed_from"] == str(interrupted)
    assert summary["global_steps"] == straight_summary["global_steps"]


def test_ckpt_path_last_finds_the_newest_run_of_this_model_and_data(make_cfg, tmp_path: Path) -> None:
    first = make_cfg("model=bert_tiny", "trainer.max_epochs=1")
    first.paths.output_dir = str(Path(first.paths.log_dir) / first.run_name / "runs" / "earlier")
    train(first)
    again = make_cfg("model=bert_tiny", "trainer.max_epochs=2", "ckpt_path=last")
    again.paths.log_dir = first.paths.log_dir
    train(again)
    summary = json.loads((Path(again.paths.output_dir) / "summary.json").read_text())
    assert summary["resumed_from"] == str(Path(first.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert summary["epochs"] == 2


def test_same_seed_same_config_gives_the_same_metrics(make_cfg, tmp_path: Path) -> None:
    results = []
    for attempt in ("a", "b"):
        cfg = make_cfg(*TINY_BILSTM, *TWO_EPOCHS)
        cfg.paths.output_dir = str(tmp_path / attempt)
        results.append((train(cfg), weights(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")))
    (first, first_weights), (second, second_weights) = results
    for key in ("train/loss_epoch", "val/loss", "val/acc", "test/acc"):
        assert first[key] == second[key], key
    assert max_difference(first_weights, second_weights) == 0.0


def test_a_failed_write_leaves_the_previous_checkpoint_intact(tmp_path: Path, monkeypatch) -> None:
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}, "epoch": 1}, path)

    def dies_mid_write(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(torch, "save", dies_mid_write)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "epoch": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=False)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"], "no temporary file left behind"

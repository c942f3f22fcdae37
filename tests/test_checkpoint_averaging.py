"""Checkpoint averaging: the mean of the weights exactly, through a real Trainer run, and chosen on validation."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
import pytest
import torch

from encoderlab.callbacks.checkpoint_averaging import (
    CheckpointAveraging,
    average_checkpoint_files,
    average_state_dicts,
)
from encoderlab.training.run import train
from tests.conftest import SMALL_MODEL_OVERRIDES

AVERAGING = ["+callbacks.checkpoint_averaging._target_=encoderlab.callbacks.CheckpointAveraging"]


def test_the_average_is_the_mean_of_the_weights_and_keeps_integer_buffers() -> None:
    states = [{"w": torch.full((2, 3), float(i)), "steps": torch.tensor(i)} for i in (1, 2, 6)]
    averaged = average_state_dicts(states)
    assert torch.equal(averaged["w"], torch.full((2, 3), 3.0))
    assert averaged["steps"].item() == 6 and averaged["steps"].dtype == torch.int64
    with pytest.raises(ValueError, match="at least one"):
        average_state_dicts([])


def test_a_non_positive_window_is_refused() -> None:
    with pytest.raises(ValueError, match="last_n must be at least 1"):
        CheckpointAveraging(last_n=0)


class RecordWeights(L.Callback):
    """Writes the weights after every validation of the fit to `folder`, apart from the averaging callback's copies."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.count = 0

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "fit":
            self.folder.mkdir(parents=True, exist_ok=True)
            torch.save(pl_module.state_dict(), self.folder / f"{self.count}.pt")
            self.count += 1


def test_the_averaged_checkpoint_of_a_real_run_holds_the_mean_of_the_last_n_validations(
    make_cfg, tmp_path: Path
) -> None:
    model = "transformer_seq2seq"
    recorded = tmp_path / "recorded"
    cfg = make_cfg(
        f"model={model}",
        "data=multi30k",
        "data.tokenizer.vocab_size=400",
        *SMALL_MODEL_OVERRIDES[model],
        *AVERAGING,
        "+callbacks.checkpoint_averaging.last_n=2",
        "+callbacks.record._target_=tests.test_checkpoint_averaging.RecordWeights",
        f"+callbacks.record.folder={recorded}",
        "trainer.max_epochs=3",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "~callbacks.early_stopping",
    )
    metrics = train(cfg)

    states = [torch.load(recorded / f"{i}.pt", weights_only=True) for i in range(3)]
    assert not (recorded / "3.pt").exists()  # the validation of the averaged checkpoint is no snapshot
    summary = json.loads((Path(cfg.paths.output_dir) / "summary.json").read_text())
    averaged = torch.load(summary["averaged_checkpoint"], map_location="cpu", weights_only=False)["state_dict"]
    for name, value in averaged.items():
        if value.is_floating_point():
            expected = ((states[1][name].double() + states[2][name].double()) / 2).to(value.dtype)
            assert torch.equal(value, expected), name
    assert len(summary["averaged_steps"]) == 2
    assert summary["tested_checkpoint"] in (summary["averaged_checkpoint"], summary["best_checkpoint"])
    assert "val_averaged/bleu" in metrics and "test/bleu" in metrics
    # averaging the file with itself gives it back
    again = average_checkpoint_files([summary["averaged_checkpoint"]] * 2)
    assert all(torch.equal(again[k], averaged[k]) for k in averaged)

"""`DataWait` sees a slow loader, and is logged by every default run."""

from __future__ import annotations

import time

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from encoderlab.callbacks import DataWait
from encoderlab.training.run import train


class TinyRegression(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        return self.layer(batch).pow(2).mean()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def slow_collate(rows: list[torch.Tensor]) -> torch.Tensor:
    time.sleep(0.1)  # a loader far slower than the step
    return torch.stack(rows)


def fit_with(callback: DataWait, collate, accelerator: str = "cpu") -> dict[str, float]:
    trainer = L.Trainer(
        accelerator=accelerator,
        max_epochs=1,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(TinyRegression(), DataLoader(list(torch.randn(24, 4)), batch_size=4, collate_fn=collate))
    return {key: float(value) for key, value in trainer.callback_metrics.items()}


def test_a_loader_slower_than_the_step_shows_as_waiting() -> None:
    metrics = fit_with(DataWait(), slow_collate)
    assert 0.5 < metrics["train/data_wait_fraction"] <= 1.0
    assert "train/gpu_busy_fraction" not in metrics, "no GPU timeline on CPU"


def test_default_runs_log_the_data_wait_fraction(make_cfg) -> None:
    metrics = train(make_cfg("model=bert_tiny", "trainer.max_epochs=1", "trainer.limit_train_batches=3"))
    assert 0.0 <= metrics["train/data_wait_fraction"] <= 1.0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_busy_fraction_drops_when_the_gpu_waits_for_data() -> None:
    metrics = fit_with(DataWait(), slow_collate, accelerator="gpu")
    assert 0.0 < metrics["train/gpu_busy_fraction"] < 0.5

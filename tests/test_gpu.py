"""Mixed precision on a real GPU; skipped where there is none (CI has none)."""

from __future__ import annotations

import pytest
import torch

from encoderlab.pipeline import run

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
@pytest.mark.parametrize("model", ["bert_tiny", "bilstm"])
def test_mixed_precision_trains_on_gpu(make_cfg, model: str, precision: str) -> None:
    metrics = run(make_cfg(f"model={model}", "debug=fdr", "trainer=gpu", f"trainer.precision={precision}"))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))

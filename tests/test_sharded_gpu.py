"""FSDP and DeepSpeed train a tiny BERT and resume from their sharded `last.ckpt/` folder. CUDA only: torch's FSDP
refuses CPU devices and Lightning's DeepSpeed strategy any accelerator but CUDA (tests/test_sharded_presets.py
checks the composition on the CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from encoderlab.training.run import train
from encoderlab.training.sharding import deepspeed_installed
from tests.conftest import SMALL_MODEL_OVERRIDES

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def summary_of(cfg) -> dict:
    return json.loads((Path(cfg.paths.output_dir) / "summary.json").read_text())


@pytest.mark.parametrize("preset", ["fsdp", "deepspeed", "deepspeed_stage_3"])
def test_sharded_run_trains_and_resumes_from_its_last_checkpoint_folder(make_cfg, preset: str) -> None:
    if preset.startswith("deepspeed") and not deepspeed_installed():
        pytest.skip("DeepSpeed is not installed (pip install 'encoderlab[deepspeed]')")
    common = (
        "model=bert_tiny",
        *SMALL_MODEL_OVERRIDES["bert_tiny"],
        f"trainer={preset}",
        "trainer.accelerator=gpu",
        "trainer.devices=1",
        "~callbacks.early_stopping",
    )
    cfg = make_cfg(*common, "trainer.max_epochs=1")
    train(cfg)
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    assert last.is_dir(), "a folder of shards"
    assert not list(last.parent.glob(".*.partial")), "the staging folder was swapped in"
    if preset == "fsdp":
        assert (last / "meta.pt").is_file()
    steps = summary_of(cfg)["global_steps"]
    assert steps > 0

    resumed = make_cfg(*common, "trainer.max_epochs=2", f"ckpt_path={last}")
    metrics = train(resumed)
    summary = summary_of(resumed)
    assert summary["resumed_from"] == str(last)
    assert summary["global_steps"] == 2 * steps, "the second epoch only: optimizer and loop state came back"
    assert 0.0 <= metrics["test/acc"] <= 1.0

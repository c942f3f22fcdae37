"""`trainer.precision=auto`: what it picks for which hardware, and that a real run trains with the pick."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from encoderlab.hardware.precision import auto_precision, cpu_has_native_bf16, precision_reason, resolve_precision
from encoderlab.training.run import train

SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
COOPER_LAKE = frozenset({"avx2", "avx512f", "avx512_bf16"})
SKYLAKE = frozenset({"avx2", "avx512f", "avx512bw"})


@pytest.mark.parametrize(("flags", "expected"), [(SAPPHIRE_RAPIDS, True), (COOPER_LAKE, True), (SKYLAKE, False)])
def test_native_bf16_follows_the_cpu_flags(flags: frozenset[str], expected: bool) -> None:
    assert cpu_has_native_bf16(flags) is expected


def test_auto_is_bf16_on_a_cpu_with_amx_and_fp32_without() -> None:
    assert auto_precision("cpu", SAPPHIRE_RAPIDS) == "bf16-mixed"
    assert auto_precision("cpu", SKYLAKE) == "32-true"
    assert precision_reason("bf16-mixed", "cpu", SAPPHIRE_RAPIDS) == "CPU has amx_bf16, avx512_bf16"
    assert precision_reason("32-true", "cpu", SKYLAKE) == "CPU lacks amx_bf16 and avx512_bf16"


def test_auto_on_cuda_follows_the_gpu_not_the_cpu() -> None:
    assert auto_precision("gpu", SKYLAKE, cuda_bf16=True) == "bf16-mixed"
    assert auto_precision("gpu", SAPPHIRE_RAPIDS, cuda_bf16=False) == "32-true"


def test_an_explicit_precision_is_kept() -> None:
    assert resolve_precision("32-true", "cpu", SAPPHIRE_RAPIDS) == "32-true"
    assert resolve_precision("bf16-mixed", "cpu", SKYLAKE) == "bf16-mixed"


def test_the_default_run_uses_and_records_the_precision_auto_picks(make_cfg, tmp_path: Path) -> None:
    cfg = make_cfg("model=bert_tiny", "debug=fdr")
    assert cfg.trainer.precision == "auto"
    train(cfg)
    summary = json.loads((Path(cfg.paths.output_dir) / "summary.json").read_text())
    assert summary["precision"] == auto_precision("auto")
    if cpu_has_native_bf16() and not torch.cuda.is_available():  # this project's CI machine has AMX
        assert summary["precision"] == "bf16-mixed"


def test_bf16_plugin_clips_gradients_of_a_fused_optimizer() -> None:
    import lightning as L

    from encoderlab.hardware.precision import BF16MixedPrecision, trainer_precision

    flag, plugins = trainer_precision("bf16-mixed", "cpu")
    assert flag is None and isinstance(plugins[0], BF16MixedPrecision)
    assert L.Trainer(precision=flag, plugins=plugins, logger=False, accelerator="cpu").precision == "bf16-mixed"
    weight = torch.nn.Parameter(torch.zeros(4))
    weight.grad = torch.full((4,), 10.0)
    optimizer = torch.optim.AdamW([weight], fused=True)
    plugins[0].clip_gradients(optimizer, clip_val=1.0)
    assert weight.grad.norm() == pytest.approx(1.0, rel=1e-4)


def test_default_run_clips_gradients_with_the_fused_optimizer(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "debug=fdr")
    assert cfg.trainer.gradient_clip_val > 0 and cfg.optimizer.fused
    assert train(cfg)["train/loss_epoch"] > 0  # Lightning's own bf16 plugin refuses this combination

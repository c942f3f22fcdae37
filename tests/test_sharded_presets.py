"""`trainer=fsdp` and `trainer=deepspeed` composed from the real configs into a real Trainer.

torch's FSDP refuses CPU devices ("FSDP needs a non-CPU accelerator device") and Lightning's DeepSpeed strategy
refuses any accelerator but CUDA, so on the CPU these tests check what the presets build (strategy, per-layer
wrapping, mixed precision, checkpoint IO) and the one-line refusals; tests/test_sharded_gpu.py trains and resumes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from hydra.errors import InstantiationException
from lightning.pytorch.strategies import DeepSpeedStrategy

from encoderlab.callbacks import AtomicCheckpointIO
from encoderlab.errors import ConfigError, user_error_in
from encoderlab.models.transformer import DecoderLayer, EncoderLayer, TransformerEncoder
from encoderlab.training import sharding, trainer_setup
from encoderlab.training.sharding import LayerwiseFSDPStrategy, ShardedNormClipping, replace_directory
from encoderlab.training.trainer_setup import build_trainer


def built_trainer(make_cfg, monkeypatch: pytest.MonkeyPatch, *overrides: str):
    """The Trainer `build_trainer` makes for the preset, past the CUDA check (these tests look at what it built)."""
    monkeypatch.setattr(trainer_setup, "refuse_without_cuda", lambda trainer: None)
    cfg = make_cfg("model=bert_tiny", *overrides, "trainer.devices=2")
    trainer, precision = build_trainer(cfg, [], [])
    return trainer, precision


def test_fsdp_preset_wraps_each_encoder_layer_in_bf16_with_atomic_checkpoint_io(make_cfg, monkeypatch) -> None:
    trainer, precision = built_trainer(make_cfg, monkeypatch, "trainer=fsdp", "trainer.precision=bf16-mixed")
    strategy = trainer.strategy
    assert isinstance(strategy, LayerwiseFSDPStrategy) and precision == "bf16-mixed"
    assert strategy._state_dict_type == "sharded"
    assert isinstance(strategy.checkpoint_io, AtomicCheckpointIO)
    plugin = trainer.precision_plugin
    assert isinstance(plugin, ShardedNormClipping) and plugin is strategy.precision_plugin
    assert plugin.mixed_precision_config.param_dtype == torch.bfloat16  # FSDP's own mixed precision on the shards

    policy = strategy.kwargs["auto_wrap_policy"]
    encoder = TransformerEncoder(100, hidden_size=16, num_layers=3, num_heads=2, intermediate_size=32)
    wrapped = policy._run_policy(encoder, ignored_modules=set(), root_kwargs={})
    assert set(wrapped) - {encoder} == set(encoder.layers), "one FSDP unit per encoder layer (and the root)"
    assert policy._module_classes == {EncoderLayer, DecoderLayer}


def test_fsdp_clips_by_the_norm_over_all_shards(make_cfg, monkeypatch) -> None:
    trainer, _ = built_trainer(make_cfg, monkeypatch, "trainer=fsdp")
    assert trainer.gradient_clip_val == 1.0  # kept: Lightning's FSDP precision would refuse to clip by norm

    clipped: list[float] = []

    class Root(torch.nn.Module):  # what FSDP's root module offers: clip_grad_norm_ over every shard
        def clip_grad_norm_(self, max_norm: float) -> None:
            clipped.append(max_norm)

    plugin = trainer.precision_plugin
    plugin.root = Root()
    plugin.clip_gradients(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1), 1.0)
    assert clipped == [1.0]


def test_fsdp_on_cpu_is_refused_in_one_line(make_cfg) -> None:
    cfg = make_cfg("model=bert_tiny", "trainer=fsdp", "trainer.devices=2")
    with pytest.raises(ConfigError, match=r"^trainer=fsdp needs CUDA GPUs .*; on a CPU use trainer=ddp_cpu$"):
        build_trainer(cfg, [], [])


@pytest.mark.parametrize(("preset", "stage"), [("deepspeed", 2), ("deepspeed_stage_3", 3)])
def test_deepspeed_presets_choose_the_zero_stage(make_cfg, monkeypatch, preset: str, stage: int) -> None:
    if not sharding.deepspeed_installed():
        pytest.skip("DeepSpeed is not installed (pip install 'encoderlab[deepspeed]')")
    trainer, _ = built_trainer(make_cfg, monkeypatch, f"trainer={preset}", "trainer.precision=bf16-mixed")
    assert isinstance(trainer.strategy, DeepSpeedStrategy)
    assert trainer.strategy.config["zero_optimization"]["stage"] == stage
    assert type(trainer.precision_plugin).__name__ == "DeepSpeedPrecision"


def test_deepspeed_without_the_package_or_with_a_bad_stage_is_one_line(make_cfg, monkeypatch) -> None:
    monkeypatch.setattr(sharding, "deepspeed_installed", lambda: False)
    with pytest.raises(InstantiationException) as caught:
        build_trainer(make_cfg("trainer=deepspeed"), [], [])
    assert str(user_error_in(caught.value)) == (
        "trainer=deepspeed needs DeepSpeed: pip install 'encoderlab[deepspeed]' (on a CUDA machine)"
    )
    monkeypatch.setattr(sharding, "deepspeed_installed", lambda: True)
    with pytest.raises(InstantiationException) as caught:
        build_trainer(make_cfg("trainer=deepspeed", "trainer.strategy.stage=1"), [], [])
    assert "ZeRO stage 2 or 3" in str(user_error_in(caught.value))


def test_a_staged_checkpoint_folder_replaces_the_old_one_whole(tmp_path: Path) -> None:
    target, staging = tmp_path / "last.ckpt", tmp_path / ".last.ckpt.partial"
    for folder, text in ((target, "old"), (staging, "new")):
        folder.mkdir()
        (folder / "meta.pt").write_text(text)
    (target / "stale_shard").write_text("x")
    replace_directory(staging, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]
    assert [p.name for p in target.iterdir()] == ["meta.pt"] and (target / "meta.pt").read_text() == "new"
    shutil.rmtree(target)
    (tmp_path / "last.ckpt").write_text("a single-file checkpoint")  # a full checkpoint before: a file
    staging.mkdir()
    replace_directory(staging, target)
    assert target.is_dir()

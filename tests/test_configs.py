"""Real Hydra composition: every model x data pair composes and instantiates; misfits stop before any data is read."""

from __future__ import annotations

import pytest
from hydra.utils import instantiate

from encoderlab.errors import ConfigError
from encoderlab.pipeline import check_model_fits_task, models_of_family, run
from tests.conftest import DATASETS, MODELS


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_data_composes_and_instantiates(make_cfg, model: str, data: str) -> None:
    cfg = make_cfg(f"model={model}", f"data={data}")
    check_model_fits_task(cfg)
    datamodule = instantiate(cfg.data)
    assert datamodule.name == cfg.data.name
    task = instantiate(
        cfg.task,
        model=cfg.model,
        vocab_size=100,
        num_classes=2,
        label_names=["a", "b"],
        optimizer=cfg.optimizer,
        scheduler=cfg.scheduler,
        _recursive_=False,
    )
    assert sum(p.numel() for p in task.net.parameters()) > 0
    assert cfg.optimizer.lr == cfg.model.lr


@pytest.mark.parametrize(
    "group,choices",
    [
        ("optimizer", ["adamw", "adam", "sgd", "rmsprop"]),
        ("scheduler", ["linear_warmup", "cosine", "constant"]),
        ("trainer", ["default", "cpu", "gpu", "ddp", "ddp_cpu"]),
        ("logger", ["wandb", "csv", "tensorboard", "many", "none"]),
    ],
)
def test_group_choices_compose(make_cfg, group: str, choices: list[str]) -> None:
    for choice in choices:
        cfg = make_cfg(f"{group}={choice}")
        assert cfg.get(group) is not None or choice == "none"


def test_default_is_bert_small_on_sst2(make_cfg) -> None:
    cfg = make_cfg()
    assert (cfg.model.name, cfg.data.name) == ("bert_small", "sst2")
    assert cfg.optimized_metric == "val/acc_best"


def test_a_model_that_cannot_serve_the_task_stops_before_reading_data(make_cfg, tmp_path) -> None:
    cfg = make_cfg("model=bilstm", "model.family=seq2seq", data_dir=tmp_path / "no-data-here")
    with pytest.raises(ConfigError) as info:
        run(cfg)  # a data error would mean data was read first
    message = str(info.value)
    assert "\n" not in message
    assert "model=bilstm is a seq2seq model" in message
    assert "bert_small" in message and "bilstm_attn" in message


def test_models_of_family_lists_encoders() -> None:
    assert set(models_of_family(("encoder",))) >= {"bert_tiny", "bert_base", "lstm", "bilstm", "bilstm_attn"}

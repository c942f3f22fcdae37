"""Real Hydra composition: every model x data pair composes and instantiates; misfits stop before any data is read."""

from __future__ import annotations

import pytest
import torch
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

from encoderlab.errors import ConfigError
from encoderlab.pipeline import check_model_fits_task, models_of_family, run
from tests.conftest import DATASETS, MODELS

# What each task needs from its data (normally `datamodule.task_kwargs()`), without reading any data.
TASK_KWARGS = {
    "encoderlab.tasks.classification.ClassificationTask": {
        "vocab_size": 100,
        "num_classes": 2,
        "label_names": ["a", "b"],
    },
    "encoderlab.tasks.token_classification.TokenClassificationTask": {
        "vocab_size": 100,
        "num_classes": 9,
        "label_names": ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"],
    },
    "encoderlab.tasks.translation.TranslationTask": {"vocab_size": 100, "pad_id": 0, "bos_id": 2, "eos_id": 3},
    "encoderlab.tasks.masked_lm.MaskedLMTask": {"vocab_size": 100},
}


def fits(cfg) -> bool:
    if cfg.model.family == "word_vectors":
        return cfg.data._target_.endswith(".TextCorpusDataModule")
    task_cls = get_class(cfg.task._target_)
    if not task_cls.requires:
        return cfg.model.family in task_cls.accepts
    encoder_cls = get_class(cfg.model.encoder._target_) if "encoder" in cfg.model else None
    return cfg.model.family in task_cls.accepts and not encoder_cls.capabilities.lacks(task_cls.requires)


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_data_pair_instantiates_or_is_refused_in_one_line(make_cfg, model: str, data: str) -> None:
    cfg = make_cfg(f"model={model}", f"data={data}")
    if not fits(cfg):
        with pytest.raises(ConfigError) as info:
            check_model_fits_task(cfg)
        assert "\n" not in str(info.value) and f"model={model} is a {cfg.model.family} model" in str(info.value)
        return
    check_model_fits_task(cfg)
    datamodule = instantiate(cfg.data)
    assert datamodule.name == cfg.data.name
    if cfg.model.family == "word_vectors":  # gensim trains them: there is no task to build
        return
    task = instantiate(
        cfg.task,
        model=cfg.model,
        **TASK_KWARGS[cfg.task._target_],
        optimizer=cfg.optimizer,
        scheduler=cfg.scheduler,
        _recursive_=False,
    )
    assert sum(p.numel() for p in task.net.parameters()) > 0
    assert cfg.optimizer.lr == cfg.model.lr
    assert cfg.optimized_metric == f"{cfg.task.monitor}_best"


def test_every_data_set_has_a_model_that_fits(make_cfg) -> None:
    for data in DATASETS:
        accepts = get_class(make_cfg(f"data={data}").task._target_).accepts
        assert models_of_family(accepts), f"no model config serves data={data}"


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


@pytest.mark.parametrize(
    "model,data,needs",
    [
        ("transformer_seq2seq", "sst2", "takes encoder or document_encoder models"),
        ("bert_tiny", "multi30k", "takes seq2seq models"),
    ],
)
def test_seq2seq_and_encoder_models_refuse_each_others_data_before_reading_it(
    make_cfg, tmp_path, model: str, data: str, needs: str
) -> None:
    cfg = make_cfg(f"model={model}", f"data={data}", data_dir=tmp_path / "no-data-here")
    with pytest.raises(ConfigError) as info:
        run(cfg)
    message = str(info.value)
    assert "\n" not in message and f"model={model}" in message and needs in message
    assert ("lstm_seq2seq" in message) == (data == "multi30k")


def test_translation_configs_pick_the_translation_task(make_cfg) -> None:
    cfg = make_cfg("model=transformer_seq2seq", "data=multi30k")
    assert cfg.task._target_.endswith("TranslationTask") and cfg.optimized_metric == "val/bleu_best"
    assert (cfg.data.src_lang, cfg.data.tgt_lang) == ("en", "de")
    assert make_cfg("model=lstm_seq2seq", "data=zh_en").data.src_lang == "zh"


@pytest.mark.parametrize("experiment", ["multi30k_transformer", "multi30k_lstm"])
def test_experiment_configs_compose(make_cfg, experiment: str) -> None:
    cfg = make_cfg(f"experiment={experiment}")
    assert cfg.data.name == "multi30k" and cfg.model.family == "seq2seq"
    assert cfg.trainer.precision == "bf16-mixed"
    check_model_fits_task(cfg)


def test_models_of_family_lists_encoders() -> None:
    assert set(models_of_family(("encoder",))) >= {"bert_tiny", "bert_base", "lstm", "bilstm", "bilstm_attn"}


def test_models_of_family_lists_seq2seq_models() -> None:
    assert set(models_of_family(("seq2seq",))) == {"transformer_seq2seq", "lstm_seq2seq"}


@pytest.mark.parametrize("optimizer", ["adamw", "adam"])
def test_adam_uses_the_fused_kernel_on_every_device(make_cfg, optimizer: str) -> None:
    cfg = make_cfg(f"optimizer={optimizer}")
    assert cfg.optimizer.fused is True
    weight = torch.nn.Parameter(torch.ones(3))
    built = instantiate({**OmegaConf.to_container(cfg.optimizer, resolve=True), "lr": 0.1}, params=[weight])
    weight.grad = torch.ones(3)
    built.step()  # the fused CPU kernel exists in this torch (>= 2.4) and moves the weight
    assert built.defaults["fused"] is True and (weight < 1).all()

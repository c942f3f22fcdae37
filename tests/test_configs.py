"""Real Hydra composition: every model x data pair composes and instantiates; misfits stop before any data is read."""

from __future__ import annotations

import re

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

from encoderlab.config import CONF_DIR
from encoderlab.config.model_catalog import check_model_fits_task, models_of_family
from encoderlab.errors import ConfigError
from encoderlab.training.run import train
from tests.conftest import DATASETS, MODELS
from tests.task_stub import build_task


def alternatives(message: str) -> tuple[str, list[str]]:
    """What a refusal offers instead: ("model", names) from `models that fit: a, b`, or ("data", names) from
    `use data=x or data=y ...`."""
    if "models that fit: " in message:
        return "model", message.split("models that fit: ")[1].split(", ")
    return "data", re.findall(r"data=(\w+)", message.split("; use ")[1])


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_data_pair_instantiates_or_is_refused_in_one_line(make_cfg, model: str, data: str) -> None:
    cfg = make_cfg(f"model={model}", f"data={data}")
    try:
        check_model_fits_task(cfg)
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message and message.startswith(f"model={model} is a {cfg.model.family} model")
        # the refusal is the check's own verdict: what it names instead must pass that same check
        kind, names = alternatives(message)
        assert names and (model if kind == "model" else data) not in names, message
        for name in names:
            check_model_fits_task(
                make_cfg(f"model={name if kind == 'model' else model}", f"data={data if kind == 'model' else name}")
            )
        return
    datamodule = instantiate(cfg.data)
    assert datamodule.name == cfg.data.name
    if cfg.model.family == "word_vectors":  # gensim trains them: there is no task to build
        return
    task = build_task(cfg)
    assert sum(p.numel() for p in task.net.parameters()) > 0
    assert cfg.optimizer.lr == cfg.model.lr
    assert cfg.optimized_metric == f"{cfg.task.monitor}_best"


def test_every_data_set_has_a_model_that_fits(make_cfg) -> None:
    for data in DATASETS:
        accepts = get_class(make_cfg(f"data={data}").task._target_).accepts
        assert models_of_family(accepts), f"no model config serves data={data}"


GROUPS = ("optimizer", "scheduler", "trainer", "logger")
CHOICES = [(group, path.stem) for group in GROUPS for path in sorted((CONF_DIR / group).glob("*.yaml"))]


def file_content(group: str, choice: str) -> dict:
    """`conf/<group>/<choice>.yaml` over the same-group configs its defaults list names (its own keys last)."""
    content = OmegaConf.load(CONF_DIR / group / f"{choice}.yaml")
    parents = content.pop("defaults", [])
    merged = OmegaConf.merge(*(file_content(group, parent) for parent in parents), content) if parents else content
    return OmegaConf.to_container(merged, resolve=False)


def compose_choice(group: str, choice: str):
    """The real `train.yaml` with only `<group>=<choice>` (the test defaults of `make_cfg` would hide some keys)."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name="train", overrides=[f"{group}={choice}"], return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.parametrize("group,choice", CHOICES)
def test_group_choices_compose_to_their_file(group: str, choice: str) -> None:
    cfg = compose_choice(group, choice)
    assert cfg.hydra.runtime.choices[group] == choice
    composed = cfg.get(group)
    composed = OmegaConf.to_container(composed, resolve=False) if composed is not None else {}
    assert composed == file_content(group, choice)


def test_default_is_bert_small_on_sst2(make_cfg) -> None:
    cfg = make_cfg()
    assert (cfg.model.name, cfg.data.name) == ("bert_small", "sst2")
    assert cfg.optimized_metric == "val/acc_best"


def test_a_model_that_cannot_serve_the_task_stops_before_reading_data(make_cfg, tmp_path) -> None:
    cfg = make_cfg("model=bilstm", "model.family=seq2seq", data_dir=tmp_path / "no-data-here")
    with pytest.raises(ConfigError) as info:
        train(cfg)  # a data error would mean data was read first
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
        train(cfg)
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


@pytest.mark.parametrize(
    ("experiment", "data"),
    [
        ("multi30k_transformer_cpu", "multi30k"),
        ("multi30k_lstm_cpu", "multi30k"),
        ("zh_en_transformer_cpu", "zh_en"),
        ("zh_en_lstm_cpu", "zh_en"),
    ],
)
def test_cpu_translation_experiments_follow_their_budget_and_average_checkpoints(
    make_cfg, experiment: str, data: str
) -> None:
    cfg = make_cfg(f"experiment={experiment}")
    assert cfg.data.name == data and cfg.model.family == "seq2seq" and cfg.trainer.accelerator == "cpu"
    assert cfg.scheduler._target_.endswith(".time_budget") and cfg.trainer.max_time
    assert cfg.callbacks.checkpoint_averaging.last_n == 5 and cfg.callbacks.early_stopping is None
    assert list(cfg.task.extra_test_beam_sizes) == [1] and cfg.task.test_beam_size == 5
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


@pytest.mark.parametrize("choice", ["cnn", "lstm"])
def test_char_encoder_choices_compose_under_any_encoder_model(make_cfg, choice: str) -> None:
    for model in ("bilstm", "lstm", "bert_tiny"):
        cfg = make_cfg(f"model={model}", "data=conll2003", f"char_encoder={choice}")
        assert cfg.model.char_encoder == OmegaConf.load(CONF_DIR / "char_encoder" / f"{choice}.yaml")
        check_model_fits_task(cfg)
    assert make_cfg("model=bilstm", "data=conll2003").model.get("char_encoder") is None, "off unless asked"


def test_the_char_experiment_mirrors_the_best_conll_record(make_cfg) -> None:
    cfg = make_cfg("experiment=conll2003_bilstm_crf_char_cpu")
    assert (cfg.model.name, cfg.data.name, cfg.task.crf) == ("bilstm", "conll2003", True)
    assert cfg.model.char_encoder._target_.endswith("CharCNN") and cfg.model.char_encoder.num_filters == 30
    assert (cfg.model.encoder.embedding_size, cfg.model.encoder.hidden_size, cfg.model.encoder.dropout) == (
        300,
        300,
        0.5,
    )
    assert (cfg.trainer.max_epochs, cfg.trainer.max_time) == (8, "00:00:27:00")
    check_model_fits_task(cfg)


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (
            ["model=bilstm", "data=sst2", "char_encoder=cnn"],
            "char_encoder gives character features to token classification (data=conll2003), but data=sst2 is "
            "classification; drop char_encoder",
        ),
        (["model=fasttext", "data=conll2003", "char_encoder=cnn"], "model=fasttext's encoder takes no input features"),
        (
            ["model=bilstm", "data=conll2003", "char_encoder=cnn", "+model.char_encoder.filters=3"],
            "model.char_encoder.filters is not a setting of encoderlab.models.chars.CharCNN",
        ),
        (
            ["model=bilstm", "data=conll2003", "char_encoder=lstm", "model.char_encoder.max_word_chars=ten"],
            "model.char_encoder.max_word_chars='ten' has the wrong type: expected int",
        ),
    ],
)
def test_bad_char_encoder_configs_stop_in_one_line_before_reading_data(
    make_cfg, tmp_path, overrides: list[str], expected: str
) -> None:
    cfg = make_cfg(*overrides, data_dir=tmp_path / "no-data-here")
    with pytest.raises(ConfigError) as info:
        train(cfg)  # a data error would mean data was read first
    message = str(info.value)
    assert "\n" not in message and expected in message, message
    if "models that do: " in message:
        fitting = message.split("models that do: ")[1].split(", ")
        assert {"bilstm", "lstm", "bert_tiny"} <= set(fitting) and "fasttext" not in fitting

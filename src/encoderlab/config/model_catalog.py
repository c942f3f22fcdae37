"""The model configs under conf/model read as a catalog: which families and capabilities each model has, and
whether the model a run names can serve the data's task (checked before any data is read)."""

from __future__ import annotations

from typing import Any, cast

from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from encoderlab.config import CONF_DIR
from encoderlab.errors import ConfigError
from encoderlab.models.contract import Encoder
from encoderlab.tasks.base import Task

WORD_VECTOR_DATA = ".TextCorpusDataModule"
CHAR_FEATURES_NEED = ("input_features",)  # what `model.char_encoder` needs of the encoder


def models_of_family(families: tuple[str, ...]) -> list[str]:
    """Names of the model configs whose `family` is one of `families` (read from conf/model/*.yaml)."""
    names = []
    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        model = OmegaConf.load(path)
        if isinstance(model, DictConfig) and model.get("family", "encoder") in families:
            names.append(path.stem)
    return names


def encoder_lacks(model_cfg: Any, requires: tuple[str, ...]) -> list[str]:
    """Which of the `requires` capabilities the model config's encoder class doesn't declare (all of them for a
    model without an `encoder`); read before anything is built."""
    if not requires:
        return []
    target = model_cfg.get("encoder", {}).get("_target_")
    return encoder_class(target).capabilities.lacks(requires) if target else list(requires)


def encoder_class(target: str) -> type[Encoder]:
    """The encoder class a model config's `encoder._target_` names (read, not built)."""
    return cast("type[Encoder]", get_class(target))


def task_class(target: str) -> type[Task]:
    """The task class a config's `task._target_` names (read, not built)."""
    return cast("type[Task]", get_class(target))


def models_with_capabilities(families: tuple[str, ...], requires: tuple[str, ...]) -> list[str]:
    """Names of the model configs of `families` whose encoder has the `requires` capabilities (conf/model/*.yaml)."""
    names = []
    for name in models_of_family(families):
        if not encoder_lacks(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"), requires):
            names.append(name)
    return names


def check_model_fits_task(cfg: DictConfig) -> None:
    """Stop before any data is read when the model can't serve the data's task."""
    task_cls = task_class(cfg.task._target_)
    family = cfg.model.get("family", "encoder")
    if family == "word_vectors":  # trained on unlabelled text, by gensim rather than a task
        if not str(cfg.data._target_).endswith(WORD_VECTOR_DATA):
            raise ConfigError(
                f"model={cfg.model.name} is a word_vectors model, but data={cfg.data.name} is not unlabelled text; "
                "use data=enwiki or data=text_corpus data.path=..."
            )
        return
    if family not in task_cls.accepts:
        # name only the models that pass the encoder check below too
        fitting = models_with_capabilities(task_cls.accepts, task_cls.requires)
        raise ConfigError(
            f"model={cfg.model.name} is a {family} model, but data={cfg.data.name} takes "
            f"{' or '.join(task_cls.accepts)} models; models that fit: {', '.join(fitting)}"
        )
    missing = encoder_lacks(cfg.model, task_cls.requires)  # a task that needs more of an encoder (masked-LM)
    if missing:
        raise ConfigError(
            f"model={cfg.model.name} is a {family} model whose encoder lacks {', '.join(missing)}, which "
            f"data={cfg.data.name} needs; models that fit: "
            f"{', '.join(models_with_capabilities(task_cls.accepts, task_cls.requires))}"
        )
    check_char_encoder(cfg, task_cls)


def check_char_encoder(cfg: DictConfig, task_cls: type[Task]) -> None:
    """Character features (`char_encoder=...`) go to token classification, under an encoder that takes them."""
    if cfg.model.get("char_encoder") is None:
        return
    if task_cls.kind != "token_classification":
        raise ConfigError(
            f"char_encoder gives character features to token classification (data=conll2003), but data="
            f"{cfg.data.name} is {task_cls.kind or 'another task'}; drop char_encoder=... (model.char_encoder)"
        )
    if encoder_lacks(cfg.model, CHAR_FEATURES_NEED):
        fitting = models_with_capabilities(task_cls.accepts, CHAR_FEATURES_NEED)
        raise ConfigError(
            f"model={cfg.model.name}'s encoder takes no input features, so no char_encoder; models that do: "
            f"{', '.join(fitting)}"
        )

"""Build a composed config's task without reading its data: stand-ins for what `datamodule.task_kwargs()` gives."""

from __future__ import annotations

import inspect
from typing import Any

from hydra.utils import get_class, instantiate
from omegaconf import DictConfig

# By parameter name, so a new task needs no entry here unless it asks its data for something new.
STAND_INS: dict[str, Any] = {
    "vocab_size": 100,
    "pad_id": 0,
    "bos_id": 2,
    "eos_id": 3,
    "src_lang": "en",
    "tgt_lang": "de",
    "label_names": ["O", "B-X", "I-X"],  # read as tags by per-token tasks, as plain names by the others
}
FROM_THE_CONFIG = {"self", "model", "optimizer", "scheduler"}


def constructor_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """`cls.__init__`'s parameters, and its bases' where it passes `**kwargs` on to them (as `LabelledTask`'s
    subclasses do)."""
    parameters: dict[str, inspect.Parameter] = {}
    for klass in inspect.getmro(cls):
        own = inspect.signature(klass.__init__).parameters
        for name, parameter in own.items():
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                parameters.setdefault(name, parameter)
        if not any(parameter.kind == parameter.VAR_KEYWORD for parameter in own.values()):
            break
    return parameters


def data_stand_ins(cfg: DictConfig) -> dict[str, Any]:
    """The task's data-given arguments: the data config's own label names where it has them, else `STAND_INS`."""
    values = dict(STAND_INS)
    if cfg.data.get("label_names"):
        values["label_names"] = list(cfg.data.label_names)
    values["num_classes"] = len(values["label_names"])
    parameters = constructor_parameters(get_class(cfg.task._target_))
    missing = [
        name
        for name, parameter in parameters.items()
        if parameter.default is parameter.empty and name not in FROM_THE_CONFIG | values.keys()
    ]
    assert not missing, f"{cfg.task._target_} needs {missing} from its data: add stand-ins to tests/task_stub.py"
    return {name: value for name, value in values.items() if name in parameters}


def build_task(cfg: DictConfig) -> Any:
    """`cfg.task` instantiated as the pipeline does, with stand-ins for the data."""
    return instantiate(
        cfg.task,
        model=cfg.model,
        optimizer=cfg.optimizer,
        scheduler=cfg.scheduler,
        **data_stand_ins(cfg),
        _recursive_=False,
    )

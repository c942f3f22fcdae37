"""Type-check a composed config against the signatures it will be instantiated with, before any work starts.

Hydra already refuses unknown keys (the config is in struct mode) unless they are added with `+`; this adds the
types (`trainer.max_epochs=ten` fails here naming the key and the expected type, instead of deep inside Lightning),
the keys added with `+` that the target does not take, and the values no run can use (`data.batch_size=0`).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import types
import typing
from typing import Any, TypeGuard, Union

import torch
from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf

from encoderlab.errors import ConfigError

# values encoderlab resolves itself before the class sees them
OWN_VALUES = {("trainer", "precision"): ("auto",)}
NUMBER_COERCIONS = {float: (int, float), int: (int,), bool: (bool,), str: (str,)}
# constructor parameters the pipeline passes itself, never set in a config
NOT_SETTINGS = {"params", "optimizer", "total_steps"}


def _accepts(annotation: Any, value: Any) -> bool:
    """True when `value` fits `annotation`; unknown or complex annotations are given the benefit of the doubt."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if annotation is type(None):
        return value is None
    if annotation in NUMBER_COERCIONS:
        if isinstance(value, bool) and annotation is not bool:
            return False
        return isinstance(value, NUMBER_COERCIONS[annotation])
    if annotation is torch.Tensor:  # e.g. AdamW's lr: float | Tensor
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin in (list, tuple, typing.Sequence) or annotation in (list, tuple):
        return isinstance(value, (list, tuple, ListConfig))
    if origin is dict or annotation is dict:
        return isinstance(value, (dict, DictConfig))
    return True


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _signature_chain(target: str) -> tuple[dict[str, Any], bool]:
    """Annotated constructor parameters of a `_target_`, following `**kwargs` up the class hierarchy and into a
    `config_class` dataclass where the class declares one; and whether it takes other keywords still."""
    cls = get_object(target)
    types_by_name: dict[str, Any] = {}
    open_ended = False
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else [cls]:
        init = klass.__init__ if inspect.isclass(klass) else klass
        if init is object.__init__:
            break
        hints = typing.get_type_hints(init)
        parameters = inspect.signature(init).parameters
        for name, parameter in parameters.items():
            if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL) and name != "self":
                types_by_name.setdefault(name, hints.get(name, inspect.Parameter.empty))
        open_ended = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
        if not open_ended:
            break
    config_class = getattr(cls, "config_class", None)
    if config_class is not None and dataclasses.is_dataclass(config_class):
        types_by_name.update(typing.get_type_hints(config_class))
        open_ended = False
    return types_by_name, open_ended


def parameter_types(target: str) -> dict[str, Any]:
    """Annotated constructor parameters of a `_target_` (see `_signature_chain`)."""
    return _signature_chain(target)[0]


def check_node(node: DictConfig, path: str) -> None:
    if "_target_" not in node:
        return
    try:
        expected, open_ended = _signature_chain(node._target_)
    except (ImportError, AttributeError, ValueError, TypeError):
        return  # instantiate will report an unimportable target itself
    for key, value in node.items():
        key = str(key)
        if key.startswith("_") or isinstance(value, DictConfig):
            continue
        if key not in expected:
            if open_ended:
                continue
            valid = ", ".join(name for name in expected if name not in NOT_SETTINGS)
            raise ConfigError(f"{path}.{key} is not a setting of {node._target_}; valid keys: {valid}")
        if value in OWN_VALUES.get((path, key), ()):
            continue
        if not _accepts(expected[key], value):
            raise ConfigError(f"{path}.{key}={value!r} has the wrong type: expected {_describe(expected[key])}")


def check_types(cfg: DictConfig) -> None:
    """Check the trainer, data module, model encoder (and char encoder) and optimizer configs."""
    for path in ("trainer", "data", "optimizer", "scheduler"):
        node = cfg.get(path)
        if isinstance(node, DictConfig):
            check_node(node, path)
    for key in ("encoder", "char_encoder"):
        section = cfg.get("model", {}).get(key)
        if isinstance(section, DictConfig):
            check_node(section, f"model.{key}")


def check_combinations(cfg: DictConfig) -> None:
    """Settings that are each valid but can't work together here."""
    trainer = cfg.get("trainer", {})
    if trainer.get("accelerator") in ("gpu", "cuda") and not torch.cuda.is_available():
        raise ConfigError(
            f"trainer.accelerator={trainer.accelerator} but torch sees no CUDA GPU here; "
            "use trainer=cpu (or trainer=ddp_cpu for several processes)"
        )
    precision = str(trainer.get("precision"))
    on_gpu = trainer.get("accelerator") in ("gpu", "cuda") and torch.cuda.is_available()
    if precision.startswith("bf16") and on_gpu and not torch.cuda.is_bf16_supported():
        raise ConfigError(f"trainer.precision={precision} needs a GPU with bfloat16 (Ampere or newer); use 16-mixed")
    fused = cfg.get("optimizer", {}).get("fused")
    if precision.startswith("16") and on_gpu and fused and (trainer.get("gradient_clip_val") or 0) > 0:
        raise ConfigError(
            f"trainer.precision={precision} scales the loss, and Lightning can't clip the gradients of a fused "
            "optimizer under a scaler: use trainer.precision=bf16-mixed, optimizer.fused=false or "
            "trainer.gradient_clip_val=0"
        )
    max_length = cfg.get("data", {}).get("block_size") or cfg.get("data", {}).get("tokenizer", {}).get("max_length")
    max_position = cfg.get("model", {}).get("encoder", {}).get("max_position")
    if max_length and max_position and max_length > max_position:
        raise ConfigError(
            f"data.tokenizer.max_length={max_length} exceeds model.encoder.max_position={max_position}; "
            "lower the first or raise the second"
        )


def _source(node: DictConfig, key: str) -> str:
    """` (from ${model.lr})` when the value is an interpolation, so the message names the key to change."""
    child = node._get_node(key)
    if child is None or not OmegaConf.is_interpolation(node, key):
        return ""
    return f" (from {child._value()})"


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# sizes that must be at least 1 (0 would mean empty batches, or no truncation at all), with a usual value each
POSITIVE_SIZES = {
    "data.batch_size": 32,
    "data.eval_batch_size": 256,
    "data.block_size": 128,
    "data.tokenizer.max_length": 128,
}


def check_values(cfg: DictConfig) -> None:
    """Values of the right type that no run can use (run after `check_types`)."""
    for path, example in POSITIVE_SIZES.items():
        parent, _, key = path.rpartition(".")
        node = OmegaConf.select(cfg, parent)
        value = node.get(key) if isinstance(node, DictConfig) else None
        if _is_number(value) and value <= 0:
            raise ConfigError(
                f"{path}={value}{_source(node, key)} must be a positive whole number (e.g. {path}={example})"
            )
    optimizer = cfg.get("optimizer")
    if isinstance(optimizer, DictConfig) and _is_number(optimizer.get("lr")):
        lr = optimizer.lr
        if not (math.isfinite(lr) and lr > 0):
            raise ConfigError(
                f"optimizer.lr={lr}{_source(optimizer, 'lr')} must be a finite number above 0 (e.g. optimizer.lr=1e-3)"
            )

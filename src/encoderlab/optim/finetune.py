"""How much of a (pretrained) encoder a fine-tuning run trains: `finetune=full|freeze|linear_probe|lora`.

- `full`: everything.
- `freeze`: the embeddings (`freeze_embeddings`) and the first `freeze_layers` encoder layers stay fixed.
- `linear_probe`: the whole encoder stays fixed; only the task head trains.
- `lora`: the encoder stays fixed and LoRA adapters on `targets` (attention's `qkv_proj`, `out_proj`; add
  `intermediate`, `output` for the feed-forward) train with the head.

Frozen parameters get `requires_grad=False`, so they receive no gradient and the optimizer never sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from torch import nn

from encoderlab.errors import ConfigError
from encoderlab.models.contract import Encoder
from encoderlab.models.lora import add_lora

log = logging.getLogger(__name__)

METHODS = ("full", "freeze", "linear_probe", "lora")


def encoder_layers(encoder: Encoder, why: str = "to freeze") -> Sequence[nn.Module]:
    """The encoder's layers (`Encoder.layer_stack`); one that has none can't freeze layers or decay by layer."""
    layers = encoder.layer_stack()
    if len(layers) == 0:
        raise ConfigError(f"finetune: {type(encoder).__name__} has no layers {why}; use finetune=full")
    return layers


def freeze(module: nn.Module) -> None:
    for parameter in module.parameters():
        parameter.requires_grad_(False)


def apply_finetune(net: nn.Module, settings: dict[str, Any] | None) -> str:
    """Set what trains in `net` (a model with an `encoder`); returns a one-line description for the log."""
    settings = dict(settings or {})
    method = settings.get("method", "full")
    if method not in METHODS:
        raise ConfigError(f"unknown finetune.method={method!r}; choose one of {', '.join(METHODS)}")
    if method == "full":
        return "full: every parameter trains"
    encoder = net.encoder
    if not (isinstance(encoder, nn.Module) and isinstance(encoder, Encoder)):
        raise TypeError(f"{type(net).__name__}.encoder is not an encoder module (models.contract.Encoder)")
    if method == "linear_probe":
        freeze(encoder)
        return "linear_probe: the encoder is frozen, the head trains"
    if method == "lora":
        targets = list(settings.get("targets") or ["qkv_proj", "out_proj"])
        freeze(encoder)
        replaced = add_lora(
            encoder, targets, settings.get("rank", 8), settings.get("alpha", 16), settings.get("dropout", 0.0)
        )
        if not replaced:
            raise ConfigError(f"finetune.targets={targets} matched no linear layer of {type(encoder).__name__}")
        return f"lora: rank {settings.get('rank', 8)} adapters on {len(replaced)} layers ({', '.join(targets)})"
    count = settings.get("freeze_layers", 0)
    layers = encoder_layers(encoder) if count else ()  # a BiLSTM can freeze its embeddings alone
    if not 0 <= count <= len(layers):
        raise ConfigError(f"finetune.freeze_layers={count} but the encoder has {len(layers)} layers")
    frozen_embeddings = settings.get("freeze_embeddings", True)
    if frozen_embeddings:  # a Transformer's whole embedding block (positions, norm); else the token table
        freeze(encoder.embedding_block())
    for layer in layers[:count]:
        freeze(layer)
    return f"freeze: embeddings {'frozen' if frozen_embeddings else 'train'}, the first {count} layers frozen"


def layer_depths(net: nn.Module) -> dict[str, int]:
    """Depth of each parameter for layer-wise learning-rate decay: the encoder's embedding block 0, its layer i at
    i + 1, everything else (final norm, pooler, head) at `num_layers + 1`."""
    encoder = net.encoder
    if not (isinstance(encoder, nn.Module) and isinstance(encoder, Encoder)):
        raise TypeError(f"{type(net).__name__}.encoder is not an encoder module (models.contract.Encoder)")
    layers = encoder_layers(encoder, "for layer-wise learning-rate decay")
    depth_of = {id(p): 0 for p in encoder.embedding_block().parameters()}
    for depth, layer in enumerate(layers, start=1):
        depth_of.update({id(p): depth for p in layer.parameters()})
    return {name: depth_of.get(id(p), len(layers) + 1) for name, p in net.named_parameters()}

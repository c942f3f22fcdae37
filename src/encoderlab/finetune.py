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
from typing import Any

from torch import nn

from encoderlab.errors import ConfigError
from encoderlab.models.lora import add_lora

log = logging.getLogger(__name__)

METHODS = ("full", "freeze", "linear_probe", "lora")


def encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    layers = getattr(encoder, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise ConfigError(f"finetune: {type(encoder).__name__} has no layers to freeze; use finetune=full")
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
    encoder = net.encoder
    if method == "full":
        return "full: every parameter trains"
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
    layers = encoder_layers(encoder) if count else nn.ModuleList()  # a BiLSTM can freeze its embeddings alone
    if not 0 <= count <= len(layers):
        raise ConfigError(f"finetune.freeze_layers={count} but the encoder has {len(layers)} layers")
    frozen_embeddings = settings.get("freeze_embeddings", True)
    if frozen_embeddings:  # a Transformer's whole embedding block (positions, norm); else the token table
        freeze(getattr(encoder, "embeddings", None) or encoder.input_embeddings)
    for layer in layers[:count]:
        freeze(layer)
    return f"freeze: embeddings {'frozen' if frozen_embeddings else 'train'}, the first {count} layers frozen"


def layer_depths(net: nn.Module) -> dict[str, int]:
    """Depth of each parameter for layer-wise learning-rate decay: encoder embeddings 0, encoder layer i at i + 1,
    everything above the encoder (final norm, pooler, head) at `num_layers + 1`."""
    encoder = net.encoder
    top = len(encoder_layers(encoder)) + 1
    depths = {}
    for name, _ in net.named_parameters():
        depth = top
        if name.startswith("encoder.embeddings."):
            depth = 0
        elif name.startswith("encoder.layers."):
            depth = int(name.split(".")[2]) + 1
        depths[name] = depth
    return depths

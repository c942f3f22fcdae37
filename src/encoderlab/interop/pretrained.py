"""Pretrained encoder directories: what a pretraining run writes and what `model.pretrained=<dir>` reads.

```
<dir>/config.json     {"format": "encoderlab-encoder", "architecture": ..., "encoder": {...}, "model": ...}
<dir>/encoder.pt      the encoder's state_dict (our parameter names, fp32)
<dir>/tokenizer.json  the HF `tokenizers` tokenizer the encoder was trained with
```

`encoderlab.interop.hf_bert` converts such a directory to and from HF transformers' `BertModel` format.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol, cast

import torch
from hydra.utils import get_class
from torch import nn

from encoderlab.data.disk_cache import write_atomic
from encoderlab.errors import ConfigError
from encoderlab.models.contract import Encoder

log = logging.getLogger(__name__)

FORMAT = "encoderlab-encoder"
CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE = "config.json", "encoder.pt", "tokenizer.json"
# encoder settings that fix the shapes of its weights (a fine-tuning config must agree on these)
SHAPE_KEYS = ("hidden_size", "num_layers", "num_heads", "intermediate_size", "max_position", "type_vocab_size")
ARCHITECTURE_KEYS = (*SHAPE_KEYS, "norm_first")


class _ExportableEncoder(Protocol):
    """What an encoder with `capabilities.exportable` has beyond the contract: it is a module, rebuilt from a
    dataclass `config`."""

    config: Any  # a dataclass instance

    def state_dict(self) -> dict[str, torch.Tensor]: ...


def save_encoder(directory: str | Path, encoder: Encoder, tokenizer_json: str, model_name: str = "") -> Path:
    """Write `encoder`'s weights (fp32, on CPU), its config and the tokenizer into `directory`; the encoder must be
    `exportable` (`models.contract.Capabilities`)."""
    if not encoder.capabilities.exportable:
        raise TypeError(f"{type(encoder).__name__} is not exportable: it has no config to rebuild it from")
    exportable = cast(_ExportableEncoder, encoder)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu().clone() for k, v in exportable.state_dict().items()}
    config = {
        "format": FORMAT,
        "architecture": type(encoder).__name__,
        "model": model_name,
        "encoder": asdict(exportable.config),
    }
    write_atomic(directory / WEIGHTS_FILE, lambda tmp: torch.save(state, tmp))
    write_atomic(directory / TOKENIZER_FILE, lambda tmp: Path(tmp).write_text(tokenizer_json, encoding="utf-8"))
    write_atomic(directory / CONFIG_FILE, lambda tmp: Path(tmp).write_text(json.dumps(config, indent=2) + "\n"))
    return directory


def read_config(directory: str | Path) -> dict[str, Any]:
    """The directory's config, after checking it is a complete encoder directory (one-line errors otherwise)."""
    directory = Path(directory)
    where = f"model.pretrained={directory}"
    if not directory.is_dir():
        raise ConfigError(f"{where}: no such directory; pass the `encoder/` folder a pretraining run wrote")
    if not (directory / CONFIG_FILE).is_file() and (directory / "encoder" / CONFIG_FILE).is_file():
        raise ConfigError(f"{where} is a run folder; pass its encoder folder: model.pretrained={directory / 'encoder'}")
    if (directory / CONFIG_FILE).is_file() and not (directory / WEIGHTS_FILE).is_file():
        config = json.loads((directory / CONFIG_FILE).read_text())
        if "model_type" in config:  # transformers' config.json
            raise ConfigError(
                f"{where} holds an HF transformers model; convert it first: "
                f"encoderlab-convert-bert from-hf {directory} <new dir>"
            )
    for name in (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE):
        if not (directory / name).is_file():
            raise ConfigError(f"{where} has no {name}; it is not (or not a complete) pretrained encoder directory")
    config = json.loads((directory / CONFIG_FILE).read_text())
    if config.get("format") != FORMAT:
        raise ConfigError(f"{where}: {CONFIG_FILE} is not an encoderlab encoder config (no format={FORMAT!r})")
    return config


def check_architecture(directory: str | Path, encoder_cfg: dict[str, Any], model_name: str) -> dict[str, Any]:
    """Raise unless the config's encoder has the saved encoder's architecture; returns the saved config."""
    config = read_config(directory)
    target = str(encoder_cfg.get("_target_", ""))
    encoder_class: type[Encoder] | None = get_class(target) if target else None
    # the saved architecture is the class name `save_encoder` wrote; only exportable encoders have such folders
    if (
        encoder_class is None
        or not encoder_class.capabilities.exportable
        or encoder_class.__name__ != config["architecture"]
    ):
        raise ConfigError(
            f"model.pretrained={directory} holds a {config['architecture']}, but model={model_name} builds {target}; "
            "pick a model of that architecture"
        )
    saved = config["encoder"]
    wrong = [
        f"{key}={saved[key]} (model has {encoder_cfg.get(key)})"
        for key in ARCHITECTURE_KEYS
        if key in encoder_cfg and encoder_cfg.get(key) != saved.get(key)
    ]
    if wrong:
        raise ConfigError(
            f"model.pretrained={directory} holds an encoder with {', '.join(wrong)}; use the model config it was "
            f"trained with ({config.get('model') or 'see its config.json'}) or set model.encoder.* to match"
        )
    return config


def load_encoder_weights(encoder: nn.Module, directory: str | Path) -> tuple[int, list[str]]:
    """Copy the saved weights into `encoder`. Every saved weight must find its parameter and every parameter its
    weight, except adapter parameters the fine-tuning added (LoRA); returns (#loaded, adapter names left alone)."""
    directory = Path(directory)
    state = torch.load(directory / WEIGHTS_FILE, map_location="cpu", weights_only=True)
    result = encoder.load_state_dict(state, strict=False)
    adapters = [name for name in result.missing_keys if ".lora_" in name]
    missing = [name for name in result.missing_keys if ".lora_" not in name]
    if missing or result.unexpected_keys:
        raise ConfigError(
            f"model.pretrained={directory} does not fit this encoder: missing {missing[:3]}, "
            f"unexpected {result.unexpected_keys[:3]}; was it written by another version or model?"
        )
    return len(state), adapters

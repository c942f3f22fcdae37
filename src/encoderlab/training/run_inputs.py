"""What a run's config asks of the data module and the task before they are built: the tokenizer of a pretrained
encoder or of word vectors, fine-tuning settings, padding a compiled model can live with. The config itself is
left as composed; what changes goes in as keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from encoderlab.config.checks import parameter_types
from encoderlab.errors import ConfigError
from encoderlab.interop.pretrained import TOKENIZER_FILE, check_architecture
from encoderlab.models.build import ModelConfig, max_word_chars
from encoderlab.word_vectors.store import TOKENIZER, Embeddings, read_embeddings

COMPILED_PAD_MULTIPLE = 16


@dataclass(frozen=True)
class StartingPoint:
    """Weights a run starts from: a pretrained encoder directory, or word vectors for the token embeddings."""

    pretrained: Path | None = None
    vectors_dir: Path | None = None
    vectors: Embeddings | None = None

    def data_kwargs(self) -> dict[str, Any]:
        """The data must read the vocabulary the weights were trained with, not a retrained one."""
        if self.pretrained is not None:
            return {"tokenizer_path": str(self.pretrained / TOKENIZER_FILE)}
        if self.vectors_dir is not None:
            return {"tokenizer_path": str(self.vectors_dir / TOKENIZER)}
        return {}

    def task_kwargs(self) -> dict[str, Any]:
        """The task loads a pretrained encoder's weights itself, before fine-tuning adapters wrap the encoder."""
        return {"pretrained_encoder": str(self.pretrained)} if self.pretrained is not None else {}


def starting_point(cfg: DictConfig) -> StartingPoint:
    """`model.pretrained=<dir>` (checked to fit the model config) or `model.embeddings=<dir>` (read)."""
    pretrained, embeddings = cfg.model.get("pretrained"), cfg.model.get("embeddings")
    if pretrained and embeddings:
        raise ConfigError("model.embeddings and model.pretrained both set the token embeddings; keep one of them")
    if not (pretrained or embeddings):
        return StartingPoint()
    key = "model.pretrained" if pretrained else "model.embeddings"
    if "tokenizer_path" not in parameter_types(cfg.data._target_):
        raise ConfigError(f"data={cfg.data.name} can't take a given tokenizer, so {key} can't be used")
    if pretrained:
        directory = Path(pretrained).expanduser().resolve()
        encoder_cfg = OmegaConf.to_container(cfg.model.encoder, resolve=True)
        assert isinstance(encoder_cfg, dict)  # a mapping in every model config that can be pretrained
        check_architecture(directory, {str(k): v for k, v in encoder_cfg.items()}, cfg.model.name)
        return StartingPoint(pretrained=directory)
    directory = Path(embeddings).expanduser().resolve()
    return StartingPoint(vectors_dir=directory, vectors=read_embeddings(directory))


def char_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """With `model.char_encoder`, the data module gives each token its word's characters, as many as the char
    encoder reads (`check_model_fits_task` has made sure the data is token classification)."""
    model = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(model, dict)
    chars = max_word_chars(ModelConfig.from_dict({str(k): v for k, v in model.items()}))
    return {} if chars is None else {"max_word_chars": chars}


def finetune_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """`finetune=...` for the tasks that fine-tune an encoder; anything but `full` elsewhere is a mistake."""
    settings = cfg.get("finetune")
    if settings is None:
        return {}
    if "finetune" in parameter_types(cfg.task._target_):
        return {"finetune": settings}
    if settings.get("method", "full") != "full":
        raise ConfigError(
            f"finetune={settings.method} applies to classification and token classification, not data={cfg.data.name}"
        )
    return {}


def compile_friendly_padding(cfg: DictConfig) -> dict[str, Any]:
    """A compiled model sees a few padded lengths (multiples of 16), not one per batch, so it compiles a few
    graphs instead of recompiling as lengths change; an explicit `data.pad_to_multiple_of` wins."""
    if cfg.task.get("compile") and "pad_to_multiple_of" in cfg.data and cfg.data.pad_to_multiple_of is None:
        return {"pad_to_multiple_of": COMPILED_PAD_MULTIPLE}
    return {}

"""`load_predictor(checkpoint, backend)`: the one way the CLI, the benchmark and the server turn a checkpoint into
`predict(texts) -> list[dict]`, for classification, NER and translation checkpoints alike."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tokenizers import Tokenizer
from torch import nn

from encoderlab.errors import CheckpointError, UserError
from encoderlab.inference.checkpoint import expect_task, load_task
from encoderlab.inference.classify import TextClassifier
from encoderlab.inference.compression import quantize_int8, quantize_onnx_int8
from encoderlab.inference.onnx_export import export_onnx
from encoderlab.inference.scorers import BACKENDS, Scorer, onnx_scorer, torch_scorer
from encoderlab.inference.tagging import EntityTagger
from encoderlab.inference.translate import translate_lines
from encoderlab.tasks.base import Task
from encoderlab.tasks.token_classification import TokenClassificationTask
from encoderlab.tasks.translation import TranslationTask


class Predicts(Protocol):
    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[dict[str, Any]]: ...


class PredictsPairs(Protocol):
    def predict(
        self, texts: Sequence[str], batch_size: int = 32, text_pairs: Sequence[str] | None = None
    ) -> list[dict[str, Any]]: ...


class Translator:
    """Translation checkpoints: `{"text", "translation"}` per text (beam search, PyTorch only)."""

    def __init__(self, task: TranslationTask, beam_size: int | None = None) -> None:
        self.task = task
        self.beam_size = beam_size

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[dict[str, Any]]:
        translations = translate_lines(self.task, texts, batch_size, self.beam_size)
        return [{"text": text, "translation": out} for text, out in zip(texts, translations, strict=True)]


@dataclass
class Predictor:
    kind: str  # classification | token_classification | translation
    backend: str
    model: Predicts | PredictsPairs
    checkpoint: str

    @property
    def takes_pairs(self) -> bool:
        """A classifier trained on text pairs: `predict` needs `text_pairs`."""
        return isinstance(self.model, TextClassifier) and self.model.spec.text_pair

    def predict(
        self, texts: Sequence[str], batch_size: int = 32, text_pairs: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        if isinstance(self.model, TextClassifier):
            return self.model.predict(texts, batch_size, text_pairs)
        if text_pairs is not None:
            raise UserError(f"{self.kind} checkpoints take single texts; text pairs are for pair classifiers")
        return self.model.predict(texts, batch_size)


def make_scorer(net: nn.Module, backend: str) -> Scorer:
    if backend == "torch":
        return torch_scorer(net)
    if backend == "int8":
        return torch_scorer(quantize_int8(net))
    # ONNX Runtime reads the model into memory when the session starts, so the exported files can go right after
    with tempfile.TemporaryDirectory(prefix="encoderlab-onnx-") as folder:
        path = export_onnx(net, Path(folder) / "model.onnx")
        if backend == "onnx-int8":
            path = quantize_onnx_int8(path, Path(folder) / "model.int8.onnx")
        return onnx_scorer(path)


def restored_tokenizer(task: Task) -> Tokenizer:
    if task.tokenizer_json is None:  # `load_task` refuses such checkpoints already
        raise CheckpointError("the checkpoint holds no tokenizer; it was not written by an encoderlab task")
    return Tokenizer.from_str(task.tokenizer_json)


def load_predictor(
    checkpoint: str | Path, backend: str = "torch", device: str = "cpu", beam_size: int | None = None
) -> Predictor:
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "torch" and device != "cpu":
        raise UserError(f"backend {backend} runs on the CPU; drop --device {device} or use --backend torch")
    kind, task = load_task(checkpoint, device)
    if kind == "translation":
        if backend != "torch":
            raise UserError(f"translation checkpoints run with --backend torch only (beam search), not {backend}")
        model: Predicts | PredictsPairs = Translator(expect_task(task, TranslationTask, checkpoint), beam_size)
    elif kind == "classification":
        labels, pad_id = task.hparams["label_names"], task.hparams["pad_id"]
        scorer = make_scorer(task.net, backend)
        # encoded as in training
        model = TextClassifier(restored_tokenizer(task), labels, scorer, pad_id, task.encoding_spec)
    elif kind == "token_classification":
        tagger = expect_task(task, TokenClassificationTask, checkpoint)
        if tagger.char_vocabulary is not None and backend.startswith("onnx"):
            raise UserError(
                f"{checkpoint} reads character features, which the ONNX export does not carry; "
                "use --backend torch or --backend int8"
            )
        model = EntityTagger(tagger, restored_tokenizer(task), make_scorer(task.net, backend))
    else:
        raise UserError(f"{checkpoint} is a {kind} checkpoint; predict takes classification, NER or translation ones")
    return Predictor(kind, backend, model, str(checkpoint))

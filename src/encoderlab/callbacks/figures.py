"""Confusion matrices and attention heat maps of a classification run, as images in W&B and PNGs in the run dir."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import lightning as L
import torch
from lightning.pytorch.loggers import WandbLogger
from torch import nn

from encoderlab.report.model_figures import attention_figure, confusion_matrix_figure, to_image

log = logging.getLogger(__name__)


@runtime_checkable
class _ClassificationModule(Protocol):
    """What the figures read of a task: a classification task has confusion matrices, other tasks don't."""

    confusion_matrices: dict[str, torch.Tensor]
    net: nn.Module

    @property
    def hparams(self) -> MutableMapping[str, Any]: ...

    @property
    def device(self) -> torch.device: ...


@runtime_checkable
class _AttentionMaps(Protocol):
    def attention_maps(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]: ...


class ClassificationFigures(L.Callback):
    """After each validation: `val/confusion_matrix`; after testing: `test/confusion_matrix` and `test/attention`
    (one image per sentence, for the first `num_sentences` validation sentences, when the model has attention maps:
    a Transformer's self-attention, or attention pooling).

    Acts only when a W&B logger is attached (rendering costs a little time); the last figures are also saved as PNGs
    in `<run dir>/figures/`. Tasks without `confusion_matrices` (NER, translation) are left alone.
    """

    def __init__(self, num_sentences: int = 4, max_tokens: int = 32) -> None:
        self.num_sentences = num_sentences
        self.max_tokens = max_tokens

    @staticmethod
    def _wandb_loggers(trainer: L.Trainer) -> list[WandbLogger]:
        return [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]

    def _active(self, trainer: L.Trainer) -> bool:
        return trainer.is_global_zero and bool(self._wandb_loggers(trainer)) and not trainer.sanity_checking

    def _log(self, trainer: L.Trainer, key: str, figures: list[Any], captions: list[str]) -> None:
        folder = Path(trainer.default_root_dir) / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        images = [to_image(figure) for figure in figures]
        for index, image in enumerate(images):
            suffix = f"_{index}" if len(images) > 1 else ""
            image.save(folder / f"{key.replace('/', '_')}{suffix}.png")
        for logger in self._wandb_loggers(trainer):
            logger.log_image(key=key, images=images, caption=captions, step=trainer.global_step)

    def _log_confusion(self, trainer: L.Trainer, task: _ClassificationModule, stage: str) -> None:
        matrix = task.confusion_matrices.get(stage)
        if matrix is None:
            return
        title = f"val confusion matrix, epoch {trainer.current_epoch}" if stage == "val" else "test confusion matrix"
        figure = confusion_matrix_figure(matrix, task.hparams["label_names"], title)
        self._log(trainer, f"{stage}/confusion_matrix", [figure], [title])

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._active(trainer) and isinstance(pl_module, _ClassificationModule):
            self._log_confusion(trainer, pl_module, "val")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not (self._active(trainer) and isinstance(pl_module, _ClassificationModule)):
            return
        self._log_confusion(trainer, pl_module, "test")
        self._log_attention(trainer, pl_module)

    @torch.no_grad()
    def _log_attention(self, trainer: L.Trainer, task: _ClassificationModule) -> None:
        datamodule = trainer.datamodule  # type: ignore[attr-defined]  # set by Lightning's data connector, undeclared
        net = task.net
        if not isinstance(net, _AttentionMaps) or datamodule is None or "validation" not in datamodule.datasets:
            return
        dataset = datamodule.datasets["validation"]
        examples = [dataset[i] for i in range(min(self.num_sentences, len(dataset)))]
        batch = datamodule.make_collator()([{**ex, "input_ids": ex["input_ids"][: self.max_tokens]} for ex in examples])
        batch = {key: value.to(task.device) for key, value in batch.items()}
        was_training = net.training
        net.eval()
        maps = net.attention_maps(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))
        net.train(was_training)
        if not maps:
            return
        tokenizer = datamodule.tokenizer
        label_names = task.hparams["label_names"]
        figures, captions = [], []
        for row, example in enumerate(examples):
            ids = example["input_ids"][: self.max_tokens]
            tokens = [tokenizer.id_to_token(i) or "?" for i in ids]
            caption = f"label {label_names[example['label']]}: {tokenizer.decode(ids)}"
            figures.append(attention_figure(tokens, {name: weights[row] for name, weights in maps.items()}, caption))
            captions.append(caption)
        self._log(trainer, "test/attention", figures, captions)

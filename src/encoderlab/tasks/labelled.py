"""What the tasks that label text share: an encoder under a head that predicts one of `label_names`, per sequence
(classification) or per token (token classification), built from the model config and the data's vocabulary."""

from __future__ import annotations

from typing import Any

from encoderlab.models.build import ModelConfig, Vocabulary
from encoderlab.tasks.base import Task


class LabelledTask(Task):
    """The constructor arguments every labelling task takes; a subclass declares its own settings and passes the
    rest here (`**settings`), then saves its hyperparameters with `save_labelled_hyperparameters` and builds
    `self.net` for `self.vocabulary` and `self.num_classes`."""

    def __init__(
        self,
        model: dict,
        vocab_size: int,
        num_classes: int,
        label_names: list[str],
        optimizer: dict,
        scheduler: dict | None = None,
        pad_id: int = 0,
        compile: bool = False,
        finetune: dict | None = None,
        monitor: str = "val/loss",
        monitor_mode: str | None = None,
        pretrained_encoder: str | None = None,
    ) -> None:
        super().__init__(
            optimizer, scheduler, compile, finetune, monitor, monitor_mode, pretrained_encoder=pretrained_encoder
        )
        self.model_section = model
        self.vocabulary = Vocabulary(vocab_size, pad_id)
        self.num_classes = num_classes
        self.label_names = list(label_names)

    def save_labelled_hyperparameters(self, **task_values: Any) -> ModelConfig:
        """`save_task_hyperparameters` with the vocabulary and the labels, then the subclass's own `task_values`."""
        return self.save_task_hyperparameters(
            self.model_section,
            vocab_size=self.vocabulary.size,
            num_classes=self.num_classes,
            label_names=self.label_names,
            pad_id=self.vocabulary.pad_id,
            **task_values,
        )

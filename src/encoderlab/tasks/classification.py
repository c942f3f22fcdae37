"""Sequence classification: any encoder + pooling + head, cross-entropy, torchmetrics."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection
from torchmetrics.classification import AUROC, Accuracy, F1Score, MulticlassConfusionMatrix, Precision, Recall

from encoderlab.models.build import SequenceClassification, build_network
from encoderlab.models.heads import SequenceClassifier
from encoderlab.tasks.labelled import LabelledTask


def classification_metrics(num_classes: int) -> MetricCollection:
    """Binary metrics (positive class) for 2 classes, macro averages otherwise."""
    if num_classes == 2:
        kwargs: dict[str, Any] = {"task": "binary"}
    else:
        kwargs = {"task": "multiclass", "num_classes": num_classes, "average": "macro"}
    return MetricCollection(
        {
            "acc": Accuracy(**{**kwargs, "average": "micro"} if num_classes > 2 else kwargs),
            "f1": F1Score(**kwargs),
            "precision": Precision(**kwargs),
            "recall": Recall(**kwargs),
            "auroc": AUROC(**kwargs),
        }
    )


class ClassificationTask(LabelledTask):
    accepts = ("encoder", "document_encoder")
    kind = "classification"
    net: SequenceClassifier

    def __init__(self, label_smoothing: float = 0.0, monitor: str = "val/acc", **settings: Any) -> None:
        """`settings`: `LabelledTask`'s arguments (the model, the data's vocabulary and labels, the optimizer)."""
        super().__init__(monitor=monitor, **settings)
        config = self.save_labelled_hyperparameters(label_smoothing=label_smoothing)
        self.net = build_network(config, self.vocabulary, SequenceClassification(self.num_classes))
        self.prepare_encoder()
        self.label_smoothing = label_smoothing
        metrics = classification_metrics(self.num_classes)
        self.train_metrics = metrics.clone(prefix="train/")
        self.val_metrics = metrics.clone(prefix="val/")
        self.test_metrics = metrics.clone(prefix="test/")
        # the last validation's and test's confusion matrices [true, predicted], read by the figures callback
        self.val_confusion = MulticlassConfusionMatrix(self.num_classes)
        self.test_confusion = MulticlassConfusionMatrix(self.num_classes)
        self.confusion_matrices: dict[str, torch.Tensor] = {}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward_net(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))

    def _probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        probs = logits.float().softmax(-1)
        return probs[:, 1] if self.num_classes == 2 else probs

    def _predictions(self, probs: torch.Tensor) -> torch.Tensor:
        return (probs >= 0.5).long() if probs.dim() == 1 else probs.argmax(-1)

    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self(batch)
        loss = F.cross_entropy(logits.float(), batch["labels"], label_smoothing=self.label_smoothing)
        return loss, self._probabilities(logits.detach())

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, probs = self._step(batch)
        self.train_metrics["acc"].update(probs, batch["labels"])
        batch_size = batch["labels"].shape[0]
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=batch_size)
        self.log("train/acc", self.train_metrics["acc"], on_step=False, on_epoch=True, batch_size=batch_size)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, probs = self._step(batch)
        self.val_metrics.update(probs, batch["labels"])
        self.val_confusion.update(self._predictions(probs), batch["labels"])
        self.log("val/loss", loss, on_epoch=True, prog_bar=True, batch_size=batch["labels"].shape[0])

    def log_validation_epoch(self) -> None:
        metrics = self.val_metrics.compute()
        self.val_metrics.reset()
        self.confusion_matrices["val"] = self.val_confusion.compute().cpu()
        self.val_confusion.reset()
        accuracy = metrics.pop("val/acc")
        self.log_dict(metrics, sync_dist=True)
        self.log("val/acc", accuracy, prog_bar=True, sync_dist=True)

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, probs = self._step(batch)
        self.test_metrics.update(probs, batch["labels"])
        self.test_confusion.update(self._predictions(probs), batch["labels"])
        self.log("test/loss", loss, on_epoch=True, batch_size=batch["labels"].shape[0])

    def on_test_epoch_end(self) -> None:
        self.log_dict(self.test_metrics.compute(), sync_dist=True)
        self.test_metrics.reset()
        self.confusion_matrices["test"] = self.test_confusion.compute().cpu()
        self.test_confusion.reset()

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self(batch).float().softmax(-1)

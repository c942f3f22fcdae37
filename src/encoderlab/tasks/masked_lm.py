"""Masked-language-model pretraining: loss, perplexity and accuracy over the masked tokens; the encoder (with its
tokenizer) is what a pretraining run hands on to fine-tuning (`model.pretrained=<run>/encoder`)."""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import MeanMetric

from encoderlab.models.build import MaskedLM, Vocabulary, build_network
from encoderlab.models.masked_lm import IGNORE_INDEX, MASKED_LM_NEEDS, MaskedLanguageModel
from encoderlab.tasks.base import Task, stage_metric


class MaskedLMTask(Task):
    accepts = ("encoder",)
    kind = "masked_lm"
    requires = MASKED_LM_NEEDS  # the MLM head ties to its input embeddings and is sized by its config
    exports_encoder = True
    net: MaskedLanguageModel

    def __init__(
        self,
        model: dict,
        vocab_size: int,
        optimizer: dict,
        scheduler: dict | None = None,
        pad_id: int = 0,
        compile: bool = False,
        monitor: str = "val/loss",
        monitor_mode: str | None = None,
        max_predictions_per_seq: int | None = None,
        pretrained_encoder: str | None = None,
    ) -> None:
        super().__init__(
            optimizer,
            scheduler,
            compile,
            monitor=monitor,
            monitor_mode=monitor_mode,
            pretrained_encoder=pretrained_encoder,
        )
        config = self.save_task_hyperparameters(model, vocab_size=vocab_size, pad_id=pad_id)
        self.net = build_network(config, Vocabulary(vocab_size, pad_id), MaskedLM(max_predictions_per_seq))
        self.prepare_encoder()  # continued pretraining starts from model.pretrained
        # token-weighted means over an epoch: every masked token counts once, whatever its batch
        self.eval_loss = torch.nn.ModuleDict({s: MeanMetric() for s in ("val", "test")})
        self.eval_acc = torch.nn.ModuleDict({s: MeanMetric() for s in ("val", "test")})

    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        loss, logits, targets = self.forward_net(
            batch["input_ids"], batch["attention_mask"], batch["labels"], batch.get("token_type_ids")
        )
        real = targets != IGNORE_INDEX  # a fixed-size gather pads its slots with IGNORE_INDEX
        count = real.sum()
        correct = ((logits.detach().argmax(-1) == targets) & real).sum()
        return loss, correct.float() / count.clamp(min=1), count.float()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, acc, _ = self._step(batch)
        size = batch["input_ids"].shape[0]
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=size)
        self.log("train/acc", acc, on_step=True, on_epoch=True, batch_size=size)
        return loss

    def _eval_step(self, stage: str, batch: dict[str, torch.Tensor]) -> None:
        loss, acc, count = self._step(batch)
        stage_metric(self.eval_loss, stage).update(loss.detach(), count)
        stage_metric(self.eval_acc, stage).update(acc, count)

    def _eval_epoch_end(self, stage: str) -> float:
        loss_metric, acc_metric = stage_metric(self.eval_loss, stage), stage_metric(self.eval_acc, stage)
        loss, acc = loss_metric.compute(), acc_metric.compute()
        loss_metric.reset()
        acc_metric.reset()
        self.log(f"{stage}/loss", loss, prog_bar=True, sync_dist=True)
        self.log(f"{stage}/ppl", torch.exp(loss), prog_bar=stage == "val", sync_dist=True)
        self.log(f"{stage}/acc", acc, sync_dist=True)
        return float(loss)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("val", batch)

    def log_validation_epoch(self) -> None:
        self._eval_epoch_end("val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step("test", batch)

    def on_test_epoch_end(self) -> None:
        self._eval_epoch_end("test")

    def run_summary(self) -> dict[str, Any]:
        return {"masking": "15% of real tokens by default (80% [MASK], 10% random, 10% kept); eval splits masked once"}

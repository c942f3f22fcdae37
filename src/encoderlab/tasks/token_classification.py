"""Token classification (NER): any encoder + a per-token linear layer (+ an optional CRF), entity-level F1.

Without a CRF the loss is cross-entropy on each word's first subword (the data module puts -100 on the others).
With a CRF (`task.crf=true`) the emissions of the first subwords form a word-level sequence, scored and decoded
by the CRF. Either way predictions are made per word and scored against every word's gold tag: a word lost to
truncation counts as predicted `O`. With `model.char_encoder` the network also reads each token's word characters
(`char_ids`); the character vocabulary (`char_vocab`) is a hyperparameter, so a checkpoint encodes as training did.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from encoderlab.data.chars import CharVocabulary
from encoderlab.data.token_classification import IGNORE
from encoderlab.errors import ConfigError
from encoderlab.models.build import TokenClassification, build_network, max_word_chars
from encoderlab.models.heads import TokenClassifier
from encoderlab.tasks.entity_f1 import EntityF1
from encoderlab.tasks.labelled import LabelledTask


def gather_words(emissions: torch.Tensor, word_positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Subword emissions `[B, T, L]` -> first-subword emissions per word `[B, W, L]` and the word mask `[B, W]`."""
    mask = word_positions >= 0
    index = word_positions.clamp(min=0).unsqueeze(-1).expand(-1, -1, emissions.shape[-1])
    return emissions.gather(1, index), mask


class TokenClassificationTask(LabelledTask):
    accepts = ("encoder",)
    kind = "token_classification"
    net: TokenClassifier

    def __init__(
        self,
        crf: bool = False,
        monitor: str = "val/f1",
        char_vocab: list[str] | None = None,
        **settings: Any,
    ) -> None:
        """`settings`: `LabelledTask`'s arguments (the model, the data's vocabulary and labels, the optimizer)."""
        super().__init__(monitor=monitor, **settings)
        config = self.save_labelled_hyperparameters(
            crf=crf, **({"char_vocab": list(char_vocab)} if char_vocab is not None else {})
        )
        word_chars = max_word_chars(config)
        if (word_chars is None) != (char_vocab is None):
            raise ConfigError(
                "model.char_encoder needs the data's character vocabulary (char_vocab), which token classification "
                "data modules give when built with max_word_chars"
                if char_vocab is None
                else "char_vocab was given but the model has no char_encoder; set one (char_encoder=cnn) or drop it"
            )
        # the characters the data encoded with (None: the model reads none); inference encodes through it too
        self.char_vocabulary = (
            None if char_vocab is None or word_chars is None else CharVocabulary(tuple(char_vocab), word_chars)
        )
        size = self.char_vocabulary.size if self.char_vocabulary is not None else 0
        self.net = build_network(config, self.vocabulary, TokenClassification(self.num_classes, crf, num_chars=size))
        self.prepare_encoder()
        self.outside_id = self.label_names.index("O") if "O" in self.label_names else 0
        self.val_entities = EntityF1(self.label_names)
        self.test_entities = EntityF1(self.label_names)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward_net(
            batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"), batch.get("char_ids")
        )

    def _loss(self, emissions: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.net.crf is None:
            return F.cross_entropy(emissions.float().flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE)
        word_emissions, mask = gather_words(emissions, batch["word_positions"])
        tags = batch["tags"][:, : mask.shape[1]].masked_fill(~mask, 0)
        return self.net.crf(word_emissions, tags, mask).mean()

    def predict_words(self, emissions: torch.Tensor, word_positions: torch.Tensor, num_words: int) -> torch.Tensor:
        """Tag ids per word `[B, num_words]`; words without a subword (truncated away) get `O`."""
        word_emissions, mask = gather_words(emissions, word_positions)
        kept = word_emissions.argmax(-1) if self.net.crf is None else self.net.crf.decode(word_emissions, mask)
        kept = kept.masked_fill(~mask, self.outside_id)
        predictions = torch.full((kept.shape[0], num_words), self.outside_id, dtype=torch.long, device=kept.device)
        width = min(num_words, kept.shape[1])
        predictions[:, :width] = kept[:, :width]
        return predictions

    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        emissions = self(batch)
        loss = self._loss(emissions, batch)
        return loss, emissions.detach()

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, _ = self._step(batch)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss

    def _evaluate(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        loss, emissions = self._step(batch)
        predictions = self.predict_words(emissions, batch["word_positions"], batch["tags"].shape[1])
        self._entities(stage).update(predictions, batch["tags"])
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=stage == "val", batch_size=batch["input_ids"].shape[0])

    def _entities(self, stage: str) -> EntityF1:
        return self.val_entities if stage == "val" else self.test_entities

    def _log_entity_scores(self, stage: str) -> None:
        scores = self._entities(stage).compute()
        self._entities(stage).reset()
        self.log_dict({f"{stage}/{name}": value for name, value in scores.items()}, sync_dist=True)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def log_validation_epoch(self) -> None:
        self._log_entity_scores("val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def on_test_epoch_end(self) -> None:
        self._log_entity_scores("test")

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        emissions = self(batch)
        num_words = int((batch["word_positions"] >= 0).sum(1).max())
        return self.predict_words(emissions, batch["word_positions"], num_words)

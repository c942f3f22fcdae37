"""Masked-language-model pretraining model: a Transformer encoder plus BERT's prediction head, tied to the input
embeddings, that scores the vocabulary only at masked positions (the other ~85% of positions cost nothing).

Names map to HF's `BertForMaskedLM`: `head.transform` = `cls.predictions.transform.dense`, `head.layer_norm` =
`cls.predictions.transform.LayerNorm`, `head.bias` = `cls.predictions.bias`; the decoder matrix is the encoder's
word-embedding matrix, held once.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from encoderlab.models.contract import Encoder, ExportableEncoder

# per-token states to predict from; `exportable`: its `config` sizes the head, and the run hands the encoder on
MASKED_LM_NEEDS = ("per_token_states", "exportable")
IGNORE_INDEX = -100  # label of positions that are not predicted (not masked, padding, special tokens)


class MaskedLMHead(nn.Module):
    """Dense + GELU + LayerNorm, then logits against a (tied) embedding matrix plus a per-token bias."""

    def __init__(self, hidden_size: int, vocab_size: int, layer_norm_eps: float = 1e-12) -> None:
        super().__init__()
        self.transform = nn.Linear(hidden_size, hidden_size)
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: torch.Tensor, embedding_weight: torch.Tensor) -> torch.Tensor:
        return F.linear(self.layer_norm(F.gelu(self.transform(hidden))), embedding_weight, self.bias)


def gather_masked_positions(labels: torch.Tensor, budget: int) -> torch.Tensor:
    """Flat indices of the masked positions of `labels` `[B, T]`, padded to exactly `budget` entries.

    Masked positions come first (in order), then unmasked ones whose label is `IGNORE_INDEX`, so gathered targets
    need no second mask. The shape never depends on the data: no host sync and nothing for `torch.compile` to
    re-specialise on, unlike boolean indexing. Masked positions beyond the budget are dropped.
    """
    unmasked = (labels.flatten() == IGNORE_INDEX).to(torch.uint8)
    return torch.argsort(unmasked, stable=True)[:budget]


class MaskedLanguageModel(nn.Module):
    """`forward(input_ids, attention_mask, labels) -> (loss, logits [M, V], targets [M])` over the M masked positions.

    `labels` holds the original token at masked positions and `IGNORE_INDEX` elsewhere (the collator's output).

    `max_predictions_per_seq=None`: M is the number of masked positions (boolean indexing: exact, but the shape
    depends on the data, which costs a host sync per step). An integer `k`: M is fixed at `k * B`, from a sort on
    the device; slots past the real masked positions carry target `IGNORE_INDEX` and add nothing to the loss. Pick
    `k` above the masking rate's tail (e.g. 20% of T for BERT's 15%): masked positions beyond `k * B` are dropped.
    """

    def __init__(self, encoder: Encoder, max_predictions_per_seq: int | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.max_predictions_per_seq = max_predictions_per_seq
        missing = encoder.capabilities.lacks(MASKED_LM_NEEDS)
        if missing:
            raise ValueError(
                f"a masked-LM needs an encoder with {', '.join(missing)}; {type(encoder).__name__} lacks it"
            )
        config = cast(ExportableEncoder, encoder).config  # the capability promises it
        self.head = MaskedLMHead(config.hidden_size, config.vocab_size, config.layer_norm_eps)
        nn.init.normal_(self.head.transform.weight, std=0.02)
        nn.init.zeros_(self.head.transform.bias)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids, attention_mask, token_type_ids)
        if self.max_predictions_per_seq is None:
            predicted = labels != IGNORE_INDEX
            targets, selected = labels[predicted], hidden[predicted]
        else:
            budget = min(self.max_predictions_per_seq * labels.shape[0], labels.numel())
            positions = gather_masked_positions(labels, budget)
            targets = labels.flatten()[positions]
            selected = hidden.flatten(0, 1)[positions]
        logits = self.head(selected, self.encoder.get_input_embeddings().weight)
        loss = F.cross_entropy(logits.float(), targets, ignore_index=IGNORE_INDEX)
        return loss, logits, targets

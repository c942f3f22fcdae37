"""The masked-LM task's metrics count real targets only, so the fixed-size gather (padded slots) scores the same."""

from __future__ import annotations

import torch

from encoderlab.data.masking import mask_tokens
from encoderlab.tasks.masked_lm import MaskedLMTask

ENCODER = {
    "_target_": "encoderlab.models.transformer.TransformerEncoder",
    "hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32, "max_position": 16, "dropout": 0.0,
}  # fmt: skip


def task(max_predictions_per_seq: int | None) -> MaskedLMTask:
    optimizer = {"_target_": "torch.optim.AdamW", "lr": 1e-3}
    return MaskedLMTask({"encoder": ENCODER}, 50, optimizer, max_predictions_per_seq=max_predictions_per_seq).eval()


def test_fixed_size_gather_gives_the_exact_paths_loss_accuracy_and_count() -> None:
    torch.manual_seed(0)
    exact, fixed = task(None), task(8)
    fixed.load_state_dict(exact.state_dict())
    ids = torch.randint(5, 50, (4, 16))
    inputs, labels = mask_tokens(ids, [0, 1, 2, 3, 4], 4, 50, generator=torch.Generator().manual_seed(0))
    batch = {"input_ids": inputs, "attention_mask": torch.ones_like(ids), "labels": labels}
    with torch.no_grad():
        expected, got = exact._step(batch), fixed._step(batch)
    assert got[2] == expected[2] == (labels != -100).sum() < 4 * 8, "every target counted once, no padded slot"
    torch.testing.assert_close(got[0], expected[0])
    torch.testing.assert_close(got[1], expected[1])

"""The hot path compiles whole: no graph break in the training loss of the Transformer models, and the compiled
step computes the eager step's loss and gradients (bf16 autocast, as `trainer.precision=auto` runs on this CPU)."""

from __future__ import annotations

import pytest
import torch
import torch._dynamo as dynamo
import torch.nn.functional as F

from encoderlab.models.heads import SequenceClassifier
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.seq2seq import TransformerSeq2Seq
from encoderlab.models.transformer import TransformerEncoder
from encoderlab.models.vocabulary import Vocabulary
from encoderlab.training.run_inputs import compile_friendly_padding

TINY = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "intermediate_size": 64, "max_position": 64}


def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, 100, (4, 16), generator=generator)
    mask = torch.ones(4, 16, dtype=torch.long)
    mask[1, 10:] = 0
    mask[3, 5:] = 0
    labels = torch.full((4, 16), -100)
    labels[:, 3] = 7
    return ids, mask, labels


def classifier_loss(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(model(ids, mask).float(), torch.tensor([0, 1, 0, 1]))


def seq2seq() -> TransformerSeq2Seq:
    sizes = {"hidden_size": 32, "encoder_layers": 1, "decoder_layers": 1, "num_heads": 2, "intermediate_size": 64}
    return TransformerSeq2Seq(Vocabulary(100, pad_id=0, bos_id=1, eos_id=2), max_position=64, **sizes)


@pytest.mark.parametrize("name", ["classifier", "masked_lm", "seq2seq"])
def test_the_training_forward_has_no_graph_break(name: str) -> None:
    ids, mask, labels = batch()
    if name == "classifier":
        model, args = SequenceClassifier(TransformerEncoder(100, **TINY), 2), (ids, mask)
    elif name == "masked_lm":
        model, args = (
            MaskedLanguageModel(TransformerEncoder(100, **TINY), max_predictions_per_seq=4),
            (ids, None, labels),
        )
    else:
        model, args = seq2seq(), (ids, mask, ids)
    explanation = dynamo.explain(model.train())(*args)
    assert explanation.graph_break_count == 0, [str(reason.reason)[:200] for reason in explanation.break_reasons]


def test_compiled_step_matches_eager_in_bf16() -> None:
    torch.manual_seed(0)
    ids, mask, _ = batch()
    model = SequenceClassifier(TransformerEncoder(100, **TINY), 2).eval()  # no dropout: the same function twice
    compiled = torch.compile(model, fullgraph=True)  # fails loudly on any graph break
    losses, grads = [], []
    for run in (model, compiled):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = classifier_loss(run, ids, mask)
        loss.backward()
        losses.append(loss.detach())
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    torch.testing.assert_close(losses[1], losses[0], atol=2e-2, rtol=2e-2)
    assert F.cosine_similarity(grads[0], grads[1], dim=0) > 0.99


def test_a_compiled_task_pads_batches_to_a_multiple(make_cfg) -> None:
    assert compile_friendly_padding(make_cfg("model=bert_tiny", "task.compile=true")) == {"pad_to_multiple_of": 16}
    assert compile_friendly_padding(make_cfg("model=bert_tiny")) == {}
    explicit = make_cfg("model=bert_tiny", "task.compile=true", "data.pad_to_multiple_of=8")
    assert compile_friendly_padding(explicit) == {}

"""Layer-wise learning-rate decay: embeddings get lr * d^(L+1), layer i lr * d^(L+1-i), the head the full lr."""

from __future__ import annotations

import pytest

from encoderlab.models.heads import SequenceClassifier
from encoderlab.models.transformer import TransformerEncoder
from encoderlab.optim.finetune import apply_finetune, layer_depths
from encoderlab.optim.schedules import param_groups


def classifier() -> SequenceClassifier:
    encoder = TransformerEncoder(30, hidden_size=8, num_layers=2, num_heads=2, intermediate_size=16, max_position=8)
    return SequenceClassifier(encoder, num_classes=2)


def test_each_parameter_gets_its_depths_learning_rate_and_decay_only_on_matrices() -> None:
    net = classifier()
    groups = param_groups(net, 0.01, lr=1.0, layer_lr_decay=0.5, depths=layer_depths(net))
    lr_of = {id(p): (g["lr"], g["weight_decay"]) for g in groups for p in g["params"]}
    expected_lr = {"encoder.embeddings.": 0.125, "encoder.layers.0.": 0.25, "encoder.layers.1.": 0.5, "head.": 1.0}
    for name, parameter in net.named_parameters():
        lr, decay = lr_of[id(parameter)]
        assert lr == pytest.approx(next(v for k, v in expected_lr.items() if name.startswith(k))), name
        assert decay == (0.01 if parameter.ndim >= 2 else 0.0), name
    assert sum(len(g["params"]) for g in groups) == len(list(net.parameters()))


def test_frozen_parameters_are_left_out_of_every_group() -> None:
    net = classifier()
    apply_finetune(net, {"method": "linear_probe"})
    grouped = {id(p) for g in param_groups(net, 0.01, lr=1.0, layer_lr_decay=0.9, depths=layer_depths(net))
               for p in g["params"]}  # fmt: skip
    assert grouped == {id(p) for p in net.head.parameters()}

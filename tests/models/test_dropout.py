"""The CPU dropout: its rate, its expectation, its gradient, and identity outside training."""

from __future__ import annotations

import pytest
import torch

from encoderlab.models.dropout import Dropout, byte_keep_mask, dropout


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_the_drop_rate_is_the_rate_rounded_to_a_256th_and_the_mean_is_kept(p: float) -> None:
    torch.manual_seed(0)
    keep, scale = byte_keep_mask(torch.Size([400, 1000]), p, torch.device("cpu"))
    rate = round(p * 256) / 256
    assert abs((1 - keep.float().mean().item()) - rate) < 0.003
    assert scale == pytest.approx(1 / (1 - rate))
    out = dropout(torch.ones(400, 1000), p)
    assert abs(out.mean().item() - 1.0) < 0.01
    values = out.unique()
    assert len(values) == 2 and values[0] == 0.0 and values[1].item() == pytest.approx(scale)


def test_the_gradient_flows_through_the_kept_elements_only() -> None:
    torch.manual_seed(1)
    x = torch.randn(64, 32, requires_grad=True)
    out = dropout(x, 0.3)
    out.sum().backward()
    kept = out.detach() != 0
    assert x.grad is not None
    assert torch.allclose(x.grad[kept], torch.full_like(x.grad[kept], 256 / (256 - 77)))
    assert torch.all(x.grad[~kept] == 0)


def test_the_same_seed_draws_the_same_mask() -> None:
    x = torch.randn(10, 10)
    torch.manual_seed(3)
    first = dropout(x, 0.3)
    torch.manual_seed(3)
    assert torch.equal(first, dropout(x, 0.3))


def test_the_module_is_identity_in_eval_mode_and_keeps_nn_dropout_state() -> None:
    module = Dropout(0.3)
    x = torch.randn(8, 8)
    assert torch.equal(module.eval()(x), x)
    assert module.state_dict() == torch.nn.Dropout(0.3).state_dict()
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.all(dropout(x, 1.0) == 0)

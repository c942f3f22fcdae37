"""Step-keyed learning-rate schedules: their shapes at known steps."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from encoderlab.errors import ConfigError
from encoderlab.optim.schedules import inverse_sqrt


def lr_factors(scheduler: torch.optim.lr_scheduler.LambdaLR, steps: int) -> list[float]:
    factors = []
    for _ in range(steps):
        factors.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return factors


def test_inverse_sqrt_warms_up_linearly_then_decays_with_the_root_of_the_step() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    factors = lr_factors(inverse_sqrt(optimizer, total_steps=None, warmup_steps=4), 100)
    assert factors[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert factors[15] == pytest.approx(math.sqrt(4 / 16))
    assert factors[99] == pytest.approx(math.sqrt(4 / 100))
    assert all(a >= b for a, b in itertools.pairwise(factors[3:]))


def test_inverse_sqrt_with_a_warmup_ratio_and_no_step_count_is_one_line() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ConfigError, match=r"set scheduler\.warmup_steps"):
        inverse_sqrt(optimizer, total_steps=None, warmup_steps=None, warmup_ratio=0.1)

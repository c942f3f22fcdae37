"""LoRA (Hu et al. 2021): a frozen linear layer plus a trainable low-rank update, `W x + (alpha / r) B A x`.

`LoRALinear` is an `nn.Linear` (its `weight` and `bias` keep their names, so pretrained weights load unchanged)
with two extra matrices `lora_A [r, in]` and `lora_B [out, r]`. B starts at zero, so a fresh adapter changes
nothing; `merge_lora` folds `(alpha / r) B A` into `weight` and turns the layer back into a plain `nn.Linear`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn


class LoRALinear(nn.Linear):
    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0) -> None:
        if rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {rank}")
        super().__init__(base.in_features, base.out_features, bias=base.bias is not None)
        self.weight = base.weight
        self.bias = base.bias
        self.rank = rank
        self.scaling = alpha / rank
        device, dtype = base.weight.device, base.weight.dtype
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, device=device, dtype=dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, device=device, dtype=dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Linear (and the LoRA paper's code)
        self.lora_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B)
        return F.linear(x, self.weight, self.bias) + self.scaling * update

    def merged(self) -> nn.Linear:
        linear = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None)
        linear.to(device=self.weight.device, dtype=self.weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(self.weight + self.scaling * (self.lora_B @ self.lora_A))
            if self.bias is not None:
                linear.bias.copy_(self.bias)
        return linear

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, rank={self.rank}, scaling={self.scaling:g}"


def add_lora(module: nn.Module, targets: Iterable[str], rank: int, alpha: float, dropout: float = 0.0) -> list[str]:
    """Replace every `nn.Linear` whose attribute name is in `targets` (e.g. `qkv_proj`, `out_proj`) by a
    `LoRALinear` around it; returns the qualified names replaced."""
    targets = set(targets)
    replaced = []
    for name, parent in list(module.named_modules()):
        for child_name, child in list(parent.named_children()):
            if child_name in targets and type(child) is nn.Linear:
                setattr(parent, child_name, LoRALinear(child, rank, alpha, dropout))
                replaced.append(f"{name}.{child_name}" if name else child_name)
    return replaced


def merge_lora(module: nn.Module) -> nn.Module:
    """Fold every adapter into its weight, in place: the module is plain `nn.Linear`s again, same outputs."""
    for parent in list(module.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, LoRALinear):
                setattr(parent, child_name, child.merged())
    return module


def merged_copy(module: nn.Module) -> nn.Module:
    """A copy with adapters merged (the module itself is left as it is); the module itself when it has none."""
    if not any(isinstance(m, LoRALinear) for m in module.modules()):
        return module
    return merge_lora(copy.deepcopy(module))

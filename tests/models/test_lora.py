"""LoRA adapters: a fresh adapter changes nothing; merging folds the update into the weight, same outputs."""

from __future__ import annotations

import torch

from encoderlab.models.lora import LoRALinear, add_lora, merge_lora
from encoderlab.models.transformer import TransformerEncoder


def test_adapters_start_as_identity_and_merge_into_plain_linear_layers_with_identical_outputs() -> None:
    torch.manual_seed(0)
    encoder = TransformerEncoder(40, hidden_size=16, num_layers=2, num_heads=2, max_position=12, dropout=0.0).eval()
    ids, mask = torch.randint(5, 40, (2, 9)), torch.ones(2, 9, dtype=torch.long)
    before = encoder(ids, mask)
    replaced = add_lora(encoder, ["qkv_proj", "out_proj", "intermediate", "output"], rank=2, alpha=4)
    assert len(replaced) == 8 and all(isinstance(encoder.get_submodule(n), LoRALinear) for n in replaced)
    torch.testing.assert_close(encoder(ids, mask), before, atol=0, rtol=0)  # B = 0: nothing changes yet
    with torch.no_grad():
        for module in encoder.modules():
            if isinstance(module, LoRALinear):
                module.lora_B.normal_()
    adapted = encoder(ids, mask)
    assert not torch.allclose(adapted, before, atol=1e-3)
    merge_lora(encoder)
    assert not any(isinstance(m, LoRALinear) for m in encoder.modules())
    assert set(encoder.state_dict()) == set(
        TransformerEncoder(40, hidden_size=16, num_layers=2, num_heads=2).state_dict()
    )
    torch.testing.assert_close(encoder(ids, mask), adapted, atol=1e-5, rtol=1e-5)

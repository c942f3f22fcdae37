"""Unpadding: the encoder on real tokens only gives the padded encoder's outputs and gradients at real positions."""

from __future__ import annotations

import pytest
import torch

from encoderlab.models import TransformerEncoder
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.unpadding import Packing, packed_self_attention

VOCAB = 60


def twin_encoders(**kwargs) -> tuple[TransformerEncoder, TransformerEncoder]:
    torch.manual_seed(0)
    padded = TransformerEncoder(VOCAB, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64, **kwargs)
    unpadded = TransformerEncoder(
        VOCAB, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64, unpad=True, **kwargs
    )
    unpadded.load_state_dict(padded.state_dict())
    return padded, unpadded


def ragged_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([9, 1, 5, 12])  # one row full, one a single token
    mask = (torch.arange(12)[None] < lengths[:, None]).long()
    ids = torch.randint(1, VOCAB, (4, 12), generator=torch.Generator().manual_seed(1)) * mask
    token_types = (torch.arange(12)[None] >= 3).long() * mask
    return ids, mask, token_types


def test_packing_round_trips_and_marks_sequence_bounds() -> None:
    _, mask, _ = ragged_batch()
    packing = Packing.from_mask(mask)
    assert packing.cu_seqlens.tolist() == [0, 9, 10, 15, 27] and packing.max_length == 12
    grid = torch.arange(48.0).view(4, 12, 1)
    packed = packing.pack(grid)
    assert packed.shape == (27, 1)
    assert torch.equal(packing.unpack(packed), grid * mask[..., None])


@pytest.mark.parametrize("norm_first", [False, True])
def test_outputs_match_the_padded_encoder_at_real_positions(norm_first: bool) -> None:
    padded, unpadded = (e.eval() for e in twin_encoders(norm_first=norm_first))
    ids, mask, token_types = ragged_batch()
    expected, actual = padded(ids, mask, token_types), unpadded(ids, mask, token_types)
    real = mask.bool()
    torch.testing.assert_close(actual[real], expected[real], atol=1e-5, rtol=0)
    assert torch.all(actual[~real] == 0)


def test_gradients_match_the_padded_encoder() -> None:
    padded, unpadded = twin_encoders(dropout=0.0, attention_dropout=0.0)
    ids, mask, _ = ragged_batch()
    target = torch.randn(4, 12, 32, generator=torch.Generator().manual_seed(2))
    for encoder in (padded, unpadded):
        ((encoder(ids, mask) - target) * mask[..., None]).pow(2).sum().backward()
    for (name, a), (_, b) in zip(padded.named_parameters(), unpadded.named_parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, atol=1e-4, rtol=1e-4, msg=name)


def test_without_a_mask_or_padding_nothing_changes() -> None:
    padded, unpadded = (e.eval() for e in twin_encoders())
    ids = torch.randint(1, VOCAB, (3, 7))
    torch.testing.assert_close(unpadded(ids), padded(ids), atol=0, rtol=0)
    torch.testing.assert_close(
        unpadded(ids, torch.ones_like(ids)), padded(ids, torch.ones_like(ids)), atol=1e-5, rtol=0
    )


def test_masked_lm_loss_is_the_same_unpadded() -> None:
    padded, unpadded = (e.eval() for e in twin_encoders())
    ids, mask, _ = ragged_batch()
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[2, 4], labels[3, 11] = 5, 7, 9
    models = [MaskedLanguageModel(encoder).eval() for encoder in (padded, unpadded)]
    models[1].load_state_dict(models[0].state_dict())  # the same head on both
    losses = [model(ids, mask, labels)[0] for model in models]
    torch.testing.assert_close(losses[1], losses[0], atol=1e-5, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_flash_varlen_kernel_matches_padded_sdpa_in_bf16() -> None:
    _, mask, _ = ragged_batch()
    packing = Packing.from_mask(mask.cuda())
    q, k, v = (torch.randn(27, 4, 64, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    fast = packed_self_attention(q, k, v, packing)
    reference = packed_self_attention(q.float(), k.float(), v.float(), packing)  # fp32: the padded SDPA route
    torch.testing.assert_close(fast.float(), reference, atol=2e-2, rtol=2e-2)

"""Attention maps for visualisation: the weights the fused (SDPA) path applies, recomputed on request."""

from __future__ import annotations

import pytest
import torch

from encoderlab.models import SequenceClassifier
from encoderlab.models.attention import keys_to_attend
from tests.models.test_encoders import ENCODERS, padded_batch, transformer


@pytest.mark.parametrize("norm_first", [False, True])
def test_attention_maps_are_the_weights_the_forward_pass_applies(norm_first: bool) -> None:
    torch.manual_seed(0)
    encoder = transformer(norm_first).eval()
    ids, mask = padded_batch(torch.randint(1, 50, (5,)), pad=4, other_length=8)
    seen = []  # (input, output) of every attention module during a normal forward pass
    hooks = [
        layer.attention.register_forward_hook(lambda module, args, out: seen.append((args[0], out)))
        for layer in encoder.layers
    ]
    with torch.no_grad():
        encoder(ids, mask)
        for hook in hooks:
            hook.remove()
        maps = encoder.attention_maps(ids, mask)

    assert len(maps) == 2 and maps[0].shape == (2, 4, 9, 9)
    for layer, weights, (x, out) in zip(encoder.layers, maps, seen, strict=True):
        attention = layer.attention
        assert torch.all(weights[0, :, :, 5:] == 0), "padding gets no attention"
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 9))
        _, _, v = (attention._split_heads(t) for t in attention.qkv_proj(x).chunk(3, dim=-1))
        mixed = (weights @ v).transpose(1, 2).reshape(2, 9, attention.hidden_size)
        torch.testing.assert_close(attention.out_proj(mixed), out, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(attention.attention_weights(x, keys_to_attend(mask)), weights)


def test_classifier_attention_maps_by_architecture() -> None:
    ids, mask = padded_batch(torch.randint(1, 50, (4,)), pad=3, other_length=7)
    bert = SequenceClassifier(ENCODERS["transformer_post_ln"](), 2, pooling="cls").eval()
    assert sorted(bert.attention_maps(ids, mask)) == ["layer_1", "layer_2"]

    bilstm = SequenceClassifier(ENCODERS["bilstm"](), 2, pooling="attention").eval()
    with torch.no_grad():
        bilstm(ids, mask)
        pooling = bilstm.attention_maps(ids, mask)["pooling"]
    torch.testing.assert_close(pooling, bilstm.pooler.last_weights)

    lstm = SequenceClassifier(ENCODERS["lstm"](), 2, pooling="mean").eval()
    assert lstm.attention_maps(ids, mask) == {}

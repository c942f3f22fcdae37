"""The unpacked recurrence computes what packing computes, at real positions, for outputs and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from encoderlab.models.recurrent import padded_recurrence, reverse_within_lengths


def packed_reference(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    return pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=x.shape[1])[0]


def test_a_quantized_lstm_takes_the_packed_path() -> None:
    torch.manual_seed(0)
    rnn = torch.ao.quantization.quantize_dynamic(nn.Sequential(nn.LSTM(4, 3, batch_first=True)), {nn.LSTM})[0]
    x, lengths = torch.randn(2, 5, 4), torch.tensor([5, 2])
    torch.testing.assert_close(padded_recurrence(rnn, x, lengths), packed_reference(rnn, x, lengths))


def test_reversal_within_lengths_leaves_padding_in_place_and_is_its_own_inverse() -> None:
    x = torch.arange(8.0).view(2, 4, 1)
    lengths = torch.tensor([4, 2])
    flipped = reverse_within_lengths(x, lengths)
    assert flipped.squeeze(-1).tolist() == [[3.0, 2.0, 1.0, 0.0], [5.0, 4.0, 6.0, 7.0]]
    assert torch.equal(reverse_within_lengths(flipped, lengths), x)


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, True), (2, True), (2, False)])
def test_matches_packed_sequences_outputs_and_gradients(
    kind: type[nn.RNNBase], layers: int, bidirectional: bool
) -> None:
    torch.manual_seed(0)
    rnn = kind(6, 5, num_layers=layers, bidirectional=bidirectional, batch_first=True).double()
    x = torch.randn(4, 7, 6, dtype=torch.double, requires_grad=True)
    lengths = torch.tensor([7, 3, 1, 5])
    real = (torch.arange(7).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)

    ours = padded_recurrence(rnn, x, lengths)
    reference = packed_reference(rnn, x, lengths)
    torch.testing.assert_close(ours, reference)
    assert (ours.masked_select(~real) == 0).all()

    weights = torch.randn_like(ours)
    grads = torch.autograd.grad((ours * weights).sum(), [x, *rnn.parameters()])
    reference_grads = torch.autograd.grad((reference * weights).sum(), [x, *rnn.parameters()])
    for mine, theirs in zip(grads, reference_grads, strict=True):
        torch.testing.assert_close(mine, theirs)


def test_padding_content_never_reaches_real_positions() -> None:
    torch.manual_seed(0)
    rnn = nn.LSTM(3, 4, bidirectional=True, batch_first=True)
    lengths = torch.tensor([2, 5])
    x = torch.randn(2, 5, 3)
    noisy = x.clone()
    noisy[0, 2:] = 100.0
    torch.testing.assert_close(padded_recurrence(rnn, x, lengths), padded_recurrence(rnn, noisy, lengths))

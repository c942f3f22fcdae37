"""The CRF against brute force: its likelihood normalises over every tag path, its decoding finds the best one."""

from __future__ import annotations

import itertools

import torch

from encoderlab.models import CRF, LSTMEncoder, TokenClassifier


def path_score(crf: CRF, emissions: torch.Tensor, tags: tuple[int, ...]) -> torch.Tensor:
    score = crf.start_transitions[tags[0]] + emissions[0, tags[0]]
    for t in range(1, len(tags)):
        score = score + crf.transitions[tags[t - 1], tags[t]] + emissions[t, tags[t]]
    return score + crf.end_transitions[tags[-1]]


def random_crf(num_tags: int) -> CRF:
    crf = CRF(num_tags)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def test_nll_and_viterbi_match_brute_force_with_ragged_lengths() -> None:
    torch.manual_seed(0)
    crf = random_crf(3)
    emissions = torch.randn(3, 4, 3)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]])
    tags = torch.randint(0, 3, (3, 4))
    nll = crf(emissions, tags, mask)
    best = crf.decode(emissions, mask)
    for row in range(3):
        length = int(mask[row].sum())
        paths = list(itertools.product(range(3), repeat=length))
        scores = torch.stack([path_score(crf, emissions[row], p) for p in paths])
        expected = torch.logsumexp(scores, 0) - path_score(crf, emissions[row], tuple(tags[row, :length].tolist()))
        torch.testing.assert_close(nll[row], expected)
        assert tuple(best[row, :length].tolist()) == paths[int(scores.argmax())]
        assert best[row, length:].eq(0).all()


def test_padding_does_not_change_the_likelihood() -> None:
    torch.manual_seed(1)
    crf = random_crf(4)
    emissions, tags = torch.randn(1, 3, 4), torch.randint(0, 4, (1, 3))
    alone = crf(emissions, tags, torch.ones(1, 3))
    padded = crf(
        torch.cat([emissions, torch.randn(1, 2, 4)], 1),
        torch.cat([tags, tags[:, :2]], 1),
        torch.tensor([[1, 1, 1, 0, 0]]),
    )
    torch.testing.assert_close(alone, padded)


def test_token_classifier_emits_per_position() -> None:
    model = TokenClassifier(LSTMEncoder(30, embedding_size=8, hidden_size=8), num_labels=5, crf=True)
    ids = torch.randint(1, 30, (2, 7))
    assert model(ids, torch.ones_like(ids)).shape == (2, 7, 5)
    assert model.crf is not None and model.crf.transitions.shape == (5, 5)

"""TF-IDF pooling: the weights sum to scikit-learn's TF-IDF vector, and the bag encoder trains with them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer

from encoderlab.models.bag import BagOfNgramsEncoder
from encoderlab.models.tfidf import TfIdfWeights

VOCAB = 30
DOCUMENTS = [[3, 4, 4, 5], [4, 6, 7, 7, 7, 8], [9, 3], [5, 5, 5, 5, 10, 11, 3]]


def padded(documents: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(map(len, documents))
    ids = torch.zeros(len(documents), length, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, document in enumerate(documents):
        ids[row, : len(document)] = torch.tensor(document)
        mask[row, : len(document)] = 1
    return ids, mask


def sklearn_tfidf(train: list[list[int]], documents: list[list[int]], analyzer) -> tuple[np.ndarray, dict]:
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
    vectorizer.fit(train)
    return vectorizer.transform(documents).toarray(), vectorizer.vocabulary_


def pooled_by_feature(weights: torch.Tensor, features: torch.Tensor, num_features: int) -> torch.Tensor:
    """Sum each document's position weights per feature id: the document's TF-IDF vector."""
    return torch.zeros(weights.size(0), num_features, dtype=weights.dtype).scatter_add(1, features, weights)


def test_weights_sum_to_sklearns_sublinear_smooth_tfidf_vector() -> None:
    weights = TfIdfWeights(VOCAB)
    weights.fit(torch.tensor(document) for document in DOCUMENTS[:3])  # the last document has unseen ids
    ids, mask = padded(DOCUMENTS)
    ours = pooled_by_feature(weights(ids, mask).double(), ids, VOCAB)
    expected, vocabulary = sklearn_tfidf(DOCUMENTS[:3], DOCUMENTS, lambda doc: [str(i) for i in doc])
    for token, column in vocabulary.items():
        np.testing.assert_allclose(ours[:, int(token)].numpy(), expected[:, column], atol=1e-6)
    assert torch.all(ours[3, 10:12] == 0)  # ids no training document has are dropped, as sklearn drops them
    assert torch.all(ours[:, 0] == 0)  # padding carries no weight


def test_unigram_and_bigram_weights_are_normalised_together() -> None:
    encoder = BagOfNgramsEncoder(VOCAB, embedding_size=8, bigram_buckets=17, weighting="tfidf")
    encoder.fit(DOCUMENTS)
    ids, mask = padded(DOCUMENTS)
    features, feature_mask = encoder._features(ids, mask.bool())
    weights = encoder.tfidf(features, feature_mask).double()
    vectors = pooled_by_feature(weights, features, VOCAB + 17)
    torch.testing.assert_close(vectors.norm(dim=1), torch.ones(len(DOCUMENTS), dtype=torch.float64))
    assert torch.all(weights[:, ids.size(1)] == 0)  # the first token has no bigram


def test_encoder_refuses_to_run_before_counting_and_names_bad_weighting() -> None:
    encoder = BagOfNgramsEncoder(VOCAB, embedding_size=8, weighting="tfidf")
    assert encoder.needs_fit
    ids, mask = padded(DOCUMENTS)
    with pytest.raises(RuntimeError, match="call fit"):
        encoder(ids, mask)
    encoder.fit(DOCUMENTS)
    assert not encoder.needs_fit
    assert encoder(ids, mask).shape == (len(DOCUMENTS), ids.size(1), 8)
    with pytest.raises(ValueError, match="none, tfidf"):
        BagOfNgramsEncoder(VOCAB, embedding_size=8, weighting="bm25")
    with pytest.raises(ValueError, match="got none"):
        TfIdfWeights(VOCAB).fit([])


def test_rare_words_outweigh_frequent_ones() -> None:
    weights = TfIdfWeights(VOCAB)
    weights.fit(torch.tensor(document) for document in [[1, 2], [1, 3], [1, 4], [1, 5]])
    w = weights(torch.tensor([[1, 2]]), torch.ones(1, 2, dtype=torch.long))[0]
    assert w[1] > w[0]  # token 2 occurs in one document of four, token 1 in all of them

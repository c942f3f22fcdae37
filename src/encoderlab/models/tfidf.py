"""TF-IDF weights per position, so a bag-of-n-grams encoder pools like a TF-IDF vector instead of a plain mean.

A document's feature `f` gets `(1 + log tf_f) * idf_f`, L2-normalised over the document's distinct features
(scikit-learn's `TfidfVectorizer(sublinear_tf=True)`, smooth idf). Each of the `tf_f` positions holding `f` carries
`1 / tf_f` of it, so summing over positions gives the TF-IDF vector back. Document frequencies are counted once on the
training set (`fit`; features unseen there get no weight) and live in buffers, so checkpoints and exports carry them.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class TfIdfWeights(nn.Module):
    """`forward(features [B, F], mask [B, F]) -> weights [B, F]`; features index `num_features` ids."""

    document_frequency: torch.Tensor
    num_documents: torch.Tensor

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features
        self.register_buffer("document_frequency", torch.zeros(num_features))
        self.register_buffer("num_documents", torch.zeros((), dtype=torch.long))

    @property
    def fitted(self) -> bool:
        return bool(self.num_documents > 0)

    @torch.no_grad()
    def fit(self, documents: Iterable[torch.Tensor]) -> None:
        """Count, over the training documents (1-D id tensors), in how many documents each feature occurs."""
        frequency = torch.zeros(self.num_features, dtype=torch.float64)
        count = 0
        for features in documents:
            frequency[torch.unique(features.flatten())] += 1
            count += 1
        if count == 0:
            raise ValueError("TF-IDF weighting needs training documents to count, and got none")
        self.document_frequency.copy_(frequency.to(self.document_frequency.dtype))
        self.num_documents.fill_(count)

    def idf(self) -> torch.Tensor:
        """Smooth idf; 0 for a feature no training document has, whose embedding never trained (sklearn drops it)."""
        n = self.num_documents.to(self.document_frequency.dtype)
        idf = torch.log((1 + n) / (1 + self.document_frequency)) + 1
        return idf * (self.document_frequency > 0)

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if not self.fitted:
            raise RuntimeError("TF-IDF weights are not fitted: call fit() with the training documents first")
        mask = mask.to(self.document_frequency.dtype)
        counts = torch.zeros(features.size(0), self.num_features, dtype=mask.dtype, device=features.device)
        term_frequency = counts.scatter_add(1, features, mask).gather(1, features).clamp(min=1)
        raw = (1 + torch.log(term_frequency)) * self.idf()[features] * mask
        # every distinct feature appears tf times, so summing raw^2 / tf over positions counts each once
        norm = ((raw**2) / term_frequency).sum(1, keepdim=True).sqrt().clamp(min=1e-12)
        return raw / term_frequency / norm

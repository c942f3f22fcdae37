"""Bag-of-n-grams encoder: fastText (Joulin et al. 2017) in the encoder contract.

Each position is its token's embedding plus, optionally, a hashed embedding of the bigram ending there; there is no
context mixing at all. With mean pooling and a linear head this is fastText's classifier: a strong, very fast floor
for topic classification, where word identity matters more than word order.

With `weighting="tfidf"` each position is scaled by its n-gram's share of the document's TF-IDF vector
(`encoderlab.models.tfidf`), so sum pooling gives a learned projection of TF-IDF features: rare, topical words count
for more than frequent ones, which a plain mean cannot do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from encoderlab.models.contract import Capabilities, SingleTokenTable
from encoderlab.models.dropout import Dropout
from encoderlab.models.tfidf import TfIdfWeights

WEIGHTING_CHOICES = ("none", "tfidf")

_HASH_MULTIPLIER = 1_000_003  # a prime, so (previous, current) pairs spread over the buckets


@dataclass(frozen=True)
class BagConfig:
    """`BagOfNgramsEncoder`'s settings."""

    vocab_size: int
    embedding_size: int = 100
    bigram_buckets: int = 0  # hashed bigram embeddings; 0: tokens only
    dropout: float = 0.0
    pad_id: int = 0
    weighting: str = "none"  # one of `WEIGHTING_CHOICES`


class BagOfNgramsEncoder(SingleTokenTable, nn.Module):
    """`forward(input_ids, attention_mask) -> [B, T, H]`: token (+ bigram) embeddings, no attention, no recurrence.
    Satisfies `models.contract.Encoder`; with TF-IDF weighting its positions are shares of the document's TF-IDF
    vector (no per-token states) and `fit` counts the document frequencies."""

    capabilities = Capabilities()
    embedding_size_key = "embedding_size"
    token_table = "token_embeddings"  # the hashed bigrams keep training when the (word-vector) tokens are frozen
    config_class = BagConfig

    def __init__(self, vocab_size: int, **settings: Any) -> None:
        """`settings`: the fields of `BagConfig` (what `model.encoder.*` sets)."""
        super().__init__()
        cfg = BagConfig(vocab_size, **settings)
        if cfg.weighting not in WEIGHTING_CHOICES:
            raise ValueError(f"unknown weighting {cfg.weighting!r}; choose one of {', '.join(WEIGHTING_CHOICES)}")
        self.token_embeddings = nn.Embedding(vocab_size, cfg.embedding_size, padding_idx=cfg.pad_id)
        bigrams = cfg.bigram_buckets
        self.bigram_embeddings = nn.Embedding(bigrams, cfg.embedding_size) if bigrams > 0 else None
        self.dropout = Dropout(cfg.dropout)
        self.embedding_size = cfg.embedding_size
        self.pad_id = cfg.pad_id
        self.tfidf = TfIdfWeights(vocab_size + cfg.bigram_buckets) if cfg.weighting == "tfidf" else None
        if self.tfidf is not None:
            self.capabilities = replace(type(self).capabilities, per_token_states=False)
        nn.init.normal_(self.token_embeddings.weight, std=cfg.embedding_size**-0.5)
        self.token_embeddings.weight.data[cfg.pad_id].zero_()
        if self.bigram_embeddings is not None:
            nn.init.normal_(self.bigram_embeddings.weight, std=cfg.embedding_size**-0.5)

    @property
    def hidden_size(self) -> int:
        return self.embedding_size

    @property
    def needs_fit(self) -> bool:
        return self.tfidf is not None and not self.tfidf.fitted

    def fit(self, train_token_ids: Iterable[Sequence[int]]) -> None:
        """Count n-gram document frequencies over the training texts (token id lists); TF-IDF weighting needs them,
        plain bags count nothing."""
        if self.tfidf is None:
            return

        def present_features(ids: Sequence[int]) -> torch.Tensor:
            tokens = torch.tensor(list(ids), dtype=torch.long).unsqueeze(0)
            features, feature_mask = self._features(tokens, torch.ones_like(tokens, dtype=torch.bool))
            return features[feature_mask]

        self.tfidf.fit(present_features(ids) for ids in train_token_ids)

    @staticmethod
    def _bigram_buckets(input_ids: torch.Tensor, buckets: int) -> torch.Tensor:
        """The hashed bucket of the bigram ending at each position (position 0 has none; its value is unused)."""
        previous = torch.nn.functional.pad(input_ids[:, :-1], (1, 0))
        return (previous * _HASH_MULTIPLIER + input_ids) % buckets

    def _features(self, input_ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """TF-IDF feature ids and where they are present: `[B, T]` tokens, or `[B, 2T]` tokens then bigrams (offset
        by the vocabulary size; the first position has no bigram)."""
        if self.bigram_embeddings is None:
            return input_ids, mask
        bigram_mask = mask.clone()
        bigram_mask[:, 0] = False
        buckets = self._bigram_buckets(input_ids, self.bigram_embeddings.num_embeddings)
        features = torch.cat([input_ids, self.token_embeddings.num_embeddings + buckets], 1)
        return features, torch.cat([mask, bigram_mask], dim=1)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = self.token_embeddings(input_ids)
        mask = (input_ids != self.pad_id) if attention_mask is None else attention_mask.bool()
        features, feature_mask = self._features(input_ids, mask)
        # a pad position's output is never read (pooling masks it); the first token has no bigram
        weights = feature_mask.to(x.dtype) if self.tfidf is None else self.tfidf(features, feature_mask)
        length = input_ids.shape[1]
        if self.tfidf is not None:
            x = x * weights[:, :length].unsqueeze(-1)
        if self.bigram_embeddings is not None:
            buckets = features[:, length:] - self.token_embeddings.num_embeddings
            x = x + self.bigram_embeddings(buckets) * weights[:, length:].unsqueeze(-1)
        return self.dropout(x)

"""Bag-of-n-grams encoder: fastText (Joulin et al. 2017) in the encoder contract.

Each position is its token's embedding plus, optionally, a hashed embedding of the bigram ending there; there is no
context mixing at all. With mean pooling and a linear head this is fastText's classifier: a strong, very fast floor
for topic classification, where word identity matters more than word order.
"""

from __future__ import annotations

import torch
from torch import nn

_HASH_MULTIPLIER = 1_000_003  # a prime, so (previous, current) pairs spread over the buckets


class BagOfNgramsEncoder(nn.Module):
    """`forward(input_ids, attention_mask) -> [B, T, H]`: token (+ bigram) embeddings, no attention, no recurrence."""

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int = 100,
        bigram_buckets: int = 0,
        dropout: float = 0.0,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.token_embeddings = nn.Embedding(vocab_size, embedding_size, padding_idx=pad_id)
        self.bigram_embeddings = nn.Embedding(bigram_buckets, embedding_size) if bigram_buckets > 0 else None
        self.dropout = nn.Dropout(dropout)
        self.embedding_size = embedding_size
        nn.init.normal_(self.token_embeddings.weight, std=embedding_size**-0.5)
        self.token_embeddings.weight.data[pad_id].zero_()
        if self.bigram_embeddings is not None:
            nn.init.normal_(self.bigram_embeddings.weight, std=embedding_size**-0.5)

    @property
    def hidden_size(self) -> int:
        return self.embedding_size

    @property
    def input_embeddings(self) -> nn.Embedding:
        return self.token_embeddings

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = self.token_embeddings(input_ids)
        if self.bigram_embeddings is not None:
            previous = torch.nn.functional.pad(input_ids[:, :-1], (1, 0))
            buckets = (previous * _HASH_MULTIPLIER + input_ids) % self.bigram_embeddings.num_embeddings
            # the first token has no bigram; a pad position's output is never read (pooling masks it)
            has_previous = torch.ones_like(input_ids, dtype=x.dtype)
            has_previous[:, 0] = 0
            x = x + self.bigram_embeddings(buckets) * has_previous.unsqueeze(-1)
        return self.dropout(x)

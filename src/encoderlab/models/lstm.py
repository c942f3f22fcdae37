"""(Bi)LSTM encoder over packed sequences, so padding never reaches the recurrence."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class LSTMEncoder(nn.Module):
    """`forward(input_ids, attention_mask) -> hidden [B, T, H]`, `H = hidden_size * (2 if bidirectional)`.

    Outputs at padded positions are zero. Padding must be on the right (as the collators produce).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int = 300,
        hidden_size: int = 300,
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.3,
        embedding_dropout: float = 0.3,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_size, padding_idx=pad_id)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.lstm = nn.LSTM(
            embedding_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.output_dropout = nn.Dropout(dropout)
        self._hidden_size = hidden_size * (2 if bidirectional else 1)
        nn.init.normal_(self.embeddings.weight, std=0.1)
        self.embeddings.weight.data[pad_id].zero_()

    @property
    def hidden_size(self) -> int:
        return self._hidden_size

    @property
    def input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,  # accepted for a uniform encoder signature; unused
    ) -> torch.Tensor:
        length = input_ids.shape[1]
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        lengths = attention_mask.sum(dim=1).clamp(min=1).cpu()
        x = self.embedding_dropout(self.embeddings(input_ids))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        hidden, _ = pad_packed_sequence(output, batch_first=True, total_length=length)
        return self.output_dropout(hidden)

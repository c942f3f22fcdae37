"""(Bi)LSTM encoder over right-padded batches (padding never reaches a real position: `recurrent.py`); attention
decoder for seq2seq."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from encoderlab.models.attention import AdditiveAttention
from encoderlab.models.contract import Capabilities, NothingToFit, SingleTokenTable
from encoderlab.models.dropout import Dropout
from encoderlab.models.recurrent import padded_recurrence


@dataclass(frozen=True)
class LSTMConfig:
    """`LSTMEncoder`'s settings."""

    vocab_size: int
    embedding_size: int = 300
    hidden_size: int = 300  # per direction
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3  # between stacked layers and on the outputs
    embedding_dropout: float = 0.3  # on the token embeddings (and the features joined to them)
    pad_id: int = 0
    feature_size: int = 0  # width of the per-token input features concatenated to the embeddings; 0: none


class LSTMEncoder(SingleTokenTable, NothingToFit, nn.Module):
    """`forward(input_ids, attention_mask) -> hidden [B, T, H]`, `H = hidden_size * (2 if bidirectional)`.

    Outputs at padded positions are zero. Padding must be on the right (as the collators produce). Satisfies
    `models.contract.Encoder`; its stacked `nn.LSTM` is one module, so it has no layers to freeze one by one.
    Built with `feature_size=F`, it reads per-token `features [B, T, F]` (character features) concatenated to the
    token embeddings, the two dropped out together, as in Lample et al. 2016.
    """

    capabilities = Capabilities(input_features="concat")
    embedding_size_key = "embedding_size"
    token_table = "embeddings"
    config_class = LSTMConfig

    def __init__(self, vocab_size: int, **settings: Any) -> None:
        """`settings`: the fields of `LSTMConfig` (what `model.encoder.*` sets)."""
        super().__init__()
        cfg = LSTMConfig(vocab_size, **settings)
        self.embeddings = nn.Embedding(vocab_size, cfg.embedding_size, padding_idx=cfg.pad_id)
        self.embedding_dropout = Dropout(cfg.embedding_dropout)
        self.feature_size = cfg.feature_size
        self.lstm = nn.LSTM(
            cfg.embedding_size + cfg.feature_size,
            cfg.hidden_size,
            num_layers=cfg.num_layers,
            bidirectional=cfg.bidirectional,
            batch_first=True,
            dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
        )
        self.output_dropout = Dropout(cfg.dropout)
        self._hidden_size = cfg.hidden_size * (2 if cfg.bidirectional else 1)
        nn.init.normal_(self.embeddings.weight, std=0.1)
        self.embeddings.weight.data[cfg.pad_id].zero_()

    @property
    def hidden_size(self) -> int:
        return self._hidden_size

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,  # accepted for a uniform encoder signature; unused
        features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        lengths = attention_mask.sum(dim=1).clamp(min=1)
        x = self.embeddings(input_ids)
        if (features is None) != (self.feature_size == 0):
            raise ValueError(
                f"this LSTMEncoder was built with feature_size={self.feature_size}, "
                f"so it needs {'no features' if self.feature_size == 0 else 'features'} in forward"
            )
        if features is not None:
            x = torch.cat([x, features.to(x.dtype)], dim=-1)
        x = self.embedding_dropout(x)
        return self.output_dropout(padded_recurrence(self.lstm, x, lengths))


ATTENTION_CHOICES = ("additive", "dot", "general")


class LSTMAttentionDecoder(nn.Module):
    """LSTM decoder attending over the encoder's outputs (`memory`), one target step at a time.

    - `additive` (Bahdanau et al. 2015): the previous top hidden state queries the memory; the context joins the
      embedded input token in the LSTM's input.
    - `dot` / `general` (Luong et al. 2015): the new top hidden state queries the memory (`h^T m` / `h^T W m`); the
      previous step's attentional vector is fed back as input ("input feeding").

    Each step outputs an attentional vector `tanh(W [h_t; c_t])` of `embedding_size`, so the output projection can be
    tied to the target embeddings. The initial state is a projection of the mean of the memory over real positions.
    State is a dict of batch-first tensors, so beam search can reorder it row by row.
    """

    def __init__(
        self,
        vocab_size: int,
        memory_size: int,
        embedding_size: int = 256,
        hidden_size: int = 512,
        num_layers: int = 1,
        attention: str = "additive",
        dropout: float = 0.3,
        embedding_dropout: float = 0.3,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        if attention not in ATTENTION_CHOICES:
            raise ValueError(f"unknown attention {attention!r}; choose one of {', '.join(ATTENTION_CHOICES)}")
        if attention == "dot" and memory_size != hidden_size:
            raise ValueError(
                f"dot attention needs memory_size == hidden_size (got {memory_size} and {hidden_size}); "
                "use attention=general"
            )
        self.attention_type = attention
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.embedding_size = embedding_size
        self.embeddings = nn.Embedding(vocab_size, embedding_size, padding_idx=pad_id)
        self.embedding_dropout = Dropout(embedding_dropout)
        self.bridge = nn.Linear(memory_size, 2 * num_layers * hidden_size)
        if attention == "additive":
            self.attention = AdditiveAttention(memory_size, hidden_size, query_size=hidden_size)
            input_size = embedding_size + memory_size
        else:
            self.key_proj = nn.Linear(memory_size, hidden_size, bias=False) if attention == "general" else None
            input_size = 2 * embedding_size
        self.lstm = nn.LSTM(
            input_size, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )
        self.combine = nn.Linear(hidden_size + memory_size, embedding_size)
        self.output_dropout = Dropout(dropout)
        nn.init.normal_(self.embeddings.weight, std=0.1)
        self.embeddings.weight.data[pad_id].zero_()

    @property
    def input_embeddings(self) -> nn.Embedding:
        return self.embeddings

    def init_state(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = memory_mask.unsqueeze(-1).to(memory.dtype)
        mean = (memory * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        h, c = torch.tanh(self.bridge(mean)).view(-1, 2, self.num_layers, self.hidden_size).unbind(1)
        if self.attention_type == "additive":
            keys = self.attention.project_keys(memory)
        else:
            keys = memory if self.key_proj is None else self.key_proj(memory)
        feed = memory.new_zeros(memory.shape[0], self.embedding_size)
        return {"h": h, "c": c, "keys": keys, "feed": feed}

    def _attend_luong(
        self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor
    ) -> torch.Tensor:
        scores = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)
        scores = scores.masked_fill(~memory_mask.bool(), torch.finfo(scores.dtype).min)
        return torch.bmm(torch.softmax(scores, dim=-1).unsqueeze(1), memory).squeeze(1)

    def step(
        self,
        tokens: torch.Tensor,
        state: dict[str, torch.Tensor],
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """`tokens [B]` (the previous target token) -> `(attentional vector [B, embedding_size], new state)`."""
        embedded = self.embedding_dropout(self.embeddings(tokens))
        h, c = state["h"], state["c"]
        if self.attention_type == "additive":
            context, _ = self.attention.attend(memory, state["keys"], memory_mask, query=h[:, -1])
            rnn_input = torch.cat([embedded, context], dim=-1)
        else:
            rnn_input = torch.cat([embedded, state["feed"]], dim=-1)
        output, (h, c) = self.lstm(
            rnn_input.unsqueeze(1), (h.transpose(0, 1).contiguous(), c.transpose(0, 1).contiguous())
        )
        top = output[:, 0]
        if self.attention_type != "additive":
            context = self._attend_luong(top, state["keys"], memory, memory_mask)
        attentional = self.output_dropout(torch.tanh(self.combine(torch.cat([top, context], dim=-1))))
        new_state = {"h": h.transpose(0, 1), "c": c.transpose(0, 1), "keys": state["keys"], "feed": attentional}
        return attentional, new_state

    def forward(self, tgt_ids: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: `tgt_ids [B, T]` -> attentional vectors `[B, T, embedding_size]`."""
        state = self.init_state(memory, memory_mask)
        outputs = []
        for t in range(tgt_ids.shape[1]):
            output, state = self.step(tgt_ids[:, t], state, memory, memory_mask)
            outputs.append(output)
        return torch.stack(outputs, dim=1)

"""Encoder-decoder models for translation: `forward(src_ids, src_mask, tgt_in_ids) -> logits [B, T, V]` and
`generate(src_ids, src_mask, max_len, beam_size, length_penalty) -> ids [B, L]`.

Each model implements the decoding interface the search functions use: `encode`, `init_state`, `step`.
Source and target share one (joint) vocabulary; the output projection is tied to the target embeddings.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from encoderlab.models.attention import reorder_cache
from encoderlab.models.generation import beam_search, greedy_search
from encoderlab.models.lstm import LSTMAttentionDecoder, LSTMEncoder
from encoderlab.models.transformer import TransformerDecoder, TransformerEncoder


class Seq2SeqModel(nn.Module):
    """The shared part: teacher-forced `forward`, tied output projection and `generate`."""

    pad_id: int
    bos_id: int
    eos_id: int
    max_target_length: int | None = None  # longest target (with BOS) the decoder can take; None: unbounded

    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def init_state(self, memory: torch.Tensor, src_mask: torch.Tensor) -> Any:
        raise NotImplementedError

    def step(
        self, tokens: torch.Tensor, state: Any, memory: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, Any]:
        """The previous token of every row `[B]` -> `(next-token logits [B, V], new state)`."""
        raise NotImplementedError

    def reorder_state(self, state: Any, indices: torch.Tensor) -> Any:
        """Rows `indices` of the state (beam search). Beams only ever move within their own sentence, so parts that
        depend on the source alone (projected encoder memory) may be returned as they are."""
        return reorder_cache(state, indices)

    def decode(self, tgt_in_ids: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def output_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.target_embeddings.weight, self.output_bias)

    @property
    def target_embeddings(self) -> nn.Embedding:
        raise NotImplementedError

    def forward(self, src_ids: torch.Tensor, src_mask: torch.Tensor, tgt_in_ids: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in_ids, self.encode(src_ids, src_mask), src_mask)

    @torch.no_grad()
    def generate(
        self,
        src_ids: torch.Tensor,
        src_mask: torch.Tensor,
        max_len: int = 128,
        beam_size: int = 1,
        length_penalty: float = 1.0,
    ) -> torch.Tensor:
        """Greedy (`beam_size=1`) or beam search; `[B, L]` ids without BOS, padded after EOS."""
        if self.max_target_length is not None:
            max_len = min(max_len, self.max_target_length - 1)
        if beam_size <= 1:
            return greedy_search(self, src_ids, src_mask, max_len)
        return beam_search(self, src_ids, src_mask, max_len, beam_size, length_penalty)


class TransformerSeq2Seq(Seq2SeqModel):
    """The project's Transformer encoder + a Transformer decoder of the same width (Vaswani et al. 2017)."""

    def __init__(
        self,
        vocab_size: int,
        pad_id: int,
        bos_id: int,
        eos_id: int,
        hidden_size: int = 256,
        encoder_layers: int = 3,
        decoder_layers: int = 3,
        num_heads: int = 8,
        intermediate_size: int | None = None,
        max_position: int = 256,
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        norm_first: bool = True,
        share_embeddings: bool = True,
    ) -> None:
        super().__init__()
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id
        self.max_target_length = max_position
        shape = {
            "hidden_size": hidden_size,
            "num_heads": num_heads,
            "intermediate_size": intermediate_size,
            "max_position": max_position,
            "dropout": dropout,
            "attention_dropout": attention_dropout,
            "norm_first": norm_first,
            "pad_id": pad_id,
        }
        self.encoder = TransformerEncoder(vocab_size, num_layers=encoder_layers, **shape)
        self.decoder = TransformerDecoder(vocab_size, num_layers=decoder_layers, **shape)
        if share_embeddings:
            self.decoder.embeddings.word_embeddings = self.encoder.get_input_embeddings()
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))

    @property
    def target_embeddings(self) -> nn.Embedding:
        return self.decoder.input_embeddings

    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(src_ids, src_mask)

    def decode(self, tgt_in_ids: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return self.output_logits(self.decoder(tgt_in_ids, memory, src_mask))

    def init_state(self, memory: torch.Tensor, src_mask: torch.Tensor) -> list[dict[str, dict[str, torch.Tensor]]]:
        return self.decoder.init_cache()

    def reorder_state(self, state: list, indices: torch.Tensor) -> list:
        return [{"self": reorder_cache(layer["self"], indices), "cross": layer["cross"]} for layer in state]

    def step(
        self, tokens: torch.Tensor, state: list, memory: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, list]:
        hidden = self.decoder(tokens.unsqueeze(1), memory, src_mask, cache=state)
        return self.output_logits(hidden[:, -1]), state


class LSTMSeq2Seq(Seq2SeqModel):
    """(Bi)LSTM encoder + LSTM decoder with additive (Bahdanau) or Luong (dot/general) attention."""

    def __init__(
        self,
        vocab_size: int,
        pad_id: int,
        bos_id: int,
        eos_id: int,
        embedding_size: int = 256,
        hidden_size: int = 256,
        encoder_layers: int = 1,
        bidirectional: bool = True,
        decoder_hidden_size: int = 512,
        decoder_layers: int = 1,
        attention: str = "additive",
        dropout: float = 0.3,
        embedding_dropout: float = 0.3,
        share_embeddings: bool = True,
    ) -> None:
        super().__init__()
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id
        self.encoder = LSTMEncoder(
            vocab_size, embedding_size, hidden_size, encoder_layers, bidirectional, dropout, embedding_dropout, pad_id
        )
        self.decoder = LSTMAttentionDecoder(
            vocab_size,
            memory_size=self.encoder.hidden_size,
            embedding_size=embedding_size,
            hidden_size=decoder_hidden_size,
            num_layers=decoder_layers,
            attention=attention,
            dropout=dropout,
            embedding_dropout=embedding_dropout,
            pad_id=pad_id,
        )
        if share_embeddings:
            self.decoder.embeddings = self.encoder.get_input_embeddings()
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))

    @property
    def target_embeddings(self) -> nn.Embedding:
        return self.decoder.input_embeddings

    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(src_ids, src_mask)

    def decode(self, tgt_in_ids: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return self.output_logits(self.decoder(tgt_in_ids, memory, src_mask))

    def init_state(self, memory: torch.Tensor, src_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.decoder.init_state(memory, src_mask)

    def reorder_state(self, state: dict[str, torch.Tensor], indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {key: value if key == "keys" else value.index_select(0, indices) for key, value in state.items()}

    def step(
        self, tokens: torch.Tensor, state: dict[str, torch.Tensor], memory: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        output, state = self.decoder.step(tokens, state, memory, src_mask)
        return self.output_logits(output), state

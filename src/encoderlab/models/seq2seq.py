"""Encoder-decoder models for translation: `forward(src_ids, src_mask, tgt_in_ids) -> logits [B, T, V]` and
`generate(src_ids, src_mask, max_len, beam_size, length_penalty) -> ids [B, L]`.

Each model implements the decoding interface the search functions use: `encode`, `init_state`, `step`.
Source and target share one (joint) vocabulary; the output projection is tied to the target embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from encoderlab.models.attention import reorder_cache
from encoderlab.models.contract import Encoder
from encoderlab.models.generation import beam_search, greedy_search
from encoderlab.models.lstm import LSTMAttentionDecoder, LSTMEncoder
from encoderlab.models.transformer import DecoderCache, TransformerConfig, TransformerDecoder, TransformerEncoder
from encoderlab.models.vocabulary import Vocabulary


class Seq2SeqModel(nn.Module):
    """The shared part: an `encoder` and a `decoder` (target tokens + memory -> hidden states), teacher-forced
    `forward`, the output projection tied to the decoder's input embeddings, and `generate`."""

    pad_id: int
    bos_id: int
    eos_id: int
    max_target_length: int | None = None  # longest target (with BOS) the decoder can take; None: unbounded
    encoder: Encoder
    decoder: TransformerDecoder | LSTMAttentionDecoder
    output_bias: nn.Parameter

    def __init__(self, vocabulary: Vocabulary) -> None:
        super().__init__()
        self.pad_id = vocabulary.pad_id
        self.bos_id, self.eos_id = vocabulary.sequence_ids()

    def encode(self, src_ids: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(src_ids, src_mask)

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
        return self.output_logits(self.decoder(tgt_in_ids, memory, src_mask))

    def output_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.target_embeddings.weight, self.output_bias)

    @property
    def target_embeddings(self) -> nn.Embedding:
        return self.decoder.input_embeddings

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


# Where a seq2seq model's shape differs from a lone encoder's (`TransformerConfig`): smaller, and pre-LN
SEQ2SEQ_DEFAULTS: dict[str, Any] = {"hidden_size": 256, "max_position": 256, "norm_first": True}


class TransformerSeq2Seq(Seq2SeqModel):
    """The project's Transformer encoder + a Transformer decoder of the same width (Vaswani et al. 2017)."""

    encoder: TransformerEncoder
    decoder: TransformerDecoder

    def __init__(
        self,
        vocabulary: Vocabulary,
        encoder_layers: int = 3,
        decoder_layers: int = 3,
        share_embeddings: bool = True,
        **settings: Any,
    ) -> None:
        """`settings`: the `TransformerConfig` fields that encoder and decoder share (`hidden_size`, `num_heads`,
        `dropout`, ...), over `SEQ2SEQ_DEFAULTS`; the depths are `encoder_layers` and `decoder_layers`."""
        if "num_layers" in settings:
            raise TypeError("TransformerSeq2Seq takes encoder_layers and decoder_layers, not num_layers")
        super().__init__(vocabulary)
        shape = TransformerConfig(vocabulary.size, pad_id=vocabulary.pad_id, **{**SEQ2SEQ_DEFAULTS, **settings})
        self.max_target_length = shape.max_position
        self.encoder = TransformerEncoder.from_config(replace(shape, num_layers=encoder_layers))
        self.decoder = TransformerDecoder.from_config(replace(shape, num_layers=decoder_layers))
        if share_embeddings:
            self.decoder.embeddings.word_embeddings = self.encoder.get_input_embeddings()
        self.output_bias = nn.Parameter(torch.zeros(vocabulary.size))

    def init_state(self, memory: torch.Tensor, src_mask: torch.Tensor) -> DecoderCache:
        return self.decoder.init_cache()

    def reorder_state(self, state: DecoderCache, indices: torch.Tensor) -> DecoderCache:
        return [{"self": reorder_cache(layer["self"], indices), "cross": layer["cross"]} for layer in state]

    def step(
        self, tokens: torch.Tensor, state: DecoderCache, memory: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, DecoderCache]:
        hidden = self.decoder(tokens.unsqueeze(1), memory, src_mask, cache=state)
        return self.output_logits(hidden[:, -1]), state


@dataclass(frozen=True)
class LSTMSeq2SeqConfig:
    """`LSTMSeq2Seq`'s settings (what `model.net.*` sets)."""

    embedding_size: int = 256
    hidden_size: int = 256  # per direction
    encoder_layers: int = 1
    bidirectional: bool = True
    decoder_hidden_size: int = 512
    decoder_layers: int = 1
    attention: str = "additive"  # additive | dot | general
    dropout: float = 0.3
    embedding_dropout: float = 0.3
    share_embeddings: bool = True


class LSTMSeq2Seq(Seq2SeqModel):
    """(Bi)LSTM encoder + LSTM decoder with additive (Bahdanau) or Luong (dot/general) attention."""

    encoder: LSTMEncoder
    decoder: LSTMAttentionDecoder
    config_class = LSTMSeq2SeqConfig

    def __init__(self, vocabulary: Vocabulary, **settings: Any) -> None:
        """`settings`: the fields of `LSTMSeq2SeqConfig`."""
        super().__init__(vocabulary)
        cfg = LSTMSeq2SeqConfig(**settings)
        vocab_size, pad_id = vocabulary.size, vocabulary.pad_id
        self.encoder = LSTMEncoder(
            vocab_size,
            embedding_size=cfg.embedding_size,
            hidden_size=cfg.hidden_size,
            num_layers=cfg.encoder_layers,
            bidirectional=cfg.bidirectional,
            dropout=cfg.dropout,
            embedding_dropout=cfg.embedding_dropout,
            pad_id=pad_id,
        )
        memory_size = self.encoder.hidden_size
        self.decoder = LSTMAttentionDecoder(
            vocab_size, memory_size, cfg.embedding_size, cfg.decoder_hidden_size, cfg.decoder_layers, cfg.attention,
            cfg.dropout, cfg.embedding_dropout, pad_id,
        )  # fmt: skip
        if cfg.share_embeddings:
            self.decoder.embeddings = self.encoder.get_input_embeddings()
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))

    def init_state(self, memory: torch.Tensor, src_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.decoder.init_state(memory, src_mask)

    def reorder_state(self, state: dict[str, torch.Tensor], indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {key: value if key == "keys" else value.index_select(0, indices) for key, value in state.items()}

    def step(
        self, tokens: torch.Tensor, state: dict[str, torch.Tensor], memory: torch.Tensor, src_mask: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        output, state = self.decoder.step(tokens, state, memory, src_mask)
        return self.output_logits(output), state

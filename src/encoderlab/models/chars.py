"""Character-level word features for token classification: a word's characters -> one vector per token position.

- `CharCNN` (Ma & Hovy 2016): 30-d character embeddings, dropout, one convolution (30 filters of width 3), max over
  the word's characters.
- `CharLSTM` (Lample et al. 2016): 25-d character embeddings through a BiLSTM (25 per direction); the last forward
  and the first backward states, concatenated.

Both read `char_ids [B, T, C]` (0 pads; a position with no characters, such as `[CLS]` or padding, gets a zero
vector) and return `[B, T, output_size]`. Only positions with characters are computed, each word on its own, so
neither the padding of the sentence nor that of the character axis changes a word's vector.

`CharFeatures` joins them to an encoder's token embeddings the way the encoder declares
(`Capabilities.input_features`): `concat` widens its first layer's input (an LSTM), `add` adds a projection to the
embedding width (a Transformer, whose width is fixed; zero-initialised, so a pretrained encoder starts unchanged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from encoderlab.models.dropout import Dropout
from encoderlab.models.recurrent import padded_recurrence

FEATURE_JOINS = ("concat", "add")


@dataclass(frozen=True)
class CharEncoderConfig:
    """What both character encoders take (what `model.char_encoder.*` sets); each has its own defaults."""

    num_chars: int  # rows of the character vocabulary (pad and unk included)
    embedding_size: int = 30
    dropout: float = 0.0
    max_word_chars: int = 20  # characters kept per word (its first ones); the data module keeps the same
    pad_id: int = 0


@dataclass(frozen=True)
class CharCNNConfig(CharEncoderConfig):
    dropout: float = 0.5
    num_filters: int = 30
    kernel_size: int = 3  # odd: a window centred on each character


@dataclass(frozen=True)
class CharLSTMConfig(CharEncoderConfig):
    embedding_size: int = 25
    hidden_size: int = 25  # per direction


class CharWordEncoder(nn.Module):
    """What both character encoders share: truncation to `max_word_chars`, computing real words only."""

    output_size: int
    config_class: type[CharEncoderConfig] = CharEncoderConfig

    def __init__(self, cfg: CharEncoderConfig) -> None:
        super().__init__()
        self.max_word_chars = cfg.max_word_chars
        self.embeddings = nn.Embedding(cfg.num_chars, cfg.embedding_size, padding_idx=cfg.pad_id)
        bound = math.sqrt(3.0 / cfg.embedding_size)  # Ma & Hovy's uniform initialisation
        nn.init.uniform_(self.embeddings.weight, -bound, bound)
        self.embeddings.weight.data[cfg.pad_id].zero_()
        self.dropout = Dropout(cfg.dropout)
        self.pad_id = cfg.pad_id

    def words(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """`chars [N, C]` of N words with at least one character each -> `[N, output_size]`."""
        raise NotImplementedError

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        char_ids = char_ids[..., : self.max_word_chars]
        flat = char_ids.reshape(-1, char_ids.shape[-1])
        lengths = (flat != self.pad_id).sum(-1)
        real = (lengths > 0).nonzero().squeeze(-1)
        out = flat.new_zeros((flat.shape[0], self.output_size), dtype=self.embeddings.weight.dtype)
        if real.numel():
            out = out.index_copy(0, real, self.words(flat[real], lengths[real]).to(out.dtype))
        return out.view(*char_ids.shape[:-1], self.output_size)


class CharCNN(CharWordEncoder):
    config_class = CharCNNConfig

    def __init__(self, num_chars: int, **settings: Any) -> None:
        """`settings`: the fields of `CharCNNConfig`."""
        cfg = CharCNNConfig(num_chars, **settings)
        super().__init__(cfg)
        if cfg.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (a window centred on each character), got {cfg.kernel_size}")
        # the convolution's own zero padding equals the zero pad embeddings, so a word reads the same padded or not
        self.conv = nn.Conv1d(cfg.embedding_size, cfg.num_filters, cfg.kernel_size, padding=cfg.kernel_size // 2)
        self.output_size = cfg.num_filters

    def words(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.embeddings(chars)) * (chars != self.pad_id).unsqueeze(-1)
        h = self.conv(x.transpose(1, 2))  # [N, F, C]
        real = torch.arange(chars.shape[1], device=chars.device)[None] < lengths[:, None]
        return h.masked_fill(~real[:, None, :], torch.finfo(h.dtype).min).amax(-1)


class CharLSTM(CharWordEncoder):
    config_class = CharLSTMConfig

    def __init__(self, num_chars: int, **settings: Any) -> None:
        """`settings`: the fields of `CharLSTMConfig`."""
        cfg = CharLSTMConfig(num_chars, **settings)
        super().__init__(cfg)
        self.lstm = nn.LSTM(cfg.embedding_size, cfg.hidden_size, batch_first=True, bidirectional=True)
        self.hidden_size = cfg.hidden_size
        self.output_size = 2 * cfg.hidden_size

    def words(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        states = padded_recurrence(self.lstm, self.dropout(self.embeddings(chars)), lengths)  # [N, C, 2H]
        last = states.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, states.shape[-1])).squeeze(1)
        return torch.cat([last[:, : self.hidden_size], states[:, 0, self.hidden_size :]], dim=-1)


class CharFeatures(nn.Module):
    """A character encoder and how its vectors reach the encoder: `concat` hands them over as they are
    (`feature_size = char_encoder.output_size`), `add` projects them to `embedding_size` first."""

    def __init__(self, char_encoder: CharWordEncoder, join: str, embedding_size: int | None = None) -> None:
        super().__init__()
        if join not in FEATURE_JOINS:
            raise ValueError(f"unknown feature join {join!r}; choose one of {', '.join(FEATURE_JOINS)}")
        self.char_encoder = char_encoder
        self.projection: nn.Linear | None = None
        if join == "add":
            if embedding_size is None:
                raise ValueError("join='add' needs the encoder's embedding_size to project to")
            self.projection = nn.Linear(char_encoder.output_size, embedding_size, bias=False)
            nn.init.zeros_(self.projection.weight)

    @property
    def feature_size(self) -> int:
        if self.projection is not None:
            return self.projection.out_features
        return self.char_encoder.output_size

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        features = self.char_encoder(char_ids)
        return features if self.projection is None else self.projection(features)

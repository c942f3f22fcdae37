"""The peers, built to the same size as ours: HF `BertForMaskedLM` / `BertForSequenceClassification` (attention
`sdpa`), a seq2seq model around `torch.nn.Transformer`, and a classifier around a raw (cuDNN) `nn.LSTM`."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from encoderlab.models.lstm import LSTMEncoder


def hf_bert_config(encoder: dict[str, Any], vocab_size: int, num_labels: int = 2) -> Any:
    """A `BertConfig` matching one of our encoder configs (`conf/model/bert_*.yaml`'s `encoder` block)."""
    try:
        from transformers import BertConfig
    except ImportError as error:
        raise ImportError("the HF peers need transformers: pip install -e '.[hf]'") from error
    hidden = encoder["hidden_size"]
    # PretrainedConfig wraps each config's __init__ to take its common settings (num_labels, ...) as **kwargs
    return BertConfig(  # type: ignore[call-arg]
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=encoder["num_layers"],
        num_attention_heads=encoder["num_heads"],
        intermediate_size=encoder.get("intermediate_size") or 4 * hidden,
        max_position_embeddings=encoder.get("max_position", 512),
        hidden_dropout_prob=encoder.get("dropout", 0.1),
        attention_probs_dropout_prob=encoder.get("attention_dropout", 0.1),
        layer_norm_eps=encoder.get("layer_norm_eps", 1e-12),
        num_labels=num_labels,
        attn_implementation="sdpa",
    )


def hf_bert_masked_lm(encoder: dict[str, Any], vocab_size: int) -> nn.Module:
    from transformers import BertForMaskedLM

    return BertForMaskedLM(hf_bert_config(encoder, vocab_size))


def hf_bert_classifier(encoder: dict[str, Any], vocab_size: int, num_labels: int) -> nn.Module:
    from transformers import BertForSequenceClassification

    return BertForSequenceClassification(hf_bert_config(encoder, vocab_size, num_labels))


class TorchTransformerSeq2Seq(nn.Module):
    """`torch.nn.Transformer` with what it leaves out and ours has: shared token embeddings, learned positions, an
    embedding LayerNorm and an output projection tied to the embeddings. `forward` as `Seq2SeqModel.forward`."""

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        encoder_layers: int,
        decoder_layers: int,
        num_heads: int,
        intermediate_size: int | None = None,
        max_position: int = 256,
        dropout: float = 0.1,
        norm_first: bool = True,
        **_: Any,
    ) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, hidden_size)
        self.source_positions = nn.Embedding(max_position, hidden_size)
        self.target_positions = nn.Embedding(max_position, hidden_size)
        self.source_norm = nn.LayerNorm(hidden_size)
        self.target_norm = nn.LayerNorm(hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.transformer = nn.Transformer(
            d_model=hidden_size,
            nhead=num_heads,
            num_encoder_layers=encoder_layers,
            num_decoder_layers=decoder_layers,
            dim_feedforward=intermediate_size or 4 * hidden_size,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=norm_first,
        )
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        # nn.Embedding's N(0, 1) would make the tied output layer's logits huge at the start, its softmax saturate and
        # its gradients denormal (100x slower matmuls on a CPU): start from the same N(0, 0.02) as ours.
        for embedding in (self.embeddings, self.source_positions, self.target_positions):
            nn.init.normal_(embedding.weight, std=0.02)

    def _embed(self, ids: torch.Tensor, positions: nn.Embedding, norm: nn.LayerNorm) -> torch.Tensor:
        steps = torch.arange(ids.shape[1], device=ids.device)
        return self.dropout(norm(self.embeddings(ids) + positions(steps)[None]))

    def forward(self, src_ids: torch.Tensor, src_mask: torch.Tensor, tgt_in_ids: torch.Tensor) -> torch.Tensor:
        padding = ~src_mask.bool()
        causal = nn.Transformer.generate_square_subsequent_mask(tgt_in_ids.shape[1], device=tgt_in_ids.device)
        hidden = self.transformer(
            self._embed(src_ids, self.source_positions, self.source_norm),
            self._embed(tgt_in_ids, self.target_positions, self.target_norm),
            tgt_mask=causal,
            src_key_padding_mask=padding,
            memory_key_padding_mask=padding,
            tgt_is_causal=True,
        )
        return F.linear(hidden, self.embeddings.weight, self.output_bias)


class CudnnLSTMClassifier(nn.Module):
    """Our BiLSTM classifier with `pooling=max` and no dense head (the same modules and parameters), run the way a
    raw `nn.LSTM` is: over the padded batch as it is (cuDNN's kernel, no packing) -> max over real tokens -> linear."""

    def __init__(self, vocab_size: int, num_classes: int, **encoder_settings: Any) -> None:
        super().__init__()
        self.encoder = LSTMEncoder(vocab_size, **encoder_settings)  # its modules; `forward` skips its packing
        self.classifier = nn.Linear(self.encoder.hidden_size, num_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        encoder = self.encoder
        hidden, _ = encoder.lstm(encoder.embedding_dropout(encoder.embeddings(input_ids)))
        hidden = encoder.output_dropout(hidden)
        hidden = hidden.masked_fill(~attention_mask.bool()[..., None], torch.finfo(hidden.dtype).min)
        return self.classifier(hidden.amax(1))

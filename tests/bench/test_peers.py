"""The peers are the same models as ours (sizes match), and the uncached decoding reference decodes the same."""

from __future__ import annotations

import pytest
import torch

from encoderlab.bench import peers
from encoderlab.bench.cases import TINY_BERT, TINY_LSTM, TINY_SEQ2SEQ, model_config
from encoderlab.bench.steps import parameter_count
from encoderlab.bench.uncached import UncachedDecoding
from encoderlab.models.generation import beam_search, greedy_search
from encoderlab.models.heads import SequenceClassifier
from encoderlab.models.lstm import LSTMEncoder
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.seq2seq import TransformerSeq2Seq
from encoderlab.models.transformer import TransformerEncoder
from encoderlab.models.vocabulary import Vocabulary


@pytest.mark.parametrize("encoder", [TINY_BERT, model_config("bert_mini", "encoder")], ids=["tiny", "bert_mini"])
def test_hf_peers_have_exactly_our_parameter_count(encoder: dict) -> None:
    ours_mlm = MaskedLanguageModel(TransformerEncoder(300, **encoder))
    assert parameter_count(peers.hf_bert_masked_lm(encoder, 300)) == parameter_count(ours_mlm)
    ours_classifier = SequenceClassifier(TransformerEncoder(300, **encoder), 3)
    assert parameter_count(peers.hf_bert_classifier(encoder, 300, 3)) == parameter_count(ours_classifier)


def test_hf_peer_uses_sdpa_attention() -> None:
    assert peers.hf_bert_masked_lm(TINY_BERT, 100).config._attn_implementation == "sdpa"


def test_torch_transformer_peer_matches_our_seq2seq_but_for_segment_embeddings() -> None:
    net = model_config("transformer_seq2seq", "net")
    ours = parameter_count(TransformerSeq2Seq(Vocabulary(1000, 0, 1, 2), **net))
    peer = peers.TorchTransformerSeq2Seq(1000, **net)
    # ours carries BERT's two segment-embedding rows in the encoder and in the decoder
    assert parameter_count(peer) + 4 * net["hidden_size"] == ours
    src, mask, tgt = torch.randint(3, 1000, (2, 5)), torch.ones(2, 5, dtype=torch.long), torch.randint(3, 1000, (2, 4))
    mask[1, 3:] = 0
    assert peer(src, mask, tgt).shape == (2, 4, 1000)


def test_cudnn_lstm_peer_matches_our_bilstm_classifier() -> None:
    ours = SequenceClassifier(LSTMEncoder(200, **TINY_LSTM), 2, pooling="max", head_dense=False)
    peer = peers.CudnnLSTMClassifier(200, 2, **TINY_LSTM)
    assert parameter_count(peer) == parameter_count(ours)
    ids, mask = torch.randint(1, 200, (3, 6)), torch.ones(3, 6, dtype=torch.long)
    assert peer(ids, mask).shape == (3, 2)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_uncached_decoding_finds_what_cached_decoding_finds(beam_size: int) -> None:
    torch.manual_seed(0)
    model = TransformerSeq2Seq(
        Vocabulary(40, 0, 1, 2), **{**TINY_SEQ2SEQ, "dropout": 0.0, "attention_dropout": 0.0}
    ).eval()
    src, mask = torch.randint(3, 40, (2, 6)), torch.ones(2, 6, dtype=torch.long)
    mask[0, 4:] = 0
    if beam_size == 1:
        cached, uncached = greedy_search(model, src, mask, 7), greedy_search(UncachedDecoding(model), src, mask, 7)
    else:
        cached = beam_search(model, src, mask, 7, beam_size)
        uncached = beam_search(UncachedDecoding(model), src, mask, 7, beam_size)
    assert cached.shape[1] > 1
    assert torch.equal(cached, uncached)

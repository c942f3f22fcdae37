"""The encoder contract: `[B, T] ids + mask -> [B, T, H]`, and padding never changes real positions; encoders
reading character features (`models/chars.py`) go through the same tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from encoderlab.models import LSTMEncoder, SequenceClassifier, TransformerEncoder
from encoderlab.models.bag import BagOfNgramsEncoder
from encoderlab.models.chars import CharCNN, CharFeatures, CharLSTM
from encoderlab.models.contract import FeatureInputEncoder
from encoderlab.models.heads import POOLING_CHOICES

VOCAB = 50
NUM_CHARS, MAX_CHARS = 12, 6


class WithCharFeatures(nn.Module):
    """An encoder reading character features, called as every encoder here: token id i stands for a word whose
    characters are row i of a fixed table (1 to MAX_CHARS of them; none for the pad id 0), as a vocabulary of
    words would give them."""

    def __init__(self, encoder: FeatureInputEncoder, chars: CharFeatures) -> None:
        super().__init__()
        self.encoder, self.chars = encoder, chars
        self.hidden_size = encoder.hidden_size
        generator = torch.Generator().manual_seed(5)
        table = torch.randint(2, NUM_CHARS, (VOCAB, MAX_CHARS), generator=generator)
        lengths = torch.randint(1, MAX_CHARS + 1, (VOCAB, 1), generator=generator)
        table[torch.arange(MAX_CHARS)[None] >= lengths] = 0
        table[0] = 0
        self.register_buffer("table", table)

    def forward(
        self, ids: torch.Tensor, mask: torch.Tensor | None = None, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.encoder(ids, mask, token_type_ids, features=self.chars(self.table[ids]))


def char_cnn_bilstm() -> WithCharFeatures:
    chars = CharFeatures(CharCNN(NUM_CHARS, embedding_size=8, num_filters=10), "concat")
    return WithCharFeatures(LSTMEncoder(VOCAB, embedding_size=16, hidden_size=24, num_layers=2, feature_size=10), chars)


def char_lstm_lstm() -> WithCharFeatures:
    chars = CharFeatures(CharLSTM(NUM_CHARS, embedding_size=8, hidden_size=6), "concat")
    encoder = LSTMEncoder(VOCAB, embedding_size=16, hidden_size=24, num_layers=2, bidirectional=False, feature_size=12)
    return WithCharFeatures(encoder, chars)


def char_cnn_transformer() -> WithCharFeatures:
    chars = CharFeatures(CharCNN(NUM_CHARS, embedding_size=8, num_filters=10), "add", embedding_size=32)
    assert chars.projection is not None
    nn.init.normal_(chars.projection.weight)  # zero-initialised for training; here the features must count
    return WithCharFeatures(transformer(False), chars)


def transformer(norm_first: bool) -> TransformerEncoder:
    return TransformerEncoder(VOCAB, hidden_size=32, num_layers=2, num_heads=4, norm_first=norm_first)


def fitted_tfidf_bag() -> BagOfNgramsEncoder:
    encoder = BagOfNgramsEncoder(VOCAB, embedding_size=16, bigram_buckets=97, weighting="tfidf")
    documents = torch.randint(1, VOCAB, (20, 12), generator=torch.Generator().manual_seed(3))
    encoder.fit(documents.tolist())
    return encoder


ENCODERS = {
    "transformer_post_ln": lambda: transformer(False),
    "transformer_pre_ln": lambda: transformer(True),
    "lstm": lambda: LSTMEncoder(VOCAB, embedding_size=16, hidden_size=24, num_layers=2, bidirectional=False),
    "bilstm": lambda: LSTMEncoder(VOCAB, embedding_size=16, hidden_size=24, num_layers=2, bidirectional=True),
    "fasttext": lambda: BagOfNgramsEncoder(VOCAB, embedding_size=16, bigram_buckets=97),
    "fasttext_tfidf": fitted_tfidf_bag,
    "bilstm_char_cnn": char_cnn_bilstm,
    "lstm_char_lstm": char_lstm_lstm,
    "transformer_char_cnn": char_cnn_transformer,
}
CHAR_ENCODERS = [name for name in ENCODERS if "_char_" in name]


def padded_batch(sentence: torch.Tensor, pad: int, other_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The sentence right-padded by `pad` tokens, stacked with a longer random sentence."""
    generator = torch.Generator().manual_seed(1)
    other = torch.randint(1, VOCAB, (other_length,), generator=generator)
    length = max(len(sentence) + pad, other_length)
    ids = torch.zeros(2, length, dtype=torch.long)
    mask = torch.zeros(2, length, dtype=torch.long)
    ids[0, : len(sentence)], mask[0, : len(sentence)] = sentence, 1
    ids[1, :other_length], mask[1, :other_length] = other, 1
    return ids, mask


@pytest.mark.parametrize("name", ENCODERS)
def test_output_shape_and_hidden_size(name: str) -> None:
    encoder = ENCODERS[name]().eval()
    ids = torch.randint(1, VOCAB, (3, 9))
    hidden = encoder(ids, torch.ones_like(ids))
    assert hidden.shape == (3, 9, encoder.hidden_size)


@pytest.mark.parametrize("name", ENCODERS)
def test_padding_never_changes_real_positions(name: str) -> None:
    torch.manual_seed(0)
    encoder = ENCODERS[name]().eval()
    sentence = torch.randint(1, VOCAB, (7,))
    alone = encoder(sentence[None], torch.ones(1, 7, dtype=torch.long))[0]
    ids, mask = padded_batch(sentence, pad=6, other_length=11)
    batched = encoder(ids, mask)[0, :7]
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("pooling", POOLING_CHOICES)
@pytest.mark.parametrize("name", ENCODERS)
def test_classifier_logits_padding_invariant(name: str, pooling: str) -> None:
    torch.manual_seed(0)
    model = SequenceClassifier(ENCODERS[name](), num_classes=3, pooling=pooling).eval()
    sentence = torch.randint(1, VOCAB, (5,))
    alone = model(sentence[None], torch.ones(1, 5, dtype=torch.long))
    ids, mask = padded_batch(sentence, pad=9, other_length=8)
    torch.testing.assert_close(model(ids, mask)[:1], alone, atol=1e-5, rtol=0)


def test_padding_would_change_outputs_without_the_mask() -> None:
    # guards the test above against passing trivially: the mask is what keeps padding out
    torch.manual_seed(0)
    encoder = transformer(False).eval()
    sentence = torch.randint(1, VOCAB, (7,))
    alone = encoder(sentence[None], torch.ones(1, 7, dtype=torch.long))[0]
    ids, _ = padded_batch(sentence, pad=6, other_length=11)
    unmasked = encoder(ids, torch.ones_like(ids))[0, :7]
    assert (unmasked - alone).abs().max() > 1e-3


def test_pre_and_post_ln_differ_in_structure() -> None:
    assert transformer(True).final_norm is not None
    assert transformer(False).final_norm is None


def test_sequence_longer_than_max_position_is_a_clear_error() -> None:
    encoder = TransformerEncoder(VOCAB, hidden_size=16, num_layers=1, num_heads=2, max_position=8)
    ids = torch.ones(1, 9, dtype=torch.long)
    with pytest.raises(ValueError, match="exceeds max_position=8"):
        encoder(ids, torch.ones_like(ids))


def test_heads_must_divide_hidden_size() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        TransformerEncoder(VOCAB, hidden_size=30, num_heads=4)


def test_unknown_pooling_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="cls, mean, sum, max, attention"):
        SequenceClassifier(transformer(False), 2, pooling="median")


def test_attention_pooling_weights_are_zero_on_padding() -> None:
    model = SequenceClassifier(ENCODERS["bilstm"](), num_classes=2, pooling="attention").eval()
    ids, mask = padded_batch(torch.randint(1, VOCAB, (4,)), pad=5, other_length=9)
    model(ids, mask)
    weights = model.pooler.last_weights
    assert torch.all(weights[0, 4:] == 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2))


def test_mean_and_max_pooling_ignore_padding_values() -> None:
    from encoderlab.models.heads import Pooler

    hidden = torch.tensor([[[1.0, -1.0], [3.0, -3.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(Pooler(2, "mean")(hidden, mask), torch.tensor([[2.0, -2.0]]))
    torch.testing.assert_close(Pooler(2, "max")(hidden, mask), torch.tensor([[3.0, -1.0]]))
    torch.testing.assert_close(Pooler(2, "cls")(hidden, mask), torch.tensor([[1.0, -1.0]]))


def test_bigrams_make_the_bag_encoder_order_sensitive() -> None:
    torch.manual_seed(0)
    ids = torch.tensor([[5, 6, 7]])
    reordered = torch.tensor([[7, 6, 5]])
    unigrams = BagOfNgramsEncoder(VOCAB, embedding_size=8).eval()
    bigrams = BagOfNgramsEncoder(VOCAB, embedding_size=8, bigram_buckets=97).eval()
    assert torch.allclose(unigrams(ids).mean(1), unigrams(reordered).mean(1), atol=1e-6)
    assert not torch.allclose(bigrams(ids).mean(1), bigrams(reordered).mean(1), atol=1e-4)


@pytest.mark.parametrize("name", CHAR_ENCODERS)
def test_character_features_count_at_real_positions_only(name: str) -> None:
    # guards the padding tests above: the characters reach the outputs, so their padding could have changed them
    torch.manual_seed(0)
    model = ENCODERS[name]().eval()
    ids, mask = padded_batch(torch.randint(1, VOCAB, (7,)), pad=6, other_length=11)
    with torch.no_grad():
        before = model(ids, mask)
        model.table[ids[0, 3]] = torch.tensor([2, 3, 4, 0, 0, 0])  # another spelling of one word of row 0
        after = model(ids, mask)
    assert (after[0, :7] - before[0, :7]).abs().max() > 1e-3

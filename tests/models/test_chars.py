"""Character encoders (`models/chars.py`): a word's characters -> one vector, whatever the padding; and the token
classifier that `build_network` makes with them, from the real model configs."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from omegaconf import OmegaConf

from encoderlab.config import CONF_DIR
from encoderlab.models.build import (
    ModelConfig,
    SequenceClassification,
    TokenClassification,
    Vocabulary,
    build_network,
    max_word_chars,
)
from encoderlab.models.chars import CharCNN, CharFeatures, CharLSTM, CharWordEncoder
from encoderlab.models.heads import TokenClassifier
from encoderlab.models.lstm import LSTMEncoder

NUM_CHARS, VOCAB = 20, 60
CHAR_ENCODERS = {
    "cnn": lambda: CharCNN(NUM_CHARS, embedding_size=8, num_filters=10, max_word_chars=6),
    "lstm": lambda: CharLSTM(NUM_CHARS, embedding_size=8, hidden_size=5, max_word_chars=6),
}


def words(count: int = 5, width: int = 6, seed: int = 0) -> torch.Tensor:
    """`[count, width]` character ids of words of 1..width characters, right-padded with 0."""
    generator = torch.Generator().manual_seed(seed)
    chars = torch.randint(2, NUM_CHARS, (count, width), generator=generator)
    lengths = torch.randint(1, width + 1, (count, 1), generator=generator)
    return chars.masked_fill(torch.arange(width)[None] >= lengths, 0)


@pytest.mark.parametrize("name", CHAR_ENCODERS)
def test_a_words_vector_depends_on_its_characters_only(name: str) -> None:
    torch.manual_seed(0)
    encoder: CharWordEncoder = CHAR_ENCODERS[name]().eval()
    sentence = words()[None]  # [1, 5 tokens, 6 chars]
    alone = encoder(sentence)
    assert alone.shape == (1, 5, encoder.output_size)
    wider = torch.nn.functional.pad(sentence, (0, 4))  # the batch's longest word is longer
    longer = torch.cat([sentence, torch.zeros(1, 3, 6, dtype=torch.long)], dim=1)  # padded positions
    batch = torch.cat([longer, words(8, seed=1)[None]])  # next to another sentence
    torch.testing.assert_close(encoder(wider), alone, atol=1e-6, rtol=0)
    torch.testing.assert_close(encoder(batch)[:1, :5], alone, atol=1e-6, rtol=0)
    assert torch.all(encoder(batch)[0, 5:] == 0), "a position without characters ([CLS], padding) gets zeros"
    respelled = sentence.clone()
    respelled[0, 2, 0] = 1 if respelled[0, 2, 0] != 1 else 2
    changed = encoder(respelled)
    assert (changed[0, 2] - alone[0, 2]).abs().max() > 1e-4
    torch.testing.assert_close(changed[0, [0, 1, 3, 4]], alone[0, [0, 1, 3, 4]], atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", CHAR_ENCODERS)
def test_characters_past_max_word_chars_are_not_read_and_gradients_reach_the_table(name: str) -> None:
    encoder = CHAR_ENCODERS[name]()
    encoder.eval()
    long_words = torch.randint(2, NUM_CHARS, (1, 3, 9))
    cut = long_words.clone()
    cut[..., 6:] = 5
    torch.testing.assert_close(encoder(cut), encoder(long_words))
    encoder.train()
    encoder(long_words).sum().backward()
    grad = encoder.embeddings.weight.grad
    assert grad is not None and grad[2:].abs().sum() > 0 and torch.all(grad[0] == 0), "the pad row never trains"


def test_cnn_is_ma_and_hovy_and_lstm_is_lample_by_default() -> None:
    cnn, lstm = CharCNN(NUM_CHARS), CharLSTM(NUM_CHARS)
    assert (cnn.embeddings.embedding_dim, cnn.conv.out_channels, cnn.conv.kernel_size, cnn.output_size) == (
        30,
        30,
        (3,),
        30,
    )
    assert (lstm.embeddings.embedding_dim, lstm.output_size) == (25, 50)
    assert torch.all(cnn.embeddings.weight[0] == 0) and torch.all(lstm.embeddings.weight[0] == 0)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        CharCNN(NUM_CHARS, kernel_size=4)


def test_added_features_are_projected_to_the_embedding_width_from_zero() -> None:
    features = CharFeatures(CharCNN(NUM_CHARS, embedding_size=8, num_filters=10), "add", embedding_size=32)
    assert features.feature_size == 32
    assert torch.all(features(words()[None]) == 0), "zero-initialised: a pretrained encoder starts unchanged"
    assert CharFeatures(CharCNN(NUM_CHARS, embedding_size=8, num_filters=10), "concat").feature_size == 10
    with pytest.raises(ValueError, match="choose one of concat, add"):
        CharFeatures(CharCNN(NUM_CHARS), "sum")


def model_config(name: str, char_encoder: str | None = "cnn", **encoder: Any) -> ModelConfig:
    """`conf/model/<name>.yaml` (sizes shrunk) with `conf/char_encoder/<char_encoder>.yaml` under it."""
    model = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml"), resolve=True)
    assert isinstance(model, dict)
    model["encoder"] = {**model["encoder"], **encoder}
    if char_encoder is not None:
        model["char_encoder"] = OmegaConf.to_container(
            OmegaConf.load(CONF_DIR / "char_encoder" / f"{char_encoder}.yaml")
        )
    return ModelConfig.from_dict(model)


SMALL = {"bilstm": {"embedding_size": 16, "hidden_size": 16}, "bert_tiny": {"num_layers": 1}}


@pytest.mark.parametrize("char_encoder", ["cnn", "lstm"])
@pytest.mark.parametrize("name", SMALL)
def test_the_token_classifier_with_characters_is_padding_invariant(name: str, char_encoder: str) -> None:
    torch.manual_seed(0)
    config = model_config(name, char_encoder, **SMALL[name])
    net = build_network(config, Vocabulary(VOCAB), TokenClassification(5, num_chars=NUM_CHARS))
    assert isinstance(net, TokenClassifier) and net.chars is not None
    if net.chars.projection is not None:
        torch.nn.init.normal_(net.chars.projection.weight)
    net.eval()
    ids = torch.randint(4, VOCAB, (1, 5))
    chars = words()[None]
    alone = net(ids, torch.ones_like(ids), char_ids=chars)
    padded_ids = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], 1)
    padded_chars = torch.nn.functional.pad(torch.cat([chars, torch.zeros(1, 4, 6, dtype=torch.long)], 1), (0, 3))
    mask = (padded_ids != 0).long()
    torch.testing.assert_close(net(padded_ids, mask, char_ids=padded_chars)[:, :5], alone, atol=1e-5, rtol=0)
    respelled = chars.clone()
    respelled[0, 0, 0] = 1 if respelled[0, 0, 0] != 1 else 2
    assert (net(ids, torch.ones_like(ids), char_ids=respelled) - alone).abs().max() > 1e-4


def test_the_char_features_join_each_encoder_as_it_declares() -> None:
    bilstm = build_network(
        model_config("bilstm", **SMALL["bilstm"]), Vocabulary(VOCAB), TokenClassification(5, num_chars=NUM_CHARS)
    )
    assert isinstance(bilstm.encoder, LSTMEncoder) and bilstm.encoder.lstm.input_size == 16 + 30
    assert bilstm.chars is not None and bilstm.chars.projection is None
    bert = build_network(model_config("bert_tiny"), Vocabulary(VOCAB), TokenClassification(5, num_chars=NUM_CHARS))
    assert bert.chars is not None and bert.chars.projection is not None
    assert bert.chars.projection.out_features == bert.encoder.get_input_embeddings().embedding_dim
    assert max_word_chars(model_config("bilstm")) == 20 and max_word_chars(model_config("bilstm", None)) is None


def test_char_features_need_an_encoder_that_takes_them_and_a_token_task() -> None:
    with pytest.raises(ValueError, match="takes no input features"):
        build_network(model_config("fasttext"), Vocabulary(VOCAB), TokenClassification(5, num_chars=NUM_CHARS))
    with pytest.raises(ValueError, match="character features to token classification"):
        build_network(model_config("bilstm"), Vocabulary(VOCAB), SequenceClassification(2))
    with pytest.raises(ValueError, match="size of the data's character vocabulary"):
        build_network(model_config("bilstm"), Vocabulary(VOCAB), TokenClassification(5))
    net = build_network(
        model_config("bilstm", **SMALL["bilstm"]), Vocabulary(VOCAB), TokenClassification(5, num_chars=NUM_CHARS)
    )
    ids = torch.randint(4, VOCAB, (1, 5))
    with pytest.raises(ValueError, match="pass char_ids"):
        net(ids, torch.ones_like(ids))
    plain = build_network(model_config("bilstm", None), Vocabulary(VOCAB), TokenClassification(5))
    with pytest.raises(ValueError, match="pass no char_ids"):
        plain(ids, torch.ones_like(ids), char_ids=words()[None])

"""`models.build`: the `model:` section read into one typed config, and the network each task output asks for."""

from __future__ import annotations

import pytest
import torch

from encoderlab.models.build import (
    MaskedLM,
    ModelConfig,
    Seq2Seq,
    SequenceClassification,
    TokenClassification,
    Vocabulary,
    build_network,
)
from encoderlab.models.heads import HeadConfig, SequenceClassifier, TokenClassifier
from encoderlab.models.masked_lm import MaskedLanguageModel
from encoderlab.models.seq2seq import TransformerSeq2Seq

TRANSFORMER = {
    "_target_": "encoderlab.models.transformer.TransformerEncoder",
    "hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32, "max_position": 16,
}  # fmt: skip
SEQ2SEQ = {"_target_": "encoderlab.models.seq2seq.TransformerSeq2Seq", "hidden_size": 16, "num_heads": 2}
VOCABULARY = Vocabulary(30, pad_id=0, bos_id=2, eos_id=3)


def test_a_model_section_without_pooling_or_head_gets_the_head_defaults() -> None:
    config = ModelConfig.from_dict({"name": "x", "lr": 1e-3, "encoder": TRANSFORMER})
    assert config.pooling == "cls" and config.head == HeadConfig() == HeadConfig(dropout=0.1, dense=True)
    assert config.net is None


def test_each_output_builds_its_network_from_the_section_it_reads() -> None:
    encoder_config = ModelConfig.from_dict({"encoder": TRANSFORMER, "pooling": "mean", "head": {"dense": False}})
    classifier = build_network(encoder_config, VOCABULARY, SequenceClassification(3))
    assert isinstance(classifier, SequenceClassifier) and classifier.pooler.method == "mean"
    assert isinstance(classifier.head.dense, torch.nn.Identity)
    tagger = build_network(encoder_config, VOCABULARY, TokenClassification(5, crf=True))
    assert isinstance(tagger, TokenClassifier) and tagger.crf is not None
    assert isinstance(build_network(encoder_config, VOCABULARY, MaskedLM(4)), MaskedLanguageModel)
    translator = build_network(ModelConfig.from_dict({"net": SEQ2SEQ}), VOCABULARY, Seq2Seq())
    assert isinstance(translator, TransformerSeq2Seq) and (translator.bos_id, translator.eos_id) == (2, 3)


def test_a_task_reading_a_section_the_model_lacks_says_which() -> None:
    with pytest.raises(ValueError, match=r"model\.net"):
        build_network(ModelConfig.from_dict({"encoder": TRANSFORMER}), VOCABULARY, Seq2Seq())
    with pytest.raises(ValueError, match="bos_id and eos_id"):
        build_network(ModelConfig.from_dict({"net": SEQ2SEQ}), Vocabulary(30), Seq2Seq())


def test_transformer_seq2seq_forwards_one_config_to_encoder_and_decoder() -> None:
    model = TransformerSeq2Seq(VOCABULARY, encoder_layers=2, decoder_layers=1, hidden_size=16, num_heads=2)
    assert (model.encoder.config.num_layers, model.decoder.config.num_layers) == (2, 1)
    for config in (model.encoder.config, model.decoder.config):  # the seq2seq defaults, not a lone encoder's
        assert config.norm_first and config.max_position == 256 and config.intermediate_size == 64
    assert model.max_target_length == 256
    with pytest.raises(TypeError, match="encoder_layers and decoder_layers"):
        TransformerSeq2Seq(VOCABULARY, num_layers=2)

"""ONNX export parity, int8 quantization and pruning, on real nets and a real tiny checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn

from encoderlab.cli.export import main as export_main
from encoderlab.inference.checkpoint import load_task
from encoderlab.inference.compression import prunable_weights, prune_magnitude, quantize_int8, state_dict_bytes
from encoderlab.inference.onnx_export import export_onnx, max_difference, parity_inputs
from encoderlab.inference.predictor import load_predictor
from encoderlab.inference.scorers import onnx_scorer, torch_scorer
from encoderlab.models.bag import BagOfNgramsEncoder
from encoderlab.models.heads import SequenceClassifier, TokenClassifier
from encoderlab.models.lstm import LSTMEncoder
from encoderlab.models.transformer import TransformerEncoder
from tests.inference.conftest import train_checkpoint
from tests.inference.test_predict import NEGATIVE_TEXTS, POSITIVE_TEXTS

VOCAB = 120
LSTM_SIZES = {"embedding_size": 16, "hidden_size": 16}


def transformer() -> TransformerEncoder:
    return TransformerEncoder(VOCAB, hidden_size=32, num_layers=2, num_heads=4, intermediate_size=64, max_position=64)


def tfidf_bag() -> SequenceClassifier:
    encoder = BagOfNgramsEncoder(VOCAB, embedding_size=16, bigram_buckets=101, weighting="tfidf")
    encoder.fit(torch.randint(1, VOCAB, (30, 10), generator=torch.Generator().manual_seed(0)).tolist())
    return SequenceClassifier(encoder, 5, pooling="sum")


NETS = {
    "bilstm_max": lambda: SequenceClassifier(LSTMEncoder(VOCAB, **LSTM_SIZES, num_layers=2), 3, pooling="max"),
    "lstm_attention": lambda: SequenceClassifier(LSTMEncoder(VOCAB, **LSTM_SIZES, bidirectional=False), 2, "attention"),
    "bert_cls": lambda: SequenceClassifier(transformer(), 2, pooling="cls"),
    "bert_tokens": lambda: TokenClassifier(transformer(), 5),
    "fasttext_tfidf_sum": tfidf_bag,
}


@pytest.mark.parametrize("name", NETS)
def test_onnx_runtime_equals_pytorch_within_1e4_for_any_batch_and_length(name: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = NETS[name]().eval()
    path = export_onnx(net, tmp_path / "model.onnx")
    onnx.checker.check_model(str(path))
    assert max_difference(net, path, VOCAB) < 1e-4
    scorer = onnx_scorer(path)
    for batch, length in ((1, 1), (5, 40)):  # shapes unlike the export example (2 x 8)
        input_ids, attention_mask, token_type_ids = parity_inputs(VOCAB, batch, length, seed=batch)
        expected = torch_scorer(net)(input_ids, attention_mask, token_type_ids)  # segment ids: as for text pairs
        actual = scorer(input_ids, attention_mask, token_type_ids)
        assert actual.shape == expected.shape
        single = scorer(input_ids, attention_mask)  # no segment ids: one segment, as torch's default
        torch.testing.assert_close(single, torch_scorer(net)(input_ids, attention_mask), atol=1e-4, rtol=0)
        if expected.dim() == 3:
            keep = attention_mask.bool()
            expected, actual = expected[keep], actual[keep]
        torch.testing.assert_close(actual, expected, atol=1e-4, rtol=0)


def test_onnx_backend_predicts_what_pytorch_predicts(sst2_checkpoint: Path) -> None:
    texts = POSITIVE_TEXTS + NEGATIVE_TEXTS
    reference = load_predictor(sst2_checkpoint, "torch").predict(texts)
    for record, expected in zip(load_predictor(sst2_checkpoint, "onnx").predict(texts), reference, strict=True):
        assert record["label"] == expected["label"]
        for name, probability in expected["probabilities"].items():
            assert record["probabilities"][name] == pytest.approx(probability, abs=1e-4)


@pytest.mark.parametrize("backend", ["int8", "onnx-int8"])
def test_quantized_model_still_predicts(sst2_checkpoint: Path, backend: str) -> None:
    records = load_predictor(sst2_checkpoint, backend).predict(POSITIVE_TEXTS + NEGATIVE_TEXTS)
    assert [r["label"] for r in records] == ["positive", "positive", "negative", "negative"]


def test_int8_quantizes_linear_and_lstm_layers_and_shrinks_them() -> None:
    net = SequenceClassifier(LSTMEncoder(VOCAB, embedding_size=64, hidden_size=64), 2, pooling="max").eval()
    quantized = quantize_int8(net)
    dynamic = torch.ao.nn.quantized.dynamic
    assert isinstance(quantized.encoder.lstm, dynamic.LSTM)
    assert isinstance(quantized.head.classifier, dynamic.Linear)
    assert isinstance(net.encoder.lstm, nn.LSTM), "the original is left as it was"
    assert state_dict_bytes(quantized) < 0.5 * state_dict_bytes(net)


def test_magnitude_pruning_zeros_the_smallest_fraction_of_weights() -> None:
    torch.manual_seed(0)
    net = NETS["bert_cls"]().eval()
    pruned = prune_magnitude(net, 0.4)
    weights = [getattr(module, name) for module, name in prunable_weights(pruned)]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)
    assert zeros == pytest.approx(0.4, abs=1e-3)
    kept = torch.cat([w[w != 0].abs() for w in weights])
    removed = torch.cat(
        [
            orig[new == 0].abs()
            for orig, new in zip([getattr(m, n) for m, n in prunable_weights(net)], weights, strict=True)
        ]
    )
    assert removed.max() <= kept.min(), "only the smallest weights go"
    assert not any(name.endswith("_orig") for name, _ in pruned.named_parameters()), "the masks are baked in"


def test_export_cli_writes_a_self_contained_folder(sst2_checkpoint: Path, tmp_path: Path, capsys) -> None:
    assert export_main([str(sst2_checkpoint), "-o", str(tmp_path / "out"), "--int8"]) == 0
    assert "max |ONNX - PyTorch|" in capsys.readouterr().out
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["label_names"] == ["negative", "positive"] and config["parity_max_abs_diff"] < 1e-4
    for name in ("model.onnx", "model.int8.onnx", "tokenizer.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert export_main([str(sst2_checkpoint), "-o", str(tmp_path / "x"), "--prune", "1.5"]) == 2
    assert "--prune is a fraction" in capsys.readouterr().err


def test_export_hf_writes_the_fine_tuned_encoder_with_lora_merged(
    sst2_checkpoint: Path, tmp_path: Path, tiny_data_dir: Path, cache_dir: Path, capsys
) -> None:
    transformers = pytest.importorskip("transformers")
    overrides = ["model=bert_tiny", "finetune=lora", "trainer.max_epochs=1"]
    checkpoint = train_checkpoint(tmp_path / "run", tiny_data_dir, cache_dir, *overrides)
    assert export_main([str(checkpoint), "-o", str(tmp_path / "out"), "--hf"]) == 0
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert "hf/" in config["files"]

    _, task = load_task(str(checkpoint))
    ours = task.encoder_for_export().eval()
    hf = transformers.BertModel.from_pretrained(str(tmp_path / "out" / "hf")).eval()
    ids = torch.randint(5, task.hparams.vocab_size, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    with torch.no_grad():
        expected = ours(ids, mask)
        actual = hf(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert torch.allclose(actual[real], expected[real], atol=1e-5)

    assert export_main([str(sst2_checkpoint), "-o", str(tmp_path / "x"), "--hf"]) == 2  # a BiLSTM
    assert "holds no Transformer encoder" in capsys.readouterr().err

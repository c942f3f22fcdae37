"""`encoderlab-export --hf` of a tiny fine-tuned BERT: a folder `AutoModel` and `AutoModelForSequenceClassification`
load (logits equal ours), with the labels and a model card filled from the run's summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from encoderlab.cli.export import main as export_main
from encoderlab.inference.checkpoint import load_task
from encoderlab.interop.hf_classifier import write_sequence_classifier
from encoderlab.models.heads import SequenceClassifier
from encoderlab.models.transformer import TransformerEncoder
from tests.conftest import SMALL_MODEL_OVERRIDES
from tests.inference.conftest import train_checkpoint

transformers = pytest.importorskip("transformers")


def padded_batch(vocab_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(5, vocab_size, (3, 11), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    mask[2, 3:] = 0
    return ids, mask


def test_hf_folder_is_a_sequence_classifier_with_labels_and_a_card(
    tmp_path: Path, tiny_data_dir: Path, cache_dir: Path
) -> None:
    overrides = ["model=bert_tiny", *SMALL_MODEL_OVERRIDES["bert_tiny"], "trainer.max_epochs=1"]
    checkpoint = train_checkpoint(tmp_path / "run", tiny_data_dir, cache_dir, *overrides)
    assert export_main([str(checkpoint), "-o", str(tmp_path / "out"), "--hf"]) == 0
    hf_dir = tmp_path / "out" / "hf"
    _, task = load_task(str(checkpoint))
    ids, mask = padded_batch(task.hparams["vocab_size"])

    classifier = transformers.AutoModelForSequenceClassification.from_pretrained(hf_dir).eval()
    assert isinstance(classifier, transformers.BertForSequenceClassification)
    assert classifier.config.id2label == {0: "negative", 1: "positive"}
    assert classifier.config.label2id == {"negative": 0, "positive": 1}
    encoder = transformers.AutoModel.from_pretrained(hf_dir).eval()
    assert isinstance(encoder, transformers.BertModel)
    with torch.no_grad():
        ours = task.net(ids, mask)
        theirs = classifier(input_ids=ids, attention_mask=mask).logits
        hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        our_hidden = task.encoder_for_export()(ids, mask)
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=0)
    real = mask.bool()
    torch.testing.assert_close(hidden[real], our_hidden[real], atol=1e-5, rtol=0)

    card = (hf_dir / "README.md").read_text()
    summary = json.loads((checkpoint.parent.parent / "summary.json").read_text())
    assert "pipeline_tag: text-classification" in card
    assert "# bert_tiny fine-tuned on sst2" in card
    assert f"| `val/acc` | {summary['metrics']['val/acc']:.4f} |" in card
    assert summary["command"] in card and f"Commit: `{summary['commit']}`" in card
    assert "`negative`, `positive`" in card and "## Limits" in card


def test_a_head_bert_has_no_place_for_stays_an_encoder(tmp_path: Path) -> None:
    encoder = TransformerEncoder(50, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32)
    for net in (SequenceClassifier(encoder, 2, pooling="mean"), SequenceClassifier(encoder, 2, head_dense=False)):
        assert not write_sequence_classifier(tmp_path, net, ["a", "b"])
    assert list(tmp_path.iterdir()) == [], "the folder is left as it was"

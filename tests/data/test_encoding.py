"""One encoding for training and inference: the data module's ids are the ids the inference path feeds the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from encoderlab.data.encoding import EncodingSpec, encode
from encoderlab.data.text_files import TextFilesDataModule
from encoderlab.errors import ConfigError, UserError
from encoderlab.inference.classify import TextClassifier

FILLER = ["the", "a", "report", "said", "on", "in", "week", "people", "of", "and"]


def rows(count: int) -> list[dict]:
    """Titles of 3 words, bodies of 20..40 words: over the 16-token budget, so truncation decides what is kept."""
    out = []
    for i in range(count):
        body = [FILLER[(i * 7 + j * 3) % len(FILLER)] for j in range(20 + i % 21)] + [f"end{i % 3}"]
        out.append({"title": f"title {FILLER[i % 10]} {i}", "body": " ".join(body), "label": f"c{i % 3}"})
    return out


def module(tmp_path: Path, **kwargs) -> TextFilesDataModule:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows(30)))
    files = {"train_file": str(path), "validation_file": str(path), "test_file": str(path)}
    settings = {"vocab_size": 120, "min_frequency": 1, "max_length": 16}
    return TextFilesDataModule(
        name="mine", data_dir=str(tmp_path), cache_dir=str(tmp_path / "cache"), tokenizer=settings, **files, **kwargs
    )


class RecordingScorer:
    """Stands in for a model: keeps the unpadded ids (and segment ids) of every row it is given."""

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.rows: list[tuple[list[int], list[int] | None]] = []

    def __call__(self, input_ids, attention_mask, token_type_ids=None) -> torch.Tensor:
        for row in range(input_ids.shape[0]):
            real = attention_mask[row].bool()
            types = None if token_type_ids is None else token_type_ids[row][real].tolist()
            self.rows.append((input_ids[row][real].tolist(), types))
        return torch.zeros(input_ids.shape[0], self.num_classes)


def inference_ids(datamodule: TextFilesDataModule, spec: EncodingSpec | None, pairs: bool) -> dict[str, tuple]:
    """What the inference path (`TextClassifier.predict`) feeds the scorer, per text."""
    raw = datamodule.load_splits()["validation"]
    scorer = RecordingScorer(datamodule.num_classes)
    # the spec crosses a checkpoint as plain data
    saved = None if spec is None else EncodingSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    classifier = TextClassifier(datamodule.tokenizer, datamodule.label_names, scorer, datamodule.pad_id, saved)
    records = classifier.predict(raw["text"], batch_size=7, text_pairs=raw["text_pair"] if pairs else None)
    assert [r["text"] for r in records] == raw["text"]
    order = sorted(range(len(raw)), key=lambda i: len(datamodule.datasets["validation"]["input_ids"][i]))
    # the classifier scores length-sorted batches; the recorded rows come back in that order
    return {raw["text"][i]: scorer.rows[k] for k, i in enumerate(order)}


def test_head_tail_ids_are_the_same_in_the_data_module_and_at_inference(tmp_path: Path) -> None:
    datamodule = module(tmp_path, text_column="body", truncation="head_tail", head_tokens=4)
    datamodule.setup("fit")
    spec = datamodule.encoding_spec
    assert spec == EncodingSpec(max_length=16, truncation="head_tail", head_tokens=4, max_text_chars=1600)
    trained = datamodule.datasets["validation"]
    texts = datamodule.load_splits()["validation"]["text"]
    served = inference_ids(datamodule, spec, pairs=False)
    assert [served[t][0] for t in texts] == trained["input_ids"]
    assert all(types is None for _, types in served.values())
    assert all(trained["truncated"])
    kept = [datamodule.tokenizer.decode(ids).replace(" ", "") for ids in trained["input_ids"]]
    assert all(text.endswith(("end0", "end1", "end2")) for text in kept), "the tail (the label word) is kept"
    legacy = inference_ids(datamodule, None, pairs=False)  # a checkpoint without a spec: the head, as before
    assert [legacy[t][0] for t in texts] == [e.ids for e in datamodule.tokenizer.encode_batch(texts)]
    assert [legacy[t][0] for t in texts] != trained["input_ids"]


def test_pair_ids_and_segment_ids_are_the_same_in_the_data_module_and_at_inference(tmp_path: Path) -> None:
    datamodule = module(tmp_path, text_column="title", text_pair_column="body")
    datamodule.setup("fit")
    spec = datamodule.encoding_spec
    assert spec.text_pair and spec.truncation == "head"
    trained = datamodule.datasets["validation"]
    texts = datamodule.load_splits()["validation"]["text"]
    served = inference_ids(datamodule, spec, pairs=True)
    assert [served[t][0] for t in texts] == trained["input_ids"]
    assert [served[t][1] for t in texts] == trained["token_type_ids"]
    assert all(set(types) == {0, 1} for types in trained["token_type_ids"])
    assert any(trained["truncated"]), "longest-first truncation of the pair is part of what must match"


def test_a_pair_spec_wants_pairs_and_a_single_spec_refuses_them(tmp_path: Path) -> None:
    datamodule = module(tmp_path, text_column="title", text_pair_column="body")
    classifier = TextClassifier(
        datamodule.tokenizer, datamodule.label_names, RecordingScorer(3), datamodule.pad_id, datamodule.encoding_spec
    )
    with pytest.raises(UserError, match="takes text pairs: pass a second text"):
        classifier.predict(["only one text"])
    with pytest.raises(UserError, match="takes single texts, but second texts"):
        encode(datamodule.tokenizer, EncodingSpec(max_length=16), ["a"], ["b"])
    with pytest.raises(UserError, match="1 texts but 2 second texts"):
        classifier.predict(["a"], text_pairs=["b", "c"])


def test_bad_specs_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="head_tail works on single texts"):
        EncodingSpec(max_length=16, truncation="head_tail", text_pair=True)
    with pytest.raises(ConfigError, match=r"unknown data\.truncation='middle'; choose one of head, head_tail"):
        EncodingSpec(max_length=16, truncation="middle")
    with pytest.raises(ConfigError, match=r"unknown fields \['stride'\]"):
        EncodingSpec.from_dict({"max_length": 16, "stride": 2})


def test_head_tail_of_a_pair_data_module_is_refused_when_the_spec_is_built(tmp_path: Path) -> None:
    datamodule = module(tmp_path, text_column="title", text_pair_column="body", truncation="head_tail")
    with pytest.raises(ConfigError, match="use truncation=head for text pairs"):
        datamodule.setup("fit")

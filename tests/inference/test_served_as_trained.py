"""A checkpoint is served as it was trained: tiny runs through the real pipeline (head_tail truncation; text pairs on a
Transformer, which reads segment ids), then the run's validation texts go through `load_predictor` and must give the
run's own validation accuracy and the probabilities the trained task computes on the data module's batches."""

from __future__ import annotations

import json
import random
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from encoderlab.data.encoding import EncodingSpec
from encoderlab.inference.checkpoint import load_task
from encoderlab.inference.onnx_export import export_onnx, input_names
from encoderlab.inference.predictor import load_predictor
from encoderlab.training.run import train
from tests.conftest import SMALL_MODEL_OVERRIDES, compose_train_cfg
from tests.inference.conftest import FIT

FILLER = ["the", "a", "report", "said", "on", "in", "week", "people", "of", "and", "new", "after", "its", "more"]
TOPICS = {"north": ["alpha", "apple"], "south": ["beta", "berry"], "west": ["gamma", "grape"]}


def long_text(rng: random.Random, topic: str) -> str:
    """25-40 filler words, then the topic's word among the last three: only the tail says the label."""
    words = rng.choices(FILLER, k=rng.randint(25, 40))
    words.insert(len(words) - rng.randint(0, 2), rng.choice(TOPICS[topic]))
    return " ".join(words)


def pair(rng: random.Random, where: str) -> dict:
    """A short title and a body; the label says which of the two holds the word `key`."""
    title, body = rng.choices(FILLER, k=rng.randint(2, 4)), rng.choices(FILLER, k=rng.randint(4, 20))
    side = title if where == "title" else body
    side.insert(rng.randrange(len(side) + 1), "key")
    return {"title": " ".join(title), "body": " ".join(body), "label": where}


def write_split(path: Path, rows: list[dict]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def files(folder: Path, make_row, labels: list[str]) -> dict[str, str]:
    out = {}
    for split, count, seed in (("train", 150, 0), ("validation", 45, 1), ("test", 15, 2)):
        rng = random.Random(seed)
        rows = [make_row(rng, labels[i % len(labels)]) for i in range(count)]
        out[split] = write_split(folder / f"{split}.jsonl", rows)
    return out


def train_and_read(
    root: Path, cache_dir: Path, split_files: dict[str, str], *overrides: str
) -> tuple[dict, Path, object]:
    """Runs the pipeline; returns its metrics, last.ckpt (the weights the last validation scored) and the data cfg."""
    data = [
        "data=text_files",
        *(f"data.{split}_file={path}" for split, path in split_files.items()),
        "data.tokenizer.max_length=16",
    ]
    cfg = compose_train_cfg(root, root, cache_dir, *data, *overrides, *FIT)
    try:
        metrics = train(cfg)
    finally:
        GlobalHydra.instance().clear()
    return metrics, Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", cfg.data


def validation_rows(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def task_probabilities(checkpoint: Path, data_cfg) -> torch.Tensor:
    """The trained task on the data module's own validation batches: what the run's validation metric saw."""
    datamodule = instantiate(data_cfg)
    datamodule.setup("fit")
    _, task = load_task(checkpoint)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    return torch.cat(trainer.predict(task, dataloaders=datamodule.val_dataloader()))


def served(records: list[dict], label_names: list[str]) -> torch.Tensor:
    return torch.tensor([[r["probabilities"][name] for name in label_names] for r in records])


def accuracy(records: list[dict], rows: list[dict]) -> float:
    return sum(r["label"] == row["label"] for r, row in zip(records, rows, strict=True)) / len(rows)


@pytest.fixture(scope="module")
def head_tail_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[dict, Path, object, dict]:
    root = tmp_path_factory.mktemp("head_tail")
    split_files = files(root / "news", lambda rng, topic: {"text": long_text(rng, topic), "label": topic}, [*TOPICS])
    overrides = ["model=bilstm", "model.lr=1e-2", *SMALL_MODEL_OVERRIDES["bilstm"], "trainer.max_epochs=8"]
    metrics, checkpoint, data_cfg = train_and_read(
        root, cache_dir, split_files, "data.truncation=head_tail", *overrides
    )
    return metrics, checkpoint, data_cfg, split_files


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[dict, Path, object, dict]:
    root = tmp_path_factory.mktemp("pairs")
    split_files = files(root / "pairs", pair, ["title", "body"])
    columns = ["data.text_column=title", "data.text_pair_column=body"]
    overrides = ["model=bert_tiny", "model.lr=2e-3", "model.encoder.num_layers=1", "trainer.max_epochs=8"]
    metrics, checkpoint, data_cfg = train_and_read(root, cache_dir, split_files, *columns, *overrides)
    return metrics, checkpoint, data_cfg, split_files


def test_a_head_tail_run_is_served_with_head_tail_and_reproduces_its_validation_accuracy(head_tail_run) -> None:
    metrics, checkpoint, data_cfg, split_files = head_tail_run
    rows = validation_rows(split_files["validation"])
    _, task = load_task(checkpoint)
    assert task.encoding_spec == EncodingSpec(max_length=16, truncation="head_tail", max_text_chars=1600)
    records = load_predictor(checkpoint).predict([row["text"] for row in rows], batch_size=8)
    assert all(r["truncated"] for r in records), "every text is over the budget: truncation decides"
    assert metrics["val/acc"] >= 0.9, "the run learnt the tail's topic word"
    assert accuracy(records, rows) == pytest.approx(metrics["val/acc"], abs=1e-6)
    expected = task_probabilities(checkpoint, data_cfg)
    torch.testing.assert_close(served(records, list(TOPICS)), expected, atol=2e-6, rtol=0)


def test_a_checkpoint_without_a_spec_is_served_as_before_at_the_head(head_tail_run, tmp_path: Path) -> None:
    metrics, checkpoint, _, split_files = head_tail_run
    old = torch.load(checkpoint, map_location="cpu", weights_only=True)
    del old["encoderlab"]["encoding"]
    torch.save(old, tmp_path / "old.ckpt")
    rows = validation_rows(split_files["validation"])
    records = load_predictor(tmp_path / "old.ckpt").predict([row["text"] for row in rows])
    # the head holds filler words only: about chance, well below what the run scored with the tail
    assert accuracy(records, rows) <= metrics["val/acc"] - 0.3


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_a_pair_run_is_served_with_segment_ids_and_reproduces_its_validation_accuracy(pair_run, backend) -> None:
    metrics, checkpoint, data_cfg, split_files = pair_run
    rows = validation_rows(split_files["validation"])
    predictor = load_predictor(checkpoint, backend=backend)
    assert predictor.takes_pairs
    records = predictor.predict([r["title"] for r in rows], 8, text_pairs=[r["body"] for r in rows])
    assert [r["text_pair"] for r in records] == [r["body"] for r in rows]
    assert accuracy(records, rows) == pytest.approx(metrics["val/acc"], abs=1e-6)
    expected = task_probabilities(checkpoint, data_cfg)
    label_names = load_task(checkpoint)[1].hparams.label_names
    torch.testing.assert_close(
        served(records, label_names), expected, atol=2e-6 if backend == "torch" else 1e-4, rtol=0
    )


def test_the_onnx_export_takes_segment_ids_where_the_model_reads_them(pair_run, head_tail_run, tmp_path: Path) -> None:
    for (_, checkpoint, _, _), expected in ((pair_run, True), (head_tail_run, False)):
        path = export_onnx(load_task(checkpoint)[1].net, tmp_path / f"{expected}.onnx")
        assert ("token_type_ids" in input_names(path)) is expected  # a Transformer reads them, the BiLSTM does not


def test_the_server_takes_text_pairs_for_a_pair_model_and_answers_as_the_predictor(pair_run, head_tail_run) -> None:
    from fastapi.testclient import TestClient

    from encoderlab.serving.app import ServeSettings, create_app

    rows = validation_rows(pair_run[3]["validation"])[:6]
    texts, pairs = [r["title"] for r in rows], [r["body"] for r in rows]
    predictor = load_predictor(pair_run[1])
    with TestClient(create_app(predictor, ServeSettings()), base_url="http://127.0.0.1") as client:
        answer = client.post("/predict", json={"texts": texts, "text_pairs": pairs})
        assert answer.status_code == 200
        assert answer.json()["predictions"] == predictor.predict(texts, text_pairs=pairs)
        missing = client.post("/predict", json={"texts": texts})
        assert missing.status_code == 422 and "classifies text pairs" in missing.json()["detail"]
        uneven = client.post("/predict", json={"texts": texts, "text_pairs": pairs[:2]})
        assert uneven.status_code == 422 and "6 texts but 2 text_pairs" in uneven.json()["detail"]
    with TestClient(
        create_app(load_predictor(head_tail_run[1]), ServeSettings()), base_url="http://127.0.0.1"
    ) as client:
        refused = client.post("/predict", json={"texts": ["a"], "text_pairs": ["b"]})
        assert refused.status_code == 422 and "takes single texts" in refused.json()["detail"]


def test_predict_cli_reads_tab_separated_pairs_for_a_pair_model(pair_run, tmp_path: Path, capsys) -> None:
    from encoderlab.cli.predict import main as predict_main

    rows = validation_rows(pair_run[3]["validation"])[:5]
    (tmp_path / "pairs.tsv").write_text("".join(f"{r['title']}\t{r['body']}\n" for r in rows))
    assert predict_main([str(pair_run[1]), "--input", str(tmp_path / "pairs.tsv")]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    texts, pairs = [r["title"] for r in rows], [r["body"] for r in rows]
    assert printed == load_predictor(pair_run[1]).predict(texts, text_pairs=pairs)
    assert predict_main([str(pair_run[1]), "no tab here"]) == 2
    assert "input 1 has 0 tabs; this checkpoint classifies text pairs" in capsys.readouterr().err

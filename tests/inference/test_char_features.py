"""A BiLSTM-CRF with character features (`char_encoder=cnn`) is predicted and served as it was trained: a tiny run
through the real pipeline, then its validation sentences go through `load_predictor` and must get the very tags the
trained task gives on the data module's own validation batches, and the run's validation F1."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from encoderlab.cli.export import main as export_main
from encoderlab.cli.predict import main as predict_main
from encoderlab.data.chars import CharVocabulary
from encoderlab.inference.checkpoint import load_task
from encoderlab.inference.predictor import load_predictor
from encoderlab.tasks.entity_f1 import EntityF1
from encoderlab.tasks.token_classification import TokenClassificationTask
from encoderlab.training.run import train
from encoderlab.training.run_inputs import char_kwargs
from tests.builders import write_conll2003
from tests.conftest import SMALL_MODEL_OVERRIDES, compose_train_cfg
from tests.inference.conftest import FIT

CHAR_RUN = [
    "model=bilstm",
    "char_encoder=cnn",
    "data=conll2003",
    "data.tokenizer.max_length=64",
    "task.crf=true",
    "model.lr=1e-2",
    *SMALL_MODEL_OVERRIDES["bilstm"],
    "trainer.max_epochs=8",
]


@pytest.fixture(scope="module")
def char_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[dict, Path, DictConfig]:
    root = tmp_path_factory.mktemp("char_ner")
    data_dir = write_conll2003(root / "data")
    cfg = compose_train_cfg(root, data_dir, cache_dir, *CHAR_RUN, *FIT)
    try:
        metrics = train(cfg)
    finally:
        GlobalHydra.instance().clear()
    return metrics, Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", cfg


def validation_module(cfg: DictConfig):
    datamodule = instantiate(cfg.data, **char_kwargs(cfg))
    datamodule.setup("fit")
    return datamodule


def test_the_checkpoint_carries_the_character_vocabulary_of_the_training_split(char_run) -> None:
    _, checkpoint, cfg = char_run
    _, task = load_task(checkpoint)
    assert isinstance(task, TokenClassificationTask) and task.net.chars is not None
    expected = validation_module(cfg).char_vocabulary
    assert isinstance(expected, CharVocabulary) and task.char_vocabulary == expected
    assert {"P", "p", "ü", "ã", "-"} <= set(expected.chars), "cased, accented and punctuation characters are kept"
    assert task.char_vocabulary.max_word_chars == cfg.model.char_encoder.max_word_chars == 20


def test_predict_reproduces_the_runs_validation_tags_and_f1(char_run) -> None:
    metrics, checkpoint, cfg = char_run
    datamodule = validation_module(cfg)
    _, task = load_task(checkpoint)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    batches = trainer.predict(task, dataloaders=datamodule.val_dataloader())
    gold = datamodule.load_splits()["validation"]
    sentences, gold_tags = gold["tokens"], gold["tags"]
    rows = [row for batch in batches for row in batch]  # the validation loader keeps the split's order
    expected = [row[: len(tokens)].tolist() for row, tokens in zip(rows, sentences, strict=True)]
    label_names = list(task.hparams["label_names"])

    records = load_predictor(checkpoint).predict([" ".join(tokens) for tokens in sentences], batch_size=7)
    assert [r["words"] for r in records] == sentences, "the splitter gives back the CoNLL words"
    served = [[label_names.index(tag) for tag in r["tags"]] for r in records]
    assert served == expected

    entities = EntityF1(label_names)
    width = max(len(tokens) for tokens in sentences)
    pad = [-100] * width
    entities.update(
        torch.tensor([row + pad[len(row) :] for row in served]), torch.tensor([t + pad[len(t) :] for t in gold_tags])
    )
    assert metrics["val/f1"] > 0.85, "the run learnt the slice"
    assert float(entities.compute()["f1"]) == pytest.approx(metrics["val/f1"], abs=1e-6)


def test_unseen_characters_and_int8_still_tag(char_run) -> None:
    _, checkpoint, _ = char_run
    texts = ["Peter Blackburn visited Brussels today .", "Ødegård met Łukasz in Kraków"]
    for backend in ("torch", "int8"):
        records = load_predictor(checkpoint, backend=backend).predict(texts)
        assert {(e["type"], e["text"]) for e in records[0]["entities"]} >= {("LOC", "Brussels")}
        assert len(records[1]["tags"]) == len(records[1]["words"]) == 5


def test_onnx_is_refused_in_one_line_for_character_features(char_run, tmp_path: Path, capsys) -> None:
    _, checkpoint, _ = char_run
    assert predict_main([str(checkpoint), "Peter visited Brussels", "--backend", "onnx"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "reads character features" in err and "--backend torch" in err
    assert export_main([str(checkpoint), "--output-dir", str(tmp_path / "onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "character features (model.char_encoder)" in err


def test_the_server_answers_as_the_predictor(char_run) -> None:
    from fastapi.testclient import TestClient

    from encoderlab.serving.app import ServeSettings, create_app

    _, checkpoint, _ = char_run
    texts = ["Anna met Li Wei in Zürich", "Reuters reported on the European Commission"]
    predictor = load_predictor(checkpoint)
    with TestClient(create_app(predictor, ServeSettings()), base_url="http://127.0.0.1") as client:
        answer = client.post("/predict", json={"texts": texts})
        assert answer.status_code == 200
        assert answer.json()["predictions"] == predictor.predict(texts)

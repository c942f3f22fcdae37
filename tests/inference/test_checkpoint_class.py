"""A checkpoint names the task class that wrote it, and inference loads that class: the tiny classification and NER
checkpoints of the session, and copies of them edited the way an old, foreign or hand-made file would be."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch

from encoderlab.cli.predict import main as predict_main
from encoderlab.errors import CheckpointError
from encoderlab.inference.checkpoint import load_task
from encoderlab.inference.predictor import load_predictor
from encoderlab.inference.tagging import EntityTagger
from encoderlab.tasks.checkpoint_file import read_checkpoint
from encoderlab.training.resume import check_compatible

CLASSIFIER = "encoderlab.tasks.classification.ClassificationTask"
TAGGER = "encoderlab.tasks.token_classification.TokenClassificationTask"


def edited_copy(checkpoint: Path, folder: Path, edit) -> Path:
    """`checkpoint` with `edit(dict)` applied, saved under `folder`."""
    data = torch.load(checkpoint, map_location="cpu", weights_only=False)
    edit(data)
    path = folder / "edited.ckpt"
    torch.save(data, path)
    return path


@pytest.mark.parametrize(
    ("fixture", "task_class", "kind"),
    [("sst2_checkpoint", CLASSIFIER, "classification"), ("ner_checkpoint", TAGGER, "token_classification")],
)
def test_checkpoint_names_its_task_class_and_the_predictor_loads_it(
    request: pytest.FixtureRequest, fixture: str, task_class: str, kind: str
) -> None:
    checkpoint = request.getfixturevalue(fixture)
    assert read_checkpoint(checkpoint)["encoderlab"]["task_class"] == task_class
    predictor = load_predictor(checkpoint)
    assert predictor.kind == kind
    assert isinstance(predictor.model, EntityTagger) == (kind == "token_classification")
    _, task = load_task(checkpoint)
    assert f"{type(task).__module__}.{type(task).__name__}" == task_class


def test_the_stored_class_decides_not_the_hyperparameters(sst2_checkpoint: Path, tmp_path: Path) -> None:
    def call_it_a_language_model(data: dict) -> None:
        data["encoderlab"]["task_class"] = "encoderlab.tasks.masked_lm.MaskedLMTask"

    edited = edited_copy(sst2_checkpoint, tmp_path, call_it_a_language_model)
    with pytest.raises(CheckpointError, match=r"is a masked_lm checkpoint \(MaskedLMTask\); predict, export and serve"):
        load_task(edited)


@pytest.mark.parametrize(
    "name", ["encoderlab.tasks.gone.GoneTask", "encoderlab.tasks.classification.Nothing", "os.system", "Task"]
)
def test_an_unknown_task_class_is_a_one_line_error(
    sst2_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    def rename(data: dict) -> None:
        data["encoderlab"]["task_class"] = name

    edited = edited_copy(sst2_checkpoint, tmp_path, rename)
    assert predict_main([str(edited), "a wonderful film"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"was written by task class {name!r}, which is not a task of" in err[0], err


def test_an_old_checkpoint_without_a_class_loads_by_its_settings_with_a_warning(
    sst2_checkpoint: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def as_written_before(data: dict) -> None:
        # then: no class, no objective, and the best accuracy kept as a weight of the task
        del data["encoderlab"]["task_class"], data["encoderlab"]["objective"]
        data["state_dict"]["val_acc_best.max_value"] = torch.tensor(0.75)

    old = edited_copy(sst2_checkpoint, tmp_path, as_written_before)
    with caplog.at_level(logging.WARNING, logger="encoderlab.inference.checkpoint"):
        kind, task = load_task(old)
    assert kind == "classification" and type(task).__name__ == "ClassificationTask"
    assert "names no task class" in caplog.text
    assert (task.objective.monitor, task.objective.best) == ("val/acc", pytest.approx(0.75))
    assert load_predictor(old).predict(["a wonderful and charming film"])[0]["label"] == "positive"


def test_resuming_into_another_task_class_is_refused(sst2_checkpoint: Path) -> None:
    saved = read_checkpoint(sst2_checkpoint)
    hparams, tokenizer = saved["hyper_parameters"], saved["encoderlab"]["tokenizer"]
    check_compatible(sst2_checkpoint, hparams, tokenizer, CLASSIFIER)
    with pytest.raises(
        CheckpointError, match="written by a ClassificationTask, this run trains a TokenClassificationTask"
    ):
        check_compatible(sst2_checkpoint, hparams, tokenizer, TAGGER)

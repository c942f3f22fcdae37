"""A checkpoint is a pickle: one carrying code is refused everywhere a checkpoint is read, before the code runs, and
every checkpoint a real training run writes (each task) still loads for inference and resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.core.global_hydra import GlobalHydra

from encoderlab.callbacks import AtomicCheckpointIO
from encoderlab.cli.compression import main as compression_main
from encoderlab.cli.export import main as export_main
from encoderlab.cli.predict import main as predict_main
from encoderlab.cli.serve import main as serve_main
from encoderlab.cli.translate import main as translate_main
from encoderlab.errors import CheckpointError
from encoderlab.inference.checkpoint import load_task
from encoderlab.tasks.checkpoint_file import read_checkpoint
from encoderlab.training import run as training_run
from encoderlab.training.run import train
from tests.builders import write_conll2003
from tests.conftest import SMALL_MODEL_OVERRIDES, compose_train_cfg, separable_sentences

TINY_BILSTM = ["model=bilstm", "model.encoder.embedding_size=16", "model.encoder.hidden_size=16"]
SHORT = ["~callbacks.early_stopping", "trainer.limit_train_batches=2", "trainer.limit_val_batches=1", "test=false"]


class CreatesMarker:
    """What an attacker plants: unpickling it calls `exec`, which creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path, cache_dir: Path) -> Path:
    cfg = compose_train_cfg(
        tmp_path_factory.mktemp("real"), tiny_data_dir, cache_dir, *TINY_BILSTM, *SHORT, "trainer.max_epochs=1"
    )
    try:
        train(cfg)
    finally:
        GlobalHydra.instance().clear()
    return Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"


def plant(real: Path, folder: Path, zip_format: bool = True) -> tuple[Path, Path]:
    """A copy of a real checkpoint with the payload among its hyper-parameters; (checkpoint, marker)."""
    marker = folder / "pwned"
    checkpoint = read_checkpoint(real)
    checkpoint["hyper_parameters"]["note"] = CreatesMarker(marker)
    path = folder / "evil.ckpt"
    torch.save(checkpoint, path, _use_new_zipfile_serialization=zip_format)
    return path, marker


@pytest.fixture
def evil(real_checkpoint: Path, tmp_path: Path) -> tuple[Path, Path]:
    return plant(real_checkpoint, tmp_path)


def assert_refused(message: str, path: Path, marker: Path) -> None:
    assert not marker.exists(), "the planted code ran"
    assert "\n" not in message.strip()
    assert f"checkpoint {path} holds a pickled object of type builtins.exec" in message
    assert "it could run code" in message


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_the_reader_refuses_a_pickled_payload_without_running_it(real_checkpoint, tmp_path, zip_format) -> None:
    path, marker = plant(real_checkpoint, tmp_path, zip_format)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(path)
    assert not marker.exists()
    assert str(info.value).startswith(f"checkpoint {path} holds a pickled object of type ")
    assert "exec" in str(info.value) and "\n" not in str(info.value)


CLIS = {
    "predict": lambda path, tmp: predict_main([str(path), "a great film"]),
    "export": lambda path, tmp: export_main([str(path), "--output-dir", str(tmp / "onnx")]),
    "export-hf": lambda path, tmp: export_main([str(path), "--output-dir", str(tmp / "onnx"), "--hf"]),
    "serve": lambda path, tmp: serve_main([str(path), "--port", "0"]),
    "translate": lambda path, tmp: translate_main([str(path), "--input", str(path)]),
    "compression": lambda path, tmp: compression_main([str(path), "--data", str(path)]),
}


@pytest.mark.parametrize("cli", CLIS)
def test_every_cli_refuses_it_in_one_line(evil, tmp_path: Path, cli: str, capsys) -> None:
    path, marker = evil
    assert CLIS[cli](path, tmp_path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert_refused(err[0], path, marker)


def test_resume_refuses_it_before_training(make_cfg, evil) -> None:
    path, marker = evil
    with pytest.raises(CheckpointError) as info:
        train(make_cfg(*TINY_BILSTM, *SHORT, f"ckpt_path={path}"))
    assert_refused(str(info.value), path, marker)


def test_lightnings_own_load_at_resume_refuses_it_too(make_cfg, evil, monkeypatch) -> None:
    # the compatibility check reads the file first; without it, Trainer.fit(ckpt_path=) must refuse on its own
    path, marker = evil
    monkeypatch.setattr(training_run, "check_compatible", lambda *args: None)
    with pytest.raises(CheckpointError) as info:
        train(make_cfg(*TINY_BILSTM, *SHORT, f"ckpt_path={path}"))
    assert_refused(str(info.value), path, marker)


def test_lightning_loads_through_the_safe_reader_whatever_it_asks(evil) -> None:
    path, marker = evil
    with pytest.raises(CheckpointError):
        AtomicCheckpointIO().load_checkpoint(path, weights_only=False)
    assert not marker.exists()


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "reviews.txt").write_text("\n".join(text for text, _ in separable_sentences(200, seed=5)) + "\n")
    return folder


TASKS = {
    "classification": ([*TINY_BILSTM], "classification"),
    "ner": ([*TINY_BILSTM, "data=conll2003", "data.tokenizer.max_length=64", "task.crf=true"], "token_classification"),
    "translation": (
        ["model=transformer_seq2seq", "data=multi30k", *SMALL_MODEL_OVERRIDES["transformer_seq2seq"]],
        "translation",
    ),
    "masked_lm": (["model=bert_tiny", "data=text_corpus", "data.block_size=32"], None),
}


@pytest.mark.parametrize("task", TASKS)
def test_checkpoints_of_every_task_load_for_inference_and_resume(make_cfg, tmp_path: Path, task: str) -> None:
    overrides, kind = TASKS[task]
    data_dir = write_conll2003(tmp_path / "ner") if task == "ner" else None
    if task == "masked_lm":
        overrides = [*overrides, f"data.path={write_corpus(tmp_path / 'corpus')}", "data.validation_fraction=0.2"]
    train(make_cfg(*overrides, *SHORT, "trainer.max_epochs=1", data_dir=data_dir))
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert torch.serialization.get_unsafe_globals_in_checkpoint(last) == [], "nothing beyond tensors and plain data"
    assert read_checkpoint(last)["epoch"] == 0
    if kind is not None:
        assert load_task(last)[0] == kind

    resumed = make_cfg(*overrides, *SHORT, "trainer.max_epochs=2", f"ckpt_path={last}", data_dir=data_dir)
    resumed.paths.output_dir = str(tmp_path / "resumed")
    train(resumed)
    assert read_checkpoint(last)["epoch"] == 1, "the resumed run trained its second epoch into the same folder"

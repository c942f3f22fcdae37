"""Bad data, checkpoints and configs: each gets one line that names what is wrong and how to fix it."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest
import torch

from encoderlab.errors import CheckpointError, ConfigError, NonFiniteLossError, UserError
from encoderlab.training.run import train


def write_sst2_split(folder: Path, split: str, body: bytes, header: bytes = b"sentence\tlabel\n") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / f"{split}.tsv.gz", "wb") as handle:
        handle.write(header + body)


GOOD = b"a great film\t1\na dull film\t0\n" * 20


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_sst2_split(root / "sst2", "train", GOOD)
    write_sst2_split(root / "sst2", "validation", GOOD)
    return root


def one_line_error(make_cfg, data_dir: Path, *overrides: str, kind=UserError) -> str:
    with pytest.raises(kind) as info:
        train(make_cfg("model=bert_tiny", "debug=fdr", *overrides, data_dir=data_dir))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_non_utf8_bytes_name_file_and_line(make_cfg, data_dir: Path) -> None:
    write_sst2_split(data_dir / "sst2", "train", b"fine\t1\nalso fine\t0\ncaf\xe9 latin-1\t1\n")
    message = one_line_error(make_cfg, data_dir)
    assert "train.tsv.gz line 4 is not valid UTF-8" in message and "re-encode" in message


def test_missing_column_names_file_and_columns(make_cfg, data_dir: Path) -> None:
    write_sst2_split(data_dir / "sst2", "validation", GOOD, header=b"text\tlabel\n")
    message = one_line_error(make_cfg, data_dir)
    assert "validation.tsv.gz has no column 'sentence' (columns: text, label)" in message


def test_empty_split_is_named(make_cfg, data_dir: Path) -> None:
    write_sst2_split(data_dir / "sst2", "validation", b"")
    message = one_line_error(make_cfg, data_dir)
    assert "validation.tsv.gz has a header but no examples" in message


def test_split_of_only_empty_texts_is_named(make_cfg, data_dir: Path) -> None:
    write_sst2_split(data_dir / "sst2", "validation", b" \t1\n\t0\n")
    message = one_line_error(make_cfg, data_dir)
    assert "validation split of data=sst2 has no examples" in message


def test_empty_file_is_named(make_cfg, data_dir: Path) -> None:
    (data_dir / "sst2" / "train.tsv.gz").write_bytes(gzip.compress(b""))
    message = one_line_error(make_cfg, data_dir)
    assert "train.tsv.gz is empty" in message


def test_labels_outside_the_set_are_named(make_cfg, data_dir: Path) -> None:
    write_sst2_split(data_dir / "sst2", "validation", GOOD + b"odd one\t3\n")
    message = one_line_error(make_cfg, data_dir)
    assert "validation split has labels [3] outside 0..1 (negative, positive)" in message


def test_empty_and_whitespace_texts_are_dropped_and_reported(make_cfg, data_dir: Path, caplog) -> None:
    write_sst2_split(data_dir / "sst2", "train", GOOD + b"   \t1\n\t0\n")
    with caplog.at_level(logging.WARNING):
        train(make_cfg("model=bert_tiny", "debug=fdr", data_dir=data_dir))
    assert "train: dropped 2 empty or whitespace-only texts (rows 41, 42)" in caplog.text


def test_long_texts_are_truncated_and_counted(make_cfg, data_dir: Path, caplog) -> None:
    write_sst2_split(data_dir / "sst2", "train", GOOD + b"very " * 300 + b"long\t1\n")
    with caplog.at_level(logging.WARNING):
        train(make_cfg("model=bert_tiny", "debug=fdr", "data.tokenizer.max_length=32", data_dir=data_dir))
    assert "train: 1 of 41 texts were truncated to 32 tokens" in caplog.text


@pytest.fixture
def trained_checkpoint(make_cfg, data_dir: Path) -> Path:
    cfg = make_cfg("model=bert_tiny", "trainer.max_epochs=1", "trainer.limit_train_batches=2", data_dir=data_dir)
    train(cfg)
    return Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"


def test_truncated_checkpoint_is_a_clear_error(make_cfg, data_dir: Path, trained_checkpoint: Path) -> None:
    broken = trained_checkpoint.with_name("broken.ckpt")
    broken.write_bytes(trained_checkpoint.read_bytes()[:2000])
    message = one_line_error(make_cfg, data_dir, f"ckpt_path={broken}", kind=CheckpointError)
    assert f"checkpoint {broken} can't be read" in message and "truncated or corrupt" in message


def test_garbage_file_as_checkpoint_is_a_clear_error(make_cfg, data_dir: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(bytes(range(256)) * 10)
    message = one_line_error(make_cfg, data_dir, f"ckpt_path={garbage}", kind=CheckpointError)
    assert "can't be read" in message


def test_checkpoint_of_another_model_is_a_clear_error(make_cfg, data_dir: Path, trained_checkpoint: Path) -> None:
    message = one_line_error(
        make_cfg, data_dir, f"ckpt_path={trained_checkpoint}", "model.encoder.hidden_size=64", kind=CheckpointError
    )
    assert (
        "does not fit this run" in message and "model.encoder.hidden_size=128 in the checkpoint but 64 here" in message
    )


def test_checkpoint_with_another_tokenizer_is_a_clear_error(make_cfg, data_dir, trained_checkpoint) -> None:
    message = one_line_error(
        make_cfg, data_dir, f"ckpt_path={trained_checkpoint}", "data.tokenizer.lowercase=false", kind=CheckpointError
    )
    assert "the tokenizer differs" in message


def test_checkpoint_with_another_label_set_is_a_clear_error(make_cfg, data_dir, trained_checkpoint) -> None:
    message = one_line_error(
        make_cfg,
        data_dir,
        f"ckpt_path={trained_checkpoint}",
        "data.label_names=[neg,neutral,pos]",
        kind=CheckpointError,
    )
    assert "num_classes=2 in the checkpoint but 3 here" in message


def test_missing_checkpoint_path_is_a_clear_error(make_cfg, data_dir: Path, tmp_path: Path) -> None:
    message = one_line_error(make_cfg, data_dir, f"ckpt_path={tmp_path / 'nope.ckpt'}", kind=CheckpointError)
    assert "no such file" in message


def test_ckpt_path_last_without_earlier_runs_is_a_clear_error(make_cfg, data_dir: Path) -> None:
    message = one_line_error(make_cfg, data_dir, "ckpt_path=last", kind=CheckpointError)
    assert "no last.ckpt under" in message


@pytest.mark.parametrize(
    "override,expected",
    [
        ("trainer.max_epochs=ten", "trainer.max_epochs='ten' has the wrong type: expected int or null"),
        ("data.batch_size=3.5", "data.batch_size=3.5 has the wrong type: expected int"),
        ("model.encoder.norm_first=maybe", "model.encoder.norm_first='maybe' has the wrong type: expected bool"),
        ("optimizer.lr=fast", "optimizer.lr='fast' has the wrong type"),
        ("trainer.precision=fp8", "trainer.precision='fp8' has the wrong type: expected one of"),
    ],
)
def test_values_of_the_wrong_type_fail_before_training(make_cfg, data_dir, override: str, expected: str) -> None:
    assert expected in one_line_error(make_cfg, data_dir, override, kind=ConfigError)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where there is no GPU")
def test_gpu_trainer_without_a_gpu_is_explained(make_cfg, data_dir: Path) -> None:
    message = one_line_error(make_cfg, data_dir, "trainer=gpu", "trainer.accelerator=gpu", kind=ConfigError)
    assert "no CUDA GPU" in message and "trainer=cpu" in message


def test_max_length_beyond_the_model_is_explained(make_cfg, data_dir: Path) -> None:
    message = one_line_error(make_cfg, data_dir, "data.tokenizer.max_length=1024", kind=ConfigError)
    assert "data.tokenizer.max_length=1024 exceeds model.encoder.max_position=512" in message


def test_non_finite_loss_stops_naming_the_step(make_cfg, data_dir: Path) -> None:
    with pytest.raises(NonFiniteLossError) as info:
        train(
            make_cfg(
                "model=bert_tiny",
                "trainer.max_epochs=3",
                "optimizer=sgd",
                "optimizer.lr=1e30",
                "scheduler=constant",
                "trainer.gradient_clip_val=null",
                data_dir=data_dir,
            )
        )
    message = str(info.value)
    assert "training loss became" in message and "at step" in message and "optimizer.lr" in message


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_fp16_mixed_precision_on_cpu_is_explained(make_cfg, data_dir: Path) -> None:
    with pytest.warns(UserWarning, match="AMP with fp16 is not supported on CPU. Using `precision='bf16-mixed'`"):
        metrics = train(make_cfg("model=bert_tiny", "debug=fdr", "trainer.precision=16-mixed", data_dir=data_dir))
    assert torch.isfinite(torch.tensor(metrics["train/loss_epoch"]))

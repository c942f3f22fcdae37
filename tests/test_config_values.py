"""Config values no run can use, and keys the target doesn't take: one line each, before any data is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from encoderlab.errors import ConfigError
from encoderlab.training.run import train
from tests.test_cli import train as train_by_cli

REFUSED = {
    "data.batch_size=0": "data.batch_size=0 must be a positive whole number",
    "data.batch_size=-8": "data.batch_size=-8 must be a positive whole number",
    "data.eval_batch_size=0": "data.eval_batch_size=0 must be a positive whole number",
    "data.tokenizer.max_length=0": "data.tokenizer.max_length=0 must be a positive whole number",
    "data.tokenizer.max_length=-1": "data.tokenizer.max_length=-1 must be a positive whole number",
    "optimizer.lr=nan": "optimizer.lr=nan must be a finite number above 0",
    "optimizer.lr=inf": "optimizer.lr=inf must be a finite number above 0",
    "optimizer.lr=0": "optimizer.lr=0 must be a finite number above 0",
    "optimizer.lr=-0.001": "optimizer.lr=-0.001 must be a finite number above 0",
    "model.lr=-1.0": "optimizer.lr=-1.0 (from ${model.lr}) must be a finite number above 0",
    "+optimizer.foo=1": "optimizer.foo is not a setting of torch.optim.AdamW; valid keys: lr, betas, eps, weight_decay",
    "+scheduler.warmup=3": "scheduler.warmup is not a setting of encoderlab.optim.schedules.linear_warmup; valid keys:",
}


@pytest.mark.parametrize("override", REFUSED)
def test_unusable_values_and_unknown_keys_are_refused_before_reading_data(make_cfg, tmp_path, override: str) -> None:
    cfg = make_cfg("model=bert_tiny", override, data_dir=tmp_path / "no-data-here")
    with pytest.raises(ConfigError) as info:
        train(cfg)  # a data error would mean data was read first
    message = str(info.value)
    assert "\n" not in message
    assert REFUSED[override] in message


def test_masked_lm_block_size_must_be_positive(make_cfg, tmp_path) -> None:
    cfg = make_cfg("data=text_corpus", "model=bert_tiny", "data.block_size=0", data_dir=tmp_path / "no-data-here")
    with pytest.raises(ConfigError, match=r"^data.block_size=0 must be a positive whole number"):
        train(cfg)


def test_the_valid_keys_named_are_the_optimizers_own(make_cfg, tmp_path) -> None:
    cfg = make_cfg("model=bert_tiny", "optimizer=sgd", "+optimizer.betas=[0.9,0.99]", data_dir=tmp_path / "nothing")
    with pytest.raises(ConfigError) as info:
        train(cfg)
    assert "optimizer.betas is not a setting of torch.optim.SGD" in str(info.value)
    assert "momentum" in str(info.value) and "nesterov" in str(info.value) and "params" not in str(info.value)


@pytest.mark.parametrize(
    "override,expected",
    [
        ("+optimizer.foo=1", "error: optimizer.foo is not a setting of torch.optim.AdamW; valid keys: lr, betas"),
        ("data.batch_size=0", "error: data.batch_size=0 must be a positive whole number"),
    ],
)
def test_train_py_refuses_them_in_one_line(tmp_path: Path, override: str, expected: str) -> None:
    result = train_by_cli(tmp_path, "model=bert_tiny", "logger=none", override, data_dir=tmp_path / "no-data-here")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(expected), result.stderr[-3000:]
    assert "Traceback" not in result.stderr

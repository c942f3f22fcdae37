"""Interrupted mid-epoch by a real signal, then resumed: the same batches in the same order, the same weights."""

from __future__ import annotations

import re
import signal
import time
import warnings
from pathlib import Path

import pytest
import torch

from encoderlab.errors import TrainingInterrupted
from encoderlab.pipeline import run
from tests.test_interrupt import start
from tests.test_resume import max_difference, weights

TWO_EPOCHS = ["trainer.max_epochs=2", "~callbacks.early_stopping", "test=false"]
TINY_BILSTM = ["model=bilstm", "model.encoder.embedding_size=16", "model.encoder.hidden_size=16"]
# 256 training sentences in batches of 16: 16 batches per epoch; the signal lands before batch 5 of epoch 0
CASES = {
    "bert_tiny-bucketed": ["model=bert_tiny"],  # dropout: the RNG state must come back too
    "bilstm-unbucketed": [*TINY_BILSTM, "data.length_bucketing=false"],
}


def record(path: Path) -> list[str]:
    return ["+callbacks.record._target_=tests.helpers.RecordBatches", f"+callbacks.record.path={path}"]


def signal_at(epoch: int, batch: int) -> list[str]:
    return [
        "+callbacks.signal_at._target_=tests.helpers.SignalAtBatch",
        f"+callbacks.signal_at.epoch={epoch}",
        f"+callbacks.signal_at.batch={batch}",
    ]


@pytest.mark.parametrize("case", CASES)
def test_sigterm_mid_epoch_then_resume_trains_the_same_batches_to_the_same_weights(
    make_cfg, tmp_path: Path, case: str
) -> None:
    overrides = [*CASES[case], *TWO_EPOCHS]

    straight_cfg = make_cfg(*overrides, *record(tmp_path / "straight.txt"))
    straight_cfg.paths.output_dir = str(tmp_path / "straight")
    run(straight_cfg)

    first_cfg = make_cfg(*overrides, *record(tmp_path / "first.txt"), *signal_at(0, 5))
    first_cfg.paths.output_dir = str(tmp_path / "first")
    with pytest.raises(TrainingInterrupted) as info:
        run(first_cfg)
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert "SIGTERM at step 6 (epoch 0)" in str(info.value)

    resumed_cfg = make_cfg(*overrides, *record(tmp_path / "resumed.txt"), f"ckpt_path={last}")
    resumed_cfg.paths.output_dir = str(tmp_path / "resumed")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(resumed_cfg)

    straight = (tmp_path / "straight.txt").read_text().splitlines()
    first = (tmp_path / "first.txt").read_text().splitlines()
    resumed = (tmp_path / "resumed.txt").read_text().splitlines()
    assert len(straight) == 32 and len(first) == 6
    assert resumed[0].startswith("0 6 "), "the resumed run goes on with batch 6 of epoch 0"
    assert first + resumed == straight, "exactly the batches of the straight run, in its order"
    straight_last = tmp_path / "straight" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 32
    assert max_difference(weights(straight_last), weights(last)) <= 1e-6
    assert not [w for w in caught if "not resumable" in str(w.message)], "no warning: the loader does resume"


def test_a_second_interrupt_resumes_exactly_and_names_ckpt_path_once(make_cfg, tmp_path: Path) -> None:
    overrides = [*TINY_BILSTM, *TWO_EPOCHS]
    straight_cfg = make_cfg(*overrides, *record(tmp_path / "straight.txt"))
    straight_cfg.paths.output_dir = str(tmp_path / "straight")
    run(straight_cfg)

    first_cfg = make_cfg(*overrides, *record(tmp_path / "runs.txt"), *signal_at(0, 3))
    first_cfg.paths.output_dir = str(tmp_path / "first")
    with pytest.raises(TrainingInterrupted):
        run(first_cfg)
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    second_cfg = make_cfg(*overrides, *record(tmp_path / "runs.txt"), *signal_at(1, 2), f"ckpt_path={last}")
    second_cfg.paths.output_dir = str(tmp_path / "second")
    with pytest.raises(TrainingInterrupted) as info:
        run(second_cfg)
    message = str(info.value)
    assert message.count("ckpt_path=") == 1, message
    assert re.search(rf"resume with: python train\.py .*model=bilstm.* ckpt_path={re.escape(str(last))}$", message)

    bar = [
        "callbacks.progress_bar.refresh_rate=1",
        "+callbacks.bar._target_=tests.helpers.RecordProgressBar",
        f"+callbacks.bar.path={tmp_path / 'bar.txt'}",
    ]
    third_cfg = make_cfg(*overrides, *record(tmp_path / "runs.txt"), *bar, f"ckpt_path={last}")
    third_cfg.paths.output_dir = str(tmp_path / "third")
    run(third_cfg)
    # stopped after batch 2 of epoch 1: the bar picks up there, knowing its epoch and total
    assert (tmp_path / "bar.txt").read_text().splitlines()[0] == "Epoch 1: |16|3"
    straight = (tmp_path / "straight.txt").read_text().splitlines()
    assert (tmp_path / "runs.txt").read_text().splitlines() == straight
    assert max_difference(weights(tmp_path / "straight" / "checkpoints" / "last.ckpt"), weights(last)) <= 1e-6


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_sigterm_to_a_real_train_py_mid_epoch_then_resume_matches_the_straight_run(
    tmp_path: Path, tiny_data_dir: Path
) -> None:
    two_epochs = "trainer.max_epochs=2"  # 256 sentences in batches of 8: 32 batches per epoch
    straight = start(
        tmp_path,
        tiny_data_dir,
        two_epochs,
        *record(tmp_path / "straight.txt"),
        "hydra.run.dir=" + str(tmp_path / "straight"),
    )
    slow = ["+callbacks.slow._target_=tests.helpers.SlowDown", "+callbacks.slow.seconds=0.05"]
    live = start(tmp_path, tiny_data_dir, two_epochs, *record(tmp_path / "first.txt"), *slow)
    deadline = time.monotonic() + 300
    while len(lines(tmp_path / "first.txt")) < 48:  # half way through epoch 1
        assert live.poll() is None, live.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    live.send_signal(signal.SIGTERM)
    _, stderr = live.communicate(timeout=120)
    assert live.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    step = int(re.search(r"SIGTERM at step (\d+) \(epoch 1\)", stderr).group(1))
    assert 48 <= step < 64, "stopped in the middle of epoch 1"
    assert straight.wait(timeout=300) == 0, straight.communicate()[1][-3000:]

    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    resumed = start(
        tmp_path,
        tiny_data_dir,
        two_epochs,
        *record(tmp_path / "resumed.txt"),
        f"ckpt_path={last}",
        "hydra.run.dir=" + str(tmp_path / "resumed"),
    )
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-3000:]
    assert "not resumable" not in stderr
    assert len(lines(tmp_path / "first.txt")) == step and lines(tmp_path / "resumed.txt")[0].startswith(
        f"1 {step - 32} "
    )
    assert lines(tmp_path / "first.txt") + lines(tmp_path / "resumed.txt") == lines(tmp_path / "straight.txt")
    assert max_difference(weights(tmp_path / "straight" / "checkpoints" / "last.ckpt"), weights(last)) <= 1e-6

"""Interrupted mid-epoch by a real signal, then resumed: the same batches in the same order, the same weights."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import warnings
from pathlib import Path

import pytest
import torch
from lightning.fabric.utilities.data import _replace_dunder_methods, _set_sampler_epoch
from lightning.pytorch.trainer.connectors.data_connector import _get_distributed_sampler
from lightning.pytorch.trainer.states import RunningStage
from lightning.pytorch.utilities.data import _update_dataloader
from torch.utils.data import BatchSampler, DataLoader

from encoderlab.data.sst2 import SST2DataModule
from encoderlab.errors import TrainingInterrupted
from encoderlab.training.run import train
from tests.data.test_text_corpus import write_corpus
from tests.test_interrupt import start
from tests.test_resume import max_difference, weights

TWO_EPOCHS = ["trainer.max_epochs=2", "~callbacks.early_stopping", "test=false"]
TINY_BILSTM = ["model=bilstm", "model.encoder.embedding_size=16", "model.encoder.hidden_size=16"]
# the signal lands before batch 5 of epoch 0 (SST-2 here: 256 sentences in batches of 16, 16 batches per epoch)
CASES = {
    "bert_tiny-bucketed": ["model=bert_tiny"],  # dropout: the RNG state must come back too
    "bilstm-unbucketed": [*TINY_BILSTM, "data.length_bucketing=false"],
    # masks drawn per batch from the global RNG; full batches only (drop_last); 22 batches per epoch
    "bert_tiny-masked_lm": [
        "model=bert_tiny",
        "data=text_corpus",
        "data.path={corpus}",
        "data.block_size=32",
        "data.batch_size=4",
    ],
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
    corpus = write_corpus(tmp_path / "corpus") if "data=text_corpus" in CASES[case] else None
    overrides = [*(o.format(corpus=corpus) for o in CASES[case]), *TWO_EPOCHS]

    straight_cfg = make_cfg(*overrides, *record(tmp_path / "straight.txt"))
    straight_cfg.paths.output_dir = str(tmp_path / "straight")
    train(straight_cfg)

    first_cfg = make_cfg(*overrides, *record(tmp_path / "first.txt"), *signal_at(0, 5))
    first_cfg.paths.output_dir = str(tmp_path / "first")
    with pytest.raises(TrainingInterrupted) as info:
        train(first_cfg)
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert "SIGTERM at step 6 (epoch 0)" in str(info.value)

    resumed_cfg = make_cfg(*overrides, *record(tmp_path / "resumed.txt"), f"ckpt_path={last}")
    resumed_cfg.paths.output_dir = str(tmp_path / "resumed")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(resumed_cfg)

    straight = (tmp_path / "straight.txt").read_text().splitlines()
    first = (tmp_path / "first.txt").read_text().splitlines()
    resumed = (tmp_path / "resumed.txt").read_text().splitlines()
    assert len(straight) >= 2 * 16 and len(first) == 6
    assert resumed[0].startswith("0 6 "), "the resumed run goes on with batch 6 of epoch 0"
    assert first + resumed == straight, "exactly the batches of the straight run, in its order"
    straight_last = tmp_path / "straight" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == len(straight)
    assert max_difference(weights(straight_last), weights(last)) <= 1e-6
    assert not [w for w in caught if "not resumable" in str(w.message)], "no warning: the loader does resume"


def test_a_second_interrupt_resumes_exactly_and_names_ckpt_path_once(make_cfg, tmp_path: Path) -> None:
    overrides = [*TINY_BILSTM, *TWO_EPOCHS]
    straight_cfg = make_cfg(*overrides, *record(tmp_path / "straight.txt"))
    straight_cfg.paths.output_dir = str(tmp_path / "straight")
    train(straight_cfg)

    first_cfg = make_cfg(*overrides, *record(tmp_path / "runs.txt"), *signal_at(0, 3))
    first_cfg.paths.output_dir = str(tmp_path / "first")
    with pytest.raises(TrainingInterrupted):
        train(first_cfg)
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    second_cfg = make_cfg(*overrides, *record(tmp_path / "runs.txt"), *signal_at(1, 2), f"ckpt_path={last}")
    second_cfg.paths.output_dir = str(tmp_path / "second")
    with pytest.raises(TrainingInterrupted) as info:
        train(second_cfg)
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
    train(third_cfg)
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


def rank_batches(datamodule: SST2DataModule, rank: int, epochs: range) -> list[list[list[int]]]:
    """The index batches rank `rank` of 2 draws per epoch, its loader prepared the way Lightning prepares it under DDP
    (arguments captured when the hook runs, a `DistributedSampler` swapped in, the batch sampler re-instantiated)."""
    with _replace_dunder_methods(DataLoader, "dataset"), _replace_dunder_methods(BatchSampler):  # as Lightning does
        loader = datamodule.train_dataloader()
    sampler = _get_distributed_sampler(loader, shuffle=True, overfit_batches=0, num_replicas=2, rank=rank, seed=7)
    loader = _update_dataloader(loader, sampler, mode=RunningStage.TRAINING)
    passes = []
    for epoch in epochs:
        _set_sampler_epoch(loader, epoch)
        passes.append(list(loader.batch_sampler))
    return passes


@pytest.mark.parametrize("bucketing", [True, False], ids=["bucketed", "unbucketed"])
def test_under_ddp_each_rank_resumes_at_its_next_batch(tiny_data_dir: Path, tmp_path: Path, bucketing: bool) -> None:
    def datamodule(position: dict | None = None) -> SST2DataModule:
        data = SST2DataModule(
            name="sst2", data_dir=str(tiny_data_dir), cache_dir=str(tmp_path), tokenizer={"vocab_size": 200},
            batch_size=16, length_bucketing=bucketing, seed=7,
        )  # fmt: skip
        data.setup("fit")
        if position is not None:
            data.load_state_dict({"train_position": position})
        return data

    for rank in (0, 1):
        straight = rank_batches(datamodule(), rank, range(3))
        resumed = rank_batches(datamodule({"epoch": 1, "batch": 3}), rank, range(1, 3))
        assert len(straight[1]) == 8 and resumed[0] == straight[1][3:], f"rank {rank}: epoch 1 from its batch 3"
        assert resumed[1] == straight[2], f"rank {rank}: the next epoch whole"


@pytest.mark.slow
def test_ddp_run_interrupted_mid_epoch_resumes_on_every_rank(tmp_path: Path, tiny_data_dir: Path) -> None:
    ddp = ["trainer=ddp_cpu", "trainer.max_epochs=2", "test=false"]  # 256 / (8 x 2 ranks): 16 batches per epoch

    def train(name: str, *overrides: str) -> subprocess.Popen:
        record_to = record(tmp_path / f"{name}.txt")
        return start(tmp_path, tiny_data_dir, *ddp, *record_to, f"hydra.run.dir={tmp_path / name}", *overrides)

    straight = train("straight")
    _, stderr = straight.communicate(timeout=600)
    assert straight.returncode == 0, stderr[-3000:]
    first = train("first", *signal_at(0, 5))
    _, stderr = first.communicate(timeout=600)
    assert first.returncode == 128 + signal.SIGTERM and "SIGTERM at step 6 (epoch 0)" in stderr, stderr[-3000:]
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    resumed = train("first", f"ckpt_path={last}")  # into the same dir, now that its run has ended
    _, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr[-3000:]
    for suffix in ("", ".rank1"):
        straight_batches = lines(tmp_path / f"straight.txt{suffix}")
        assert len(straight_batches) == 32 and lines(tmp_path / f"first.txt{suffix}") == straight_batches, suffix
    assert max_difference(weights(tmp_path / "straight" / "checkpoints" / "last.ckpt"), weights(last)) <= 1e-6

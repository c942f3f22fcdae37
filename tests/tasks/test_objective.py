"""`task.monitor` decides what every task tracks: `<monitor>_best`, the checkpoint kept, what `train.py` returns to a
sweeper; a metric no run logs is a one-line error. Real Trainer on the tiny SST-2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from encoderlab.cli.train import main as train_main
from encoderlab.errors import ConfigError
from encoderlab.tasks.checkpoint_file import read_checkpoint
from encoderlab.training.run import train
from tests.conftest import separable_sentences

TINY_BILSTM = ["model=bilstm", "model.encoder.embedding_size=16", "model.encoder.hidden_size=16", "model.lr=5e-3"]
SHORT = [*TINY_BILSTM, "~callbacks.early_stopping", "trainer.max_epochs=3", "test=false"]


def error_line(err: str) -> str:
    """The run's one `error:` line, which must end stderr (tokenizer progress bars come before it)."""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines[-5:]
    return errors[0]


def best_checkpoint_score(output_dir: Path) -> tuple[str, float]:
    """The metric the best-checkpoint callback followed and the best value it saw (kept in last.ckpt)."""
    callbacks = read_checkpoint(output_dir / "checkpoints" / "last.ckpt")["callbacks"]
    for key, state in callbacks.items():
        if key.startswith("ModelCheckpoint") and state["best_model_score"] is not None:
            return state["monitor"], float(state["best_model_score"])
    raise AssertionError(f"no best-checkpoint callback in {list(callbacks)}")


@pytest.mark.parametrize(("monitor", "mode"), [("val/f1", "max"), ("val/loss", "min")])
def test_another_monitored_metric_is_tracked_checkpointed_and_returned(make_cfg, monitor: str, mode: str) -> None:
    cfg = make_cfg(*SHORT, f"task.monitor={monitor}")
    assert cfg.task.monitor_mode == mode, "the mode follows the metric: lower is better for a loss"
    assert cfg.callbacks.model_checkpoint.mode == mode, "the best checkpoint follows task.monitor"
    returned = train_main(cfg)
    output = Path(cfg.paths.output_dir)
    metrics = json.loads((output / "summary.json").read_text())["metrics"]
    assert returned == pytest.approx(metrics[f"{monitor}_best"])
    assert "val/acc_best" not in metrics, "only the monitored metric has a best"
    followed, score = best_checkpoint_score(output)
    assert followed == monitor and score == pytest.approx(returned), "the best checkpoint is the best of task.monitor"
    objective = read_checkpoint(output / "checkpoints" / "last.ckpt")["encoderlab"]["objective"]
    assert objective == {"monitor": monitor, "mode": mode, "best": pytest.approx(returned)}


def test_explicit_monitor_mode_wins_over_the_metric_name(make_cfg) -> None:
    cfg = make_cfg(*SHORT, "trainer.max_epochs=2", "task.monitor=val/loss", "task.monitor_mode=max")
    assert cfg.callbacks.model_checkpoint.mode == "max"
    metrics = train(cfg)
    last = read_checkpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")
    assert last["encoderlab"]["objective"]["mode"] == "max"
    assert "val/loss_best" in metrics


def test_a_monitored_metric_nobody_logs_stops_the_run_at_the_sanity_check(
    make_cfg, capsys: pytest.CaptureFixture
) -> None:
    cfg = make_cfg(*SHORT, "task.monitor=val/f2")
    with pytest.raises(SystemExit) as stopped:
        train_main(cfg)
    assert stopped.value.code == 2
    error = error_line(capsys.readouterr().err)
    assert error.startswith("error: task.monitor=val/f2 was not logged"), error
    assert "val/acc, val/auroc, val/f1, val/loss" in error, "it names the metrics there are"
    assert not (Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt").exists(), "stopped before any training"


def test_without_a_sanity_check_the_first_validation_stops_it(make_cfg) -> None:
    cfg = make_cfg(*SHORT, "task.monitor=val/accuracy", "trainer.num_sanity_val_steps=0")
    with pytest.raises(ConfigError, match=r"^task.monitor=val/accuracy was not logged by this run \(logged: .*val/acc"):
        train(cfg)


def test_an_optimized_metric_the_run_did_not_log_is_a_one_line_error(make_cfg, capsys: pytest.CaptureFixture) -> None:
    cfg = make_cfg(*SHORT, "trainer.max_epochs=1", "optimized_metric=val/acc_top")
    with pytest.raises(SystemExit) as stopped:
        train_main(cfg)
    assert stopped.value.code == 2
    error = error_line(capsys.readouterr().err)
    assert error.startswith("error: optimized_metric=val/acc_top was not logged"), error
    assert "val/acc_best" in error, "it names the metrics there are"


def test_no_optimized_metric_returns_none(make_cfg) -> None:
    assert train_main(make_cfg(*SHORT, "trainer.max_epochs=1", "optimized_metric=null")) is None


def test_word_vectors_have_no_objective_and_return_none(make_cfg, tmp_path: Path) -> None:
    """Skip-gram is trained by gensim, not a task: it logs no `<task.monitor>_best`, and that is no error."""
    corpus = tmp_path / "corpus" / "text.txt"
    corpus.parent.mkdir()
    corpus.write_text("\n".join(text for text, _ in separable_sentences(100, seed=3)) + "\n")
    cfg = make_cfg(
        "model=skipgram", "data=text_corpus", f"data.path={corpus.parent}", "model.dim=8", "model.epochs=1",
        "model.min_count=1", "model.workers=1", "model.neighbours=[film]",
    )  # fmt: skip
    assert cfg.optimized_metric == "val/loss_best"
    assert train_main(cfg) is None
    assert (Path(cfg.paths.output_dir) / "embeddings").is_dir()

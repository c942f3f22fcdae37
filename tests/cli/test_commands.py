"""`encoderlab <command>`: the one command lists its subcommands, each subcommand's `--help` shows an example, and
a user's mistake is one `error:` line with exit code 2 through the shared wrapper (old `encoderlab-*` names too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.errors import InstantiationException

from encoderlab.cli.commands import COMMANDS
from encoderlab.cli.main import main
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.errors import ConfigError

BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
ISSUE_COMMANDS = ["train", "predict", "translate", "export", "serve", "loadtest", "bench", "compare", "baseline"]


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300)


def test_encoderlab_help_lists_every_command_with_an_example() -> None:
    result = run(str(BIN / "encoderlab"), "--help")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.split("commands:\n")[1].split("\n\n")[0].splitlines()]
    assert listed == list(COMMANDS)
    assert set(ISSUE_COMMANDS) | {"convert"} <= set(listed)
    assert "examples:\n  encoderlab train" in result.stdout


@pytest.mark.parametrize("name", [name for name, command in COMMANDS.items() if not command.hydra])
def test_each_subcommands_help_shows_its_examples(name: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: encoderlab {name} ")
    assert f"examples:\n  encoderlab {name} " in out


def test_train_help_is_hydras_with_our_examples_and_config_groups(tmp_path: Path) -> None:
    result = run(str(BIN / "encoderlab"), "train", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("encoderlab train: every setting is an override")
    assert "examples:\n  encoderlab train " in result.stdout
    assert "model: bert_base, bert_medium, bert_mini, bert_small" in result.stdout
    assert not list(tmp_path.iterdir()), "--help writes nothing"


def test_a_user_error_is_one_line_and_exit_code_2_under_both_names(tmp_path: Path) -> None:
    missing = tmp_path / "missing.ckpt"
    for command in ([str(BIN / "encoderlab"), "predict"], [str(BIN / "encoderlab-predict")]):
        result = run(*command, str(missing), "a fine film")
        assert result.returncode == 2, result.stderr
        assert (
            result.stderr
            == f"error: no checkpoint at {missing}; pass the .ckpt a training run wrote under checkpoints/\n"
        )


def test_an_unknown_command_names_the_commands(capsys: pytest.CaptureFixture) -> None:
    assert main(["trian"]) == 2
    assert capsys.readouterr().err == f"error: no command 'trian'; the commands are {', '.join(COMMANDS)}\n"
    assert main([]) == 2 and "usage: encoderlab <command>" in capsys.readouterr().out


def test_the_wrapper_finds_a_user_error_hydra_wrapped_and_leaves_bugs_alone(capsys: pytest.CaptureFixture) -> None:
    @one_line_errors
    def wrapped_by_instantiate() -> int:
        try:
            raise ConfigError("model.lr must be positive")
        except ConfigError as error:
            raise InstantiationException("Error in call to target") from error

    @one_line_errors
    def buggy() -> int:
        raise KeyError("a bug")

    assert wrapped_by_instantiate() == 2
    assert capsys.readouterr().err == "error: model.lr must be positive\n"
    with pytest.raises(KeyError):
        buggy()


def test_ddp_restarts_a_hydra_command_as_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """`encoderlab train` puts its module's file in sys.argv[0]; Lightning's extra ranks then run that module."""
    import encoderlab.cli.train
    from encoderlab.training.distributed import relaunch_command

    monkeypatch.setattr(sys, "argv", [encoderlab.cli.train.__file__, "trainer=ddp_cpu"])
    assert relaunch_command() == [sys.executable, "-m", "encoderlab.cli.train"]
    monkeypatch.setattr(sys, "argv", ["/somewhere/train.py"])
    assert relaunch_command() == [sys.executable, "/somewhere/train.py"]

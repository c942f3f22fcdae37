"""encoderlab installs like a package: the configs ship inside it (a wheel holds every YAML), and a user's own config
folder composes with ours through Hydra's search path (`--config-dir`, `hydra.searchpath`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import encoderlab
from encoderlab.config import CONF_DIR
from tests.conftest import ROOT, offline_env

MY_EXPERIMENT = """# @package _global_
defaults:
  - override /model: my_bilstm
trainer:
  max_epochs: 7
"""
MY_MODEL = """defaults:
  - bilstm
  - _self_
name: my_bilstm
encoder:
  hidden_size: 48
"""


def test_the_configs_live_inside_the_package() -> None:
    assert Path(encoderlab.__file__).parent / "conf" == CONF_DIR
    assert (CONF_DIR / "train.yaml").is_file()


def test_a_wheel_holds_every_config(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        "dist",
        "--",
        str(source),
    ]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("encoderlab-*.whl")
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".yaml")}
    ours = {f"encoderlab/conf/{path.relative_to(CONF_DIR).as_posix()}" for path in CONF_DIR.rglob("*.yaml")}
    assert shipped == ours and len(ours) > 50


def write_user_configs(folder: Path) -> Path:
    (folder / "experiment").mkdir(parents=True)
    (folder / "model").mkdir()
    (folder / "experiment" / "mine.yaml").write_text(MY_EXPERIMENT)
    (folder / "model" / "my_bilstm.yaml").write_text(MY_MODEL)
    return folder


@pytest.mark.parametrize("how", ["--config-dir", "hydra.searchpath"])
def test_a_users_config_folder_composes_with_ours(tmp_path: Path, how: str) -> None:
    mine = write_user_configs(tmp_path / "my_conf")
    where = ["--config-dir", str(mine)] if how == "--config-dir" else [f"hydra.searchpath=[file://{mine}]"]
    command = [sys.executable, str(ROOT / "train.py"), *where, "experiment=mine", "data=sst2", "--cfg", "job"]
    done = subprocess.run(command, cwd=tmp_path, env=offline_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    cfg = yaml.safe_load(done.stdout)
    assert cfg["model"]["name"] == "my_bilstm" and cfg["model"]["encoder"]["hidden_size"] == 48
    assert cfg["model"]["family"] == "encoder", "the rest of our bilstm.yaml came along"
    assert cfg["trainer"]["max_epochs"] == 7 and cfg["data"]["name"] == "sst2"

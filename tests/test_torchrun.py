"""The torchrun recipe on the CPU: `torchrun --nproc-per-node=2 train.py trainer=ddp_cpu hydra.run.dir=...` runs
one 2-process DDP run (Lightning reads torchrun's variables instead of starting processes of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SMALL_MODEL_OVERRIDES, offline_env


def test_torchrun_two_cpu_processes_make_one_ddp_run(tmp_path: Path, tiny_data_dir: Path) -> None:
    run_dir = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
        str(ROOT / "train.py"), "trainer=ddp_cpu", "model=bilstm", *SMALL_MODEL_OVERRIDES["bilstm"],
        "trainer.fast_dev_run=true", "logger=csv", "callbacks.progress_bar.refresh_rate=0",
        "data.tokenizer.vocab_size=200", "data.tokenizer.min_frequency=1",
        f"paths.data_dir={tiny_data_dir}", f"paths.cache_dir={tmp_path / 'cache'}", f"hydra.run.dir={run_dir}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=offline_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    output = done.stdout + done.stderr
    assert "MEMBER: 1/2" in output and "MEMBER: 2/2" in output, "two ranks of one process group"
    assert json.loads((run_dir / "summary.json").read_text())["global_steps"] == 1
    assert not (tmp_path / "logs").exists(), "both ranks write into the one hydra.run.dir"

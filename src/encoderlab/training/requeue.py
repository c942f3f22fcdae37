"""A requeued SLURM job carries on from its own checkpoint instead of starting over.

SLURM sets `SLURM_RESTART_COUNT` in a job it (or `scontrol requeue`) has started again: after a pre-emption, after
Lightning's SLURM environment requeued it on `--signal=SIGUSR1@90`, or after submitit's launcher resubmitted it on a
timeout. The job comes back with the same command and, given a fixed `hydra.run.dir` (plain sbatch/srun) or the
same sweep job (submitit), the same output dir; its newest checkpoint there is `checkpoints/last.ckpt` (written at
every epoch and by the SIGTERM handler) or Lightning's `hpc_ckpt_<n>.ckpt` (written on the requeue signal).
"""

from __future__ import annotations

import os
from pathlib import Path


def restart_count() -> int:
    try:
        return int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0)
    except ValueError:
        return 0


def requeued_checkpoint(output_dir: str | Path) -> Path | None:
    """On a restarted SLURM job: the newest of `<output_dir>/checkpoints/last.ckpt` and Lightning's
    `<output_dir>/hpc_ckpt_*.ckpt`; `None` on a first start or when the job wrote none."""
    if restart_count() < 1:
        return None
    output_dir = Path(output_dir)
    candidates = [output_dir / "checkpoints" / "last.ckpt", *output_dir.glob("hpc_ckpt_*.ckpt")]
    found = [path for path in candidates if path.exists()]
    return max(found, key=lambda path: path.stat().st_mtime) if found else None

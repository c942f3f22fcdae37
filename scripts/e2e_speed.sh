#!/usr/bin/env bash
# The speed issue's end-to-end check: `python train.py` (the defaults) at an old commit and at this one, back to
# back on this machine; each run's summary.json lands in results/ as e2e_<commit>_cpu.json.
# usage: scripts/e2e_speed.sh OLD_WORKTREE NEW_WORKTREE   (git worktrees of the two commits, each with data/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$root/.venv/bin/python}
export WANDB_MODE=${WANDB_MODE:-offline} HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
for tree in "$@"; do
  commit=$(git -C "$tree" rev-parse --short HEAD)
  dir="$root/logs/e2e/$commit"
  echo "== $commit: python train.py -> $dir ($(date -u +%T))"
  (cd "$tree" && PYTHONPATH="$tree/src" "$PYTHON" train.py "hydra.run.dir=$dir" > "$dir.log" 2>&1)
  cp "$dir/summary.json" "$root/results/e2e_sst2_bert_small_${commit}_cpu.json"
done
echo "== done ($(date -u +%T))"

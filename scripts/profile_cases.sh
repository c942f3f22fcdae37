#!/usr/bin/env bash
# Profile the real Lightning training step of each case the speed issue names; records to results/bench/profile_*.
# usage: scripts/profile_cases.sh [extra overrides for every case, e.g. trainer.precision=32-true]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
SUFFIX=${SUFFIX:-}
cases=(
  "model=bert_small data=sst2"
  "model=bert_mini data=enwiki"
  "model=bert_small data=enwiki"
  "model=transformer_seq2seq data=multi30k"
  "model=bilstm data=sst2"
)
for case in "${cases[@]}"; do
  read -r model data <<<"$case"
  name="profile_${model#model=}_${data#data=}${SUFFIX}"
  dir="logs/profile/${name}"
  echo "== $case -> results/bench/${name}.json"
  # shellcheck disable=SC2086
  "$PYTHON" train.py debug=profile $case "hydra.run.dir=$dir" "$@"
  cp "$dir/profile.json" "results/bench/${name}.json"
  cp "$dir/profile.txt" "results/bench/${name}.txt"
done

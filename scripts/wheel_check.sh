#!/usr/bin/env bash
# `make wheel-check` (CI runs it): build the wheel, install it into a fresh venv, and train one batch of a tiny model
# with the installed `encoderlab` from an empty folder, so the configs must come from the wheel, not this checkout.
#   PYTHON     builds the wheel (needs setuptools; default .venv/bin/python)
#   TORCH_PIN  installed into the fresh venv before the wheel (default torch==2.13.0, the local CPU wheel)
#   DATA_DIR   the data sets (default ./data)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
TORCH_PIN=${TORCH_PIN:-torch==2.13.0}
DATA_DIR=$(realpath "${DATA_DIR:-data}")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/encoderlab-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
started=$SECONDS

"$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w "$WORK/dist" .
wheel=$(ls "$WORK"/dist/encoderlab-*.whl)
yamls=$("$PYTHON" -m zipfile -l "$wheel" | grep -c '\.yaml ' || true)
echo "wheel-check: built $(basename "$wheel") with $yamls config files"
[ "$yamls" -gt 50 ] || { echo "wheel-check: the wheel holds $yamls YAML files; the configs are missing" >&2; exit 1; }

"$PYTHON" -m venv "$WORK/venv"
quiet_pip "$WORK/venv/bin/pip" install -q "$TORCH_PIN"
quiet_pip "$WORK/venv/bin/pip" install -q "$wheel"
echo "wheel-check: installed into a fresh venv ($((SECONDS - started)) s so far)"

mkdir "$WORK/empty" && cd "$WORK/empty"
conf=$("$WORK/venv/bin/python" -c "from encoderlab.config import CONF_DIR; print(CONF_DIR)")
case "$conf" in "$WORK/venv/"*) ;; *) echo "wheel-check: configs read from $conf, not the wheel" >&2; exit 1 ;; esac
"$WORK/venv/bin/encoderlab" --help > /dev/null
HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=offline "$WORK/venv/bin/encoderlab" train \
  model=bert_tiny debug=fdr "paths.data_dir=$DATA_DIR" data.tokenizer.vocab_size=2000 \
  callbacks.progress_bar.refresh_rate=0 > train.out 2>&1 || { tail -40 train.out >&2; exit 1; }
runs=(logs/bert_tiny-sst2/runs/*/train.log)
[ -f "${runs[0]}" ] || { echo "wheel-check: no run dir under $WORK/empty/logs" >&2; tail -40 train.out >&2; exit 1; }
echo "wheel-check: ok: encoderlab train (fast_dev_run) from an empty folder with the installed wheel," \
  "$((SECONDS - started)) s in all"

#!/usr/bin/env bash
# The SST-2 labelled-data learning curve: MODEL x start (scratch / word vectors, trained or frozen / masked-LM)
# x labels x seeds.
# Every start reads the same tokenizer (the vectors' or the encoder's), so only the initial weights differ.
# usage: VECTORS=<run>/embeddings [PRETRAINED=<run>/encoder] MODEL=bilstm LABELS="1000 4000" SEEDS="1 2 3" \
#        scripts/label_curve.sh [extra overrides...]     -> logs/curve/<model>_<start>_<labels>_s<seed>/
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
MODEL=${MODEL:-bilstm}
LABELS=${LABELS:-"1000 4000 16000 all"}
SEEDS=${SEEDS:-"1 2 3"}
STARTS=${STARTS:-"scratch vectors"}
ROOT=${ROOT:-logs/curve}
export WANDB_MODE=${WANDB_MODE:-offline} HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
tokenizer=${VECTORS:+$VECTORS/tokenizer.json}
tokenizer=${tokenizer:-${PRETRAINED:+$PRETRAINED/tokenizer.json}}
epochs_for() {  # small subsets need more passes for the same number of steps; early stopping ends them
  case $1 in 1000) echo 30 ;; 4000) echo 12 ;; 16000) echo 6 ;; *) echo 3 ;; esac
}
for labels in $LABELS; do
  limit=$([ "$labels" = all ] && echo null || echo "$labels")
  for seed in $SEEDS; do
    for start in $STARTS; do
      case $start in
        scratch) init=("+data.tokenizer_path=$tokenizer") ;;
        vectors) init=("model.embeddings=$VECTORS") ;;
        vectors_frozen) init=("model.embeddings=$VECTORS" finetune=freeze finetune.freeze_layers=0) ;;
        mlm) init=("model.pretrained=$PRETRAINED" "model.encoder.norm_first=true") ;;
        *) echo "unknown start $start (scratch, vectors, vectors_frozen, mlm)" >&2; exit 2 ;;
      esac
      dir="$ROOT/${MODEL}_${start}_${labels}_s${seed}"
      [ -f "$dir/summary.json" ] && continue  # finished earlier: the curve resumes where it stopped
      echo "== $dir ($(date -u +%T))"
      "$PYTHON" train.py "model=$MODEL" data=sst2 "data.train_limit=$limit" "seed=$seed" logger=csv \
        "trainer.max_epochs=$(epochs_for "$labels")" "${init[@]}" "hydra.run.dir=$dir" \
        callbacks.progress_bar.refresh_rate=0 "$@" > "$dir.log" 2>&1 || echo "   failed: see $dir.log"
    done
  done
done

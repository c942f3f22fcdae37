#!/usr/bin/env bash
# GPU evidence in one prepared shot: on one GPU (an H200) in at most 9 minutes, every stage time-boxed.
#   scripts/gpu_evidence.sh              on the GPU machine (`make gpu-pack` here first prints the exact `run` call)
#   scripts/gpu_evidence.sh --rehearse   the same stages at tiny sizes on the CPU into a temporary OUT (CI runs it)
# Stages and their time boxes in seconds (LIMIT_<STAGE>=N changes one; no stage runs past DEADLINE, 540 s after the
# start; PRETRAIN_TIME, SST2_TIME and MT_TIME are the training budgets, trainer.max_time format):
#   install 15   imports 15   gpu_tests 80   bench_full_eager 40   bench_full_compiled 30
#   pretrain_bert_small_enwiki 270 (4:00 of training)   sst2_bert_small_pretrained 45 (0:25)
#   multi30k_transformer_seq2seq 45 (0:30)
# Each stage runs under `timeout`, logs to $OUT/<stage>.log (packed into $OUT/logs.tar.gz at the end) and lands in
# $OUT/summary.json as passed / failed / timeout / skipped with its exit code and wall time; a failing stage never
# stops the ones after it. Records (command, commit, device, model, data, metrics) go to $OUT/<stage>.json and
# results/gpu/<stage>.json; the rehearsal writes nothing into results/. Exit status: 0 when every stage passed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

args="$*"
mode=gpu
case "${1:-}" in
  "") ;;
  --rehearse) mode=rehearse ;;
  -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  *) echo "usage: $0 [--rehearse]" >&2; exit 2 ;;
esac

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi
PACK=${PACK:-$root/.gpu_pack}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_evidence.XXXXXX")
if [[ $mode == gpu ]]; then
  OUT=${OUT:-$root/logs/gpu_evidence/$(date -u +%Y-%m-%d_%H-%M-%S)}
  RESULTS=$root/results/gpu
else
  OUT=${OUT:-$WORK/out}
  RESULTS=""
fi
mkdir -p "$OUT" ${RESULTS:+"$RESULTS"}
DEADLINE=${DEADLINE:-540}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=offline PYTHONUNBUFFERED=1
export ENCODERLAB_CACHE_DIR=$WORK/cache PYTHONPATH="$root/src${PYTHONPATH:+:$PYTHONPATH}"
if ! git -C "$root" rev-parse HEAD > /dev/null 2>&1 && [[ -f $PACK/COMMIT ]]; then
  ENCODERLAB_COMMIT=$(cat "$PACK/COMMIT")
  export ENCODERLAB_COMMIT
fi

# --- sizes: the GPU run, or the rehearsal's tiny shapes and limits ---------------------------------------------------
if [[ $mode == gpu ]]; then
  DATA=${DATA:-$PACK/data}
  export TOKENIZERS_PARALLELISM=true  # 16 cores train the WordPiece and pack enwiki
  pretrain_time=${PRETRAIN_TIME:-00:00:04:00} sst2_time=${SST2_TIME:-00:00:00:25} mt_time=${MT_TIME:-00:00:00:30}
  bench=(--size full)
  run=(trainer=gpu "callbacks.progress_bar.refresh_rate=500")
  bert=() pretrain=() seq2seq=()
  finetune=("trainer.max_epochs=2")  # or fewer: the time budget stops it
else
  DATA=$WORK/data
  export TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=1 TORCH_COMPILE_DISABLE=1  # 2 CI cores: no Inductor
  pretrain_time=00:00:00:06 sst2_time=00:00:00:05 mt_time=00:00:00:05
  bench=(--size tiny --device cpu --warmup 0 --steps 1)
  run=(trainer=cpu "callbacks.progress_bar.refresh_rate=0" "trainer.num_sanity_val_steps=0"
    "trainer.limit_val_batches=2" "trainer.limit_test_batches=2" "data.num_workers=0" "data.pin_memory=false")
  bert=("model.encoder.hidden_size=32" "model.encoder.num_layers=1" "model.encoder.num_heads=2"
    "model.encoder.intermediate_size=64")
  pretrain=("data.batch_size=16" "data.eval_batch_size=64" "data.tokenizer.vocab_size=1000"
    "trainer.val_check_interval=50")
  seq2seq=("model.net.hidden_size=32" "model.net.num_heads=2" "model.net.intermediate_size=64"
    "model.net.encoder_layers=1" "model.net.decoder_layers=1" "data.tokenizer.vocab_size=500" "data.batch_size=32"
    "data.eval_batch_size=32")
  finetune=("trainer.max_epochs=1" "trainer.limit_train_batches=5")
fi

train=("$PYTHON" train.py "paths.data_dir=$DATA")

# --- the stage runner ------------------------------------------------------------------------------------------------
started=$SECONDS
stage() {  # stage NAME LIMIT COMMAND...: run COMMAND under `timeout`, log it, record the outcome
  local name=$1 limit=$2; shift 2
  local override="LIMIT_${name^^}" log="$OUT/$name.log" rc=0 status t0 wall
  limit=${!override:-$limit}
  local left=$((DEADLINE - (SECONDS - started)))
  if ((limit > left)); then limit=$left; fi
  if ((limit < 5)); then
    skip "$name" "the ${DEADLINE}s deadline is reached"
    return 0
  fi
  local command="$*"
  command=${command//[$'\t\n']/ }  # one line: the summary's table holds it
  printf '== %s (time box %ss): %s\n' "$name" "$limit" "$command" > "$log"
  printf '== %s (time box %ss): %.200s\n' "$name" "$limit" "$command"
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@" >> "$log" 2>&1 || rc=$?
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  case $rc in
    0) status=passed ;;
    124 | 137) status=timeout ;;
    *) status=failed ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$wall" "$limit" "$command" >> "$WORK/stages.tsv"
  echo "== $name: $status (exit $rc, ${wall}s)"
  [[ $status == passed ]] || tail -n 5 "$log" | sed 's/^/   | /'
}

skip() {  # skip NAME WHY
  printf '%s\tskipped\t0\t0\t0\t(%s)\n' "$1" "$2" >> "$WORK/stages.tsv"
  echo "== $1: skipped ($2)"
}

keep() {  # keep NAME FILE: a stage's record, to $OUT and (not when rehearsing) results/gpu
  [[ -f $2 ]] || return 0
  cp "$2" "$OUT/$1.json"
  if [[ -n $RESULTS ]]; then
    cp "$2" "$RESULTS/$1.json"
    if [[ -f ${2%.json}.md ]]; then cp "${2%.json}.md" "$RESULTS/$1.md"; fi
  fi
}

pack_logs() {  # the stage logs, the bench tables and the runs' metrics.csv into one file
  local logs=() extra=()
  mapfile -t logs < <(cd "$OUT" && ls -- *.log 2> /dev/null)
  mapfile -t extra < <(cd "$WORK" && ls -- *.md runs/*/csv/metrics.csv 2> /dev/null)
  ((${#logs[@]})) || return 0
  local files=(-C "$OUT" "${logs[@]}")
  if ((${#extra[@]})); then files+=(-C "$WORK" "${extra[@]}"); fi
  tar -czf "$OUT/logs.tar.gz" "${files[@]}" && (cd "$OUT" && rm -f -- "${logs[@]}")
}

finish() {  # also after an error or an interrupt: the summary, the table, the logs (the device returns <= 8 files)
  local rc=$?
  trap - EXIT
  "$PYTHON" scripts/gpu_records.py summary "$WORK/stages.tsv" "$OUT/summary.json" --records "$OUT" --mode "$mode" \
    --command "scripts/gpu_evidence.sh${args:+ $args}" --wall $((SECONDS - started)) || rc=1
  if [[ -n $RESULTS && -f $OUT/summary.json ]]; then cp "$OUT/summary.json" "$RESULTS/summary.json"; fi
  "$PYTHON" scripts/gpu_records.py table "$OUT" || true
  pack_logs || true
  echo "records: $OUT${RESULTS:+ and $RESULTS} (work files: $WORK)"
  if cut -f2 "$WORK/stages.tsv" 2> /dev/null | grep -qE '^(failed|timeout)$'; then rc=1; fi
  exit "$rc"
}
trap finish EXIT

# --- 1. what the device image lacks, from the carried wheels ---------------------------------------------------------
if [[ $mode == rehearse ]]; then  # the tiny data the stages read, cut from the real files
  stage data 60 "$PYTHON" scripts/gpu_data_subset.py "${SOURCE_DATA:-$root/data}" "$DATA" --enwiki-mb 0.3 \
    --max-lines 1000
fi
site=$WORK/site
if compgen -G "$PACK/whl/*.whl" > /dev/null; then
  wheels=("$PACK"/whl/*.whl)
  if [[ $mode == gpu ]]; then
    stage install 15 "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$site" "${wheels[@]}"
    export PYTHONPATH="$PYTHONPATH:$site"
  else  # this Python is not the device's 3.12: install the set for 3.12 into a folder nothing imports from
    stage install 15 "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$site" \
      --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 "${wheels[@]}"
  fi
else
  skip install "no wheels in $PACK/whl (make gpu-pack)"
fi
stage imports 15 "$PYTHON" -c 'import importlib.metadata as m
for name in ("torch lightning torchmetrics tokenizers transformers datasets hydra-core omegaconf sacrebleu pyarrow "
             "fsspec huggingface-hub dill multiprocess numpy pandas").split():
    try:
        print(name, m.version(name))
    except m.PackageNotFoundError:
        print(name, "MISSING")
import datasets, hydra, omegaconf, sacrebleu, torch, encoderlab.report.provenance as p
bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
print(p.device_description(), "| CUDA", torch.version.cuda, "| bf16", bf16)'
ENCODERLAB_DEVICE=$("$PYTHON" -c 'import torch, os, platform
print(f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}" if torch.cuda.is_available()
      else f"CPU {platform.processor() or platform.machine()} ({os.cpu_count()} cores)")' 2> /dev/null || echo unknown)
export ENCODERLAB_DEVICE

# --- 2. the GPU tests (on a CPU: every one skips, which is what CI checks) -------------------------------------------
t=$SECONDS
stage gpu_tests 80 "$PYTHON" -m pytest -q -m gpu -p no:cacheprovider tests/test_gpu.py --junitxml="$WORK/gpu_tests.xml"
"$PYTHON" scripts/gpu_records.py pytest "$WORK/gpu_tests.xml" "$WORK/gpu_tests.json" \
  --command "pytest -q -m gpu tests/test_gpu.py" --wall $((SECONDS - t)) && keep gpu_tests "$WORK/gpu_tests.json"

# --- 3. speed against the peers (every case eager, then the masked-LM cases compiled; a record after every case) -----
stage bench_full_eager 40 "$PYTHON" -m encoderlab.cli.bench "${bench[@]}" --no-compile \
  --out "$WORK/bench_full_eager.json"
keep bench_full_eager "$WORK/bench_full_eager.json"
stage bench_full_compiled 30 "$PYTHON" -m encoderlab.cli.bench "${bench[@]}" --cases mlm --compile-mode default \
  --out "$WORK/bench_full_compiled.json"
keep bench_full_compiled "$WORK/bench_full_compiled.json"

# --- 4. masked-LM pretraining for a fixed time, then SST-2 from that encoder -----------------------------------------
pre=$WORK/runs/pretrain
stage pretrain_bert_small_enwiki 270 "${train[@]}" experiment=pretrain_bert_small_budget \
  "trainer.max_time=$pretrain_time" "hydra.run.dir=$pre" "${run[@]}" "${bert[@]}" "${pretrain[@]}"
keep pretrain_bert_small_enwiki "$pre/summary.json"
if [[ -f $pre/encoder/encoder.pt ]]; then
  stage sst2_bert_small_pretrained 45 "${train[@]}" model=bert_small data=sst2 logger=csv \
    "model.pretrained=$pre/encoder" model.encoder.norm_first=true "trainer.max_time=$sst2_time" \
    trainer.min_epochs=null trainer.val_check_interval=0.5 "hydra.run.dir=$WORK/runs/sst2" "${run[@]}" \
    "${bert[@]}" "${finetune[@]}"
  keep sst2_bert_small_pretrained "$WORK/runs/sst2/summary.json"
else
  skip sst2_bert_small_pretrained "pretraining left no encoder"
fi

# --- 5. translation for a fixed time, beam-5 test BLEU with sacreBLEU's signature ------------------------------------
stage multi30k_transformer_seq2seq 45 "${train[@]}" experiment=multi30k_transformer logger=csv \
  scheduler=time_budget "~scheduler.warmup_ratio" "trainer.max_time=$mt_time" trainer.max_epochs=-1 \
  trainer.min_epochs=null trainer.check_val_every_n_epoch=2 "hydra.run.dir=$WORK/runs/multi30k" "${run[@]}" \
  "${seq2seq[@]}"
keep multi30k_transformer_seq2seq "$WORK/runs/multi30k/summary.json"

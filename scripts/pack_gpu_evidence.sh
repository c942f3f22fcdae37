#!/usr/bin/env bash
# Packs what scripts/gpu_evidence.sh needs on the GPU machine into .gpu_pack/ (ignored by git; `make gpu-pack`):
#   whl/    the wheels its image lacks, for its Python 3.12, at the versions this checkout's environment has
#   data/   the data subset the stages read (scripts/gpu_data_subset.py: enwiki cut to --enwiki-mb of text)
#   COMMIT  this checkout's commit (the copy of the tree on the device has no .git)
# then checks that the tree that travels plus the pack stays under the device's 64 MiB and prints the `run` call.
# usage: scripts/pack_gpu_evidence.sh [--enwiki-mb 30]     (DATA_SRC=<folder> instead of ./data)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

enwiki_mb=30
while (($#)); do
  case $1 in
    --enwiki-mb) enwiki_mb=$2; shift 2 ;;
    *) echo "usage: $0 [--enwiki-mb MB]" >&2; exit 2 ;;
  esac
done
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi
PACK=${PACK:-$root/.gpu_pack}
LIMIT=$((64 * 1024 * 1024))
# The image has torch, lightning, torchmetrics, tokenizers, transformers, pyarrow, pandas, fsspec, huggingface-hub,
# xxhash and sacreBLEU's own needs (portalocker, regex, tabulate, colorama, lxml), not these. wandb is left behind:
# every stage logs with logger=csv (W&B is never imported), and its wheel with pydantic's stack would be 25 MB.
NEEDED=(hydra-core omegaconf antlr4-python3-runtime datasets dill multiprocess sacrebleu)
PLATFORM=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)

rm -rf "$PACK/whl" "$PACK/data"
mkdir -p "$PACK/whl"
for name in "${NEEDED[@]}"; do
  version=$("$PYTHON" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$name") || {
    echo "error: $name is not installed in $PYTHON's environment (make install), so its version is unknown" >&2
    exit 1
  }
  if ! "$PYTHON" -m pip download -q --no-deps "${PLATFORM[@]}" -d "$PACK/whl" "$name==$version" 2> /dev/null; then
    # antlr4-python3-runtime 4.9.3 is published as source only: build its (pure-Python) wheel here
    "$PYTHON" -m pip wheel -q --no-deps -w "$PACK/whl" "$name==$version"
  fi
done
(cd "$PACK/whl" && echo "wheels:" *.whl)

"$PYTHON" scripts/gpu_data_subset.py "${DATA_SRC:-$root/data}" "$PACK/data" --enwiki-mb "$enwiki_mb"
commit=$(git rev-parse HEAD)
if [[ -n $(git status --porcelain) ]]; then
  commit+="-dirty"
  echo "warning: uncommitted changes travel too; the records will say $commit" >&2
fi
echo "$commit" > "$PACK/COMMIT"

tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2> /dev/null | tail -n 1 | cut -f1)
pack=$(du -sb "$PACK" | cut -f1)
total=$((tree + pack))
awk -v t="$tree" -v p="$pack" 'BEGIN { m = 1048576
  printf "tree %.1f MiB + pack %.1f MiB = %.1f MiB of the 64 MiB a device call carries\n", t / m, p / m, (t + p) / m }'
if ((total > LIMIT)); then
  echo "error: over 64 MiB; pack less enwiki (--enwiki-mb)" >&2
  exit 1
fi
cat << EOF

On the device machine (one call; the script ends within its 540 s deadline):
  run(command="bash scripts/gpu_evidence.sh", carry=["${PACK#"$root"/}"], timeout_s=600)
Then, here, keep the records it returns (files_at: the folder the reply names):
  mkdir -p results/gpu logs/gpu_evidence && cp <files_at>/*.json results/gpu/
  tar -xzf <files_at>/logs.tar.gz -C logs/gpu_evidence  # stage logs, bench tables, learning curves
  python scripts/gpu_records.py table results/gpu      # the README's "GPU results" rows
EOF

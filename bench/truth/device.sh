#!/usr/bin/env bash
# The truth corpus's GPU part in one call on nvidia-h200-x2 (carry .devcarry, built here by
# bench/make_devcarry.py): the sentiment runs on the two GPUs (seeds split between them) and,
# at the same time, the image runs of the given CPU tasks on the host's cores. Each part stops
# itself before the call's limit (runs already in the corpus are skipped, so a second call
# resumes); what it made comes back as $OUT/corpus.tar.gz.
#   bash bench/truth/device.sh [SECONDS] [CPU_TASKS]      # SEEDS=4,5 for other seeds (default 0-3)
set -uo pipefail
LIMIT=${1:-520}
CPU_TASKS=${2:-mnist,animal}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .devcarry/whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/.devcarry/pkgs:$PWD/src:$PWD HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export FITDOCTOR_CACHE_DIR=/tmp/fitdoctor-cache
OUTDIR=${OUT:-/tmp/out}/corpus-new
mkdir -p "$OUTDIR"
nvidia-smi --query-gpu=name --format=csv,noheader || true
# tokenise once before the workers start
python3 -c "import sys; sys.path.insert(0,'bench/truth'); import make_corpus as m; from fitdoctor.training.config import build_config; from fitdoctor.training.tasks import build_task; c=m.config_for('sentiment','healthy',0); build_task(build_config(c))" || true
pids=()
n=$(nvidia-smi -L 2>/dev/null | wc -l)
if [ "$n" -ge 2 ]; then
  CUDA_VISIBLE_DEVICES=0 timeout "$LIMIT" python3 bench/truth/make_corpus.py --tasks sentiment --seeds 0,2 --jobs 5 --out "$OUTDIR" --skip-from bench/truth/corpus > "$OUTDIR/gpu0.log" 2>&1 & pids+=($!)
  CUDA_VISIBLE_DEVICES=1 timeout "$LIMIT" python3 bench/truth/make_corpus.py --tasks sentiment --seeds 1,3 --jobs 5 --out "$OUTDIR" --skip-from bench/truth/corpus > "$OUTDIR/gpu1.log" 2>&1 & pids+=($!)
else
  CUDA_VISIBLE_DEVICES=0 timeout "$LIMIT" python3 bench/truth/make_corpus.py --tasks sentiment --seeds "${SEEDS:-0-3}" --jobs 8 --out "$OUTDIR" --skip-from bench/truth/corpus > "$OUTDIR/gpu0.log" 2>&1 & pids+=($!)
fi
if [ -n "$CPU_TASKS" ]; then
  CUDA_VISIBLE_DEVICES= timeout "$LIMIT" python3 bench/truth/make_corpus.py --tasks "$CPU_TASKS" --seeds "${SEEDS:-0-3}" --jobs "${CPU_JOBS:-14}" --out "$OUTDIR" --skip-from bench/truth/corpus > "$OUTDIR/cpu.log" 2>&1 & pids+=($!)
fi
wait "${pids[@]}"
tail -n 4 "$OUTDIR"/*.log
grep -h FAILED "$OUTDIR"/*.log | head -20
tar -czf "${OUT:-/tmp/out}/corpus.tar.gz" -C "$OUTDIR" .
rm -rf "$OUTDIR"
ls -la "${OUT:-/tmp/out}"

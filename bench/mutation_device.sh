#!/usr/bin/env bash
# `make mutate` on the device host's CPU cores, in one call (mutmut forks one worker per core;
# on nvidia-h200-x4's 64 cores the whole run takes minutes instead of hours here). Carry
# .mutcarry (built here: the wheels the image lacks in whl/ — mutmut with libcst, setproctitle
# and textual, and fitdoctor's pydantic, optuna, mlxtend — and a copy of ../shared in shared/).
# Writes $OUT/mutation.json (bench/mutation.py's summary) and the run's log. A run stopped at
# the time limit checks the cheapest mutants first; a second call can take the modules it did
# not reach (mutant name patterns), and `bench/mutation.py --merge` joins the two summaries.
#   bash bench/mutation_device.sh [SECONDS] [PATTERN...]
set -uo pipefail
LIMIT=${1:-500}
shift || true
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .mutcarry/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 FITDOCTOR_SHARED=$PWD/.mutcarry/shared
export FITDOCTOR_CACHE_DIR=/tmp/fitdoctor-cache CUDA_VISIBLE_DEVICES=
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
echo "cores: $(nproc)"
start=$(date +%s)
timeout "$LIMIT" python3 -m mutmut run --max-children "$(( $(nproc) - 2 ))" "$@" > "$OUT/mutmut-run.log" 2>&1
echo "mutmut exit $? after $(( $(date +%s) - start )) s"
python3 bench/mutation.py --skip-run --part "${*:-all}" --out "$OUT/mutation.json"
tail -c 1500 "$OUT/mutmut-run.log" | tr '\r' '\n' | tail -n 8

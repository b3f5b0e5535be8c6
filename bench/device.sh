#!/usr/bin/env bash
# On the GPU machine, from the project folder (after bench/make_devcarry.py here, carrying
# .devcarry): install the carried wheels, then run bench/gpu_train.py (or $BENCH) with the given
# arguments. NVLink multicast stays off for every process (the device machines' rule).
#   bash bench/device.sh --compile 0 --repeats 3 --lr-find
#   STEP_OVERHEAD=0 BENCH=bench/ddp.py bash bench/device.sh        # on nvidia-h200-x2
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .devcarry/whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/.devcarry/pkgs:$PWD/src:$PWD HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export FITDOCTOR_CACHE_DIR=${FITDOCTOR_CACHE_DIR:-/tmp/fitdoctor-cache}
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,utilization.gpu --format=csv || true
if [ "${STEP_OVERHEAD:-1}" = 1 ]; then python3 bench/step_overhead.py --repeats 3; fi
python3 "${BENCH:-bench/gpu_train.py}" --out "${OUT:-bench/results}" "$@"

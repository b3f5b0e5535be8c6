#!/usr/bin/env bash
# On the GPU machine, from the project folder (after bench/make_devcarry.py here, carrying
# .devcarry): install the carried wheels, then run bench/gpu_train.py with the given arguments.
#   bash bench/device.sh --compile 0 --repeats 3 --lr-find
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .devcarry/whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/.devcarry/pkgs:$PWD/src:$PWD HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export FITDOCTOR_CACHE_DIR=${FITDOCTOR_CACHE_DIR:-/tmp/fitdoctor-cache}
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,temperature.gpu,utilization.gpu --format=csv || true
if [ "${STEP_OVERHEAD:-1}" = 1 ]; then python3 bench/step_overhead.py --repeats 3; fi
python3 bench/gpu_train.py --out "${OUT:-bench/results}" "$@"

"""Multi-GPU measurement for issue 8, in one call on a 2-GPU machine (nvidia-h200-x2):

1. `fitdoctor train` on the sentiment task with 1 GPU and with 2 (DDP over NCCL) at the same
   global batch: samples/s, the last epoch's validation accuracy (with its binomial standard
   error, to say "same within noise"), one run and one row per epoch in the store (one writer),
   and the stop reason (early stopping decided once for all ranks);
2. `fitdoctor sweep --worker` twice at once, one process per GPU (CUDA_VISIBLE_DEVICES), on one
   study: trials per worker, grid points run twice (duplicates) or never (lost).

Writes ddp-<date>.json ({"device", "rows": [{"gpus", "samples_per_s", "val_metric", ...}],
"sweep": {"trials", "per_worker", "duplicates", "lost"}}) into --out and prints a table.

    python3 bench/ddp.py [--out DIR] [--epochs 4]      # on the GPU machine (bench/device.sh's set-up)
    python bench/ddp.py --cpu                          # the same on 2 CPU processes (gloo), small
    python3 bench/ddp.py --one-gpu                     # a 1-GPU machine: the 1-GPU row, both workers on it

NVLink multicast stays off (NCCL_NVLS_ENABLE=0 and the rest are set for every child process)."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

MULTICAST_OFF = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1"}


def env(**extra) -> dict:
    return {**os.environ, **MULTICAST_OFF, **extra}


def plan(cpu: bool, epochs: int) -> dict:
    if cpu:          # digits, 2 gloo processes: checks the script and the invariants, not speed
        return {"task": {"name": "image", "dataset": "digits", "train_size": 1024, "val_size": 300},
                "model": {"width": 8}, "global_batch": 64, "accelerator": "cpu", "lr": 3e-3,
                "grid": [1e-3, 3e-3, 1e-2, 3e-2], "sweep_epochs": 2}
    return {"task": {"name": "sentiment", "dataset": "rotten_tomatoes", "train_size": 8192, "val_size": 1024,
                     "max_length": 64}, "model": {}, "global_batch": 128, "accelerator": "gpu", "lr": 3e-5,
            "grid": [1e-5, 2e-5, 5e-5, 1e-4], "sweep_epochs": 2, "epochs": epochs}


def write_config(path: str, p: dict, *, name: str, gpus: int, epochs: int, lr: float | None = None) -> None:
    import yaml

    cfg = {"name": name, "task": {**p["task"], "batch_size": p["global_batch"] // gpus}, "model": p["model"],
           "training": {"epochs": epochs, "learning_rate": lr or p["lr"], "scheduler": "CosineAnnealingLR",
                        "warmup_epochs": 1, "accelerator": p["accelerator"], "devices": gpus, "seed": 0,
                        "early_stopping": {"patience": 2}}}
    with open(path, "w") as fh:
        yaml.safe_dump(cfg, fh)


def train_row(tmp: str, p: dict, gpus: int, epochs: int) -> dict:
    from fitdoctor.store import RunStore

    cfg, store = os.path.join(tmp, f"train{gpus}.yaml"), os.path.join(tmp, f"train{gpus}.db")
    write_config(cfg, p, name=f"ddp-{gpus}", gpus=gpus, epochs=epochs)
    out = subprocess.run([sys.executable, "-m", "fitdoctor", "train", cfg, "--store", store, "--out",
                          os.path.join(tmp, "runs"), "--json"], capture_output=True, text=True, env=env())
    if out.returncode != 0:
        sys.exit(f"fitdoctor train with {gpus} device(s) failed:\n{out.stderr[-3000:]}")
    docs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    rs = RunStore(store)
    runs = rs.list_runs()
    table = rs.epochs(docs[0]["run_id"])
    n_train, n_val = p["task"]["train_size"], p["task"]["val_size"]
    acc = float(table["val_acc"].iloc[-1])
    return {"gpus": gpus, "samples_per_s": round(n_train / float(statistics.median(table["train_time"].iloc[1:])), 1),
            "val_metric": round(acc, 4), "val_metric_se": round(math.sqrt(acc * (1 - acc) / n_val), 4),
            "epochs": len(table), "stop_reason": docs[0]["stop_reason"], "reports": len(docs), "runs": len(runs),
            "epoch_rows_unique": bool(table["epoch"].is_unique), "global_batch": p["global_batch"]}


def sweep(tmp: str, p: dict, workers: int, cpu: bool, one_gpu: bool = False) -> dict:
    import optuna

    cfg, store = os.path.join(tmp, "sweep.yaml"), os.path.join(tmp, "sweep.db")
    write_config(cfg, p, name="ddp-sweep", gpus=1, epochs=p["sweep_epochs"])
    grid = "training.learning_rate=" + ",".join(f"{v:g}" for v in p["grid"])
    cmd = [sys.executable, "-m", "fitdoctor", "sweep", cfg, "--grid", grid, "--store", store,
           "--out", os.path.join(tmp, "sweep-runs"), "--worker"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env() if cpu else env(CUDA_VISIBLE_DEVICES="0" if one_gpu else str(i))) for i in range(workers)]
    outs = [proc.communicate() for proc in procs]
    for proc, (_, err) in zip(procs, outs):
        if proc.returncode != 0:
            sys.exit(f"sweep worker {proc.pid} failed:\n{err[-3000:]}")
    study = optuna.load_study(study_name="ddp-sweep", storage=f"sqlite:///{store}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    pids = [proc.pid for proc in procs]
    per_worker = [sum(1 for t in done if t.user_attrs.get("owner", [None, None])[1] == pid) for pid in pids]
    counts = {v: sum(1 for t in done if math.isclose(t.params["training.learning_rate"], v)) for v in p["grid"]}
    return {"trials": len(done), "per_worker": per_worker, "duplicates": sum(c - 1 for c in counts.values() if c > 1),
            "lost": sum(1 for c in counts.values() if c == 0), "grid": len(p["grid"]),
            "refused_as_duplicates": sum(1 for t in study.trials if "duplicate_of" in t.user_attrs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpu", action="store_true", help="2 CPU processes over gloo, small (a check, not a measurement)")
    ap.add_argument("--one-gpu", action="store_true",
                    help="only one GPU: the 1-GPU row, and both sweep workers share it")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench/results")
    args = ap.parse_args()
    import torch

    if not args.cpu and torch.cuda.device_count() < (1 if args.one_gpu else 2):
        sys.exit(f"needs 2 GPUs, found {torch.cuda.device_count()} (run on nvidia-h200-x2, or pass --cpu)")
    p = plan(args.cpu, args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [train_row(tmp, p, gpus, args.epochs) for gpus in ((1,) if args.one_gpu else (1, 2))]
        for r in rows:
            print(json.dumps(r), flush=True)
        sw = sweep(tmp, p, 2, args.cpu, args.one_gpu)
    device = "cpu (gloo)" if args.cpu else f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    doc = {"device": device, "torch": torch.__version__, "date": datetime.date.today().isoformat(),
           "task": p["task"], "rows": rows, "sweep": sw}
    os.makedirs(args.out, exist_ok=True)
    suffix = "-cpu" if args.cpu else "-1gpu" if args.one_gpu else ""
    path = os.path.join(args.out, f"ddp-{doc['date']}{suffix}.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"\n{'gpus':>5}{'samples/s':>12}{'val acc':>10}{'epochs':>8}  stop")
    for r in rows:
        print(f"{r['gpus']:>5}{r['samples_per_s']:>12.0f}{r['val_metric']:>10.4f}{r['epochs']:>8}  {r['stop_reason']}")
    if len(rows) == 2:
        one, two = rows
        diff = two["val_metric"] - one["val_metric"]
        se = math.hypot(one["val_metric_se"], two["val_metric_se"])
        print(f"scaling 1 -> 2: {two['samples_per_s'] / one['samples_per_s']:.2f}x; val acc difference {diff:+.4f} "
              f"({abs(diff) / se:.1f} standard errors); runs in the store: {two['runs']}, reports: {two['reports']}")
    print(f"sweep: {sw['trials']} trials of a {sw['grid']}-point grid, per worker {sw['per_worker']}, "
          f"duplicates {sw['duplicates']}, lost {sw['lost']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

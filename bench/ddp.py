"""Multi-GPU measurement (issue 14), one part per call on a 2- or 4-GPU machine:

- ``--part scaling``: `fitdoctor train` on the sentiment task (MiniLM) and the image task (a small
  CNN on Animal-MNIST), eager and fast mode, at G = 1, 2 (and 4 when there are four) GPUs.
  Weak scaling keeps the per-GPU batch B (global batch G x B, the notes' case); strong scaling
  keeps the global batch (the largest one measured, G_max x B, split over G). Each row: samples/s
  (examples trained in an epoch — fast mode leaves out the remainder of G x B — / the median
  training time of the epochs after the first, rank 0's clock),
  the last epoch's validation accuracy with its binomial standard error, and the DDP invariants:
  one run and one report in the store, one row per epoch, the stored predictions covering the
  validation set once in its order (no padding repeats). Under DDP fast mode averages the
  gradients inside its captured step (an NCCL all-reduce in the CUDA graph).
- ``--part sweep``: `fitdoctor sweep --worker`, one process per GPU on one SQLite study, against
  one worker alone on the same grid: trials per hour, duplicates, lost trials.
- ``--part nodes``: 2 "nodes" x 1 GPU on one host, each process started with the launcher's
  variables (MASTER_ADDR, MASTER_PORT, NODE_RANK, LOCAL_RANK, WORLD_SIZE) as SLURM or torchrun
  would on two machines: one run in the store, and its speed against 1 node x 2 GPUs.

Rows are written as they come to ``ddp-<date>[-cpu]-<part>.json`` in --out (a call cut short
keeps what it measured); ``--table`` prints the README's tables from those files.

    bash bench/device.sh --part scaling       # with BENCH=bench/ddp.py STEP_OVERHEAD=0, on nvidia-h200-x2
    python bench/ddp.py --cpu --part all      # 2 gloo processes on the CPU: a check, not a measurement
    python bench/ddp.py --table bench/results/ddp-2026-11-29-*.json

NVLink multicast stays off (NCCL_NVLS_ENABLE=0 and the rest are set for every child process)."""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MULTICAST_OFF = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1", "NVSHMEM_DISABLE_NVLS": "1"}


def env(**extra) -> dict:
    return {**os.environ, **MULTICAST_OFF, **extra}


def tasks(cpu: bool, epochs: int | None) -> dict:
    """Per task: its config block, the per-GPU batch, epochs, LR and the sweep grid."""
    if cpu:
        return {"image": {"task": {"name": "image", "dataset": "digits", "train_size": 1024, "val_size": 301},
                          "model": {"width": 8}, "batch": 32, "epochs": epochs or 3, "lr": 3e-3,
                          "accelerator": "cpu", "grid": [1e-3, 3e-3, 1e-2, 3e-2]}}
    return {"sentiment": {"task": {"name": "sentiment", "dataset": "rotten_tomatoes", "train_size": 8192,
                                   "val_size": 1001, "max_length": 64}, "model": {}, "batch": 64,
                          "epochs": epochs or 4, "lr": 3e-5, "accelerator": "gpu",
                          "grid": [1e-5, 2e-5, 5e-5, 1e-4]},
            "image": {"task": {"name": "image", "dataset": "animal", "train_size": 8000, "val_size": 1801},
                      "model": {"width": 32}, "batch": 256, "epochs": epochs or 8, "lr": 2e-3,
                      "accelerator": "gpu", "grid": [5e-4, 1e-3, 2e-3, 4e-3]}}


def write_config(path: str, p: dict, *, name: str, gpus: int, per_gpu: int, fast: bool, epochs: int,
                 nodes: int = 1) -> None:
    import yaml

    cfg = {"name": name, "task": {**p["task"], "batch_size": per_gpu}, "model": p["model"],
           "training": {"epochs": epochs, "learning_rate": p["lr"], "scheduler": "CosineAnnealingLR",
                        "warmup_epochs": 1, "accelerator": p["accelerator"], "devices": gpus // nodes,
                        "num_nodes": nodes, "seed": 0, "fast": fast}}
    with open(path, "w") as fh:
        yaml.safe_dump(cfg, fh)


def _docs(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def measure(store: str, run_id: str, p: dict, *, wall: float, reports: int,
            step: int | None = None) -> dict:
    """One training's figures and invariants, read from its store. ``step``: the examples of one
    fast-mode step (its static shape leaves the epoch's remainder untrained)."""
    from fitdoctor.store import RunStore

    rs = RunStore(store)
    table = rs.epochs(run_id)
    n_train, n_val = p["task"]["train_size"], p["task"]["val_size"]
    if step:
        n_train -= n_train % step
    acc = float(table["val_acc"].iloc[-1])
    times = table["train_time"].iloc[1:] if len(table) > 1 else table["train_time"]
    preds = rs.predictions(run_id, "last")
    info = rs.run(run_id)
    return {"samples_per_s": round(n_train / float(statistics.median(times)), 1),
            "val_metric": round(acc, 4), "val_metric_se": round(math.sqrt(acc * (1 - acc) / n_val), 4),
            "epochs": len(table), "wall_s": round(wall, 1), "runs": len(rs.list_runs()), "reports": reports,
            "epoch_rows_unique": bool(table["epoch"].is_unique), "status": info.status,
            "val_once": preds is not None and len(preds[1]["target"]) == n_val,
            "val_acc_matches_predictions": preds is not None
            and abs(float(preds[1]["correct"].mean()) - acc) < 1e-6}


def train(tmp: str, p: dict, *, gpus: int, per_gpu: int, fast: bool, tag: str) -> dict:
    cfg, store = os.path.join(tmp, f"{tag}.yaml"), os.path.join(tmp, f"{tag}.db")
    write_config(cfg, p, name=tag, gpus=gpus, per_gpu=per_gpu, fast=fast, epochs=p["epochs"])
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "fitdoctor", "train", cfg, "--store", store, "--out",
                          os.path.join(tmp, "runs"), "--json"], capture_output=True, text=True, env=env())
    if out.returncode != 0:
        return {"error": out.stderr[-1500:]}
    docs = _docs(out.stdout)
    loop = next((line for line in out.stderr.splitlines() if "fast mode" in line or "standard loop" in line), "")
    fast_loop = loop.startswith("fast mode")
    row = measure(store, docs[0]["run_id"], p, wall=time.perf_counter() - t0, reports=len(docs),
                  step=gpus * per_gpu if fast_loop else None)
    return {**row, "loop": "fast" if fast_loop else "standard", "loop_note": loop.strip()}


def scaling(tmp: str, plan: dict, counts: list[int], emit) -> None:
    """Per task and mode: the runs (G, per-GPU batch) needed for weak and strong rows."""
    top = max(counts)
    for name, p in plan.items():
        b = p["batch"]
        runs: dict[tuple[int, int, str], dict] = {}
        for mode in (("eager",) if p["accelerator"] == "cpu" else ("eager", "fast")):
            wanted = [(g, b, "weak") for g in counts] + [(g, top * b // g, "strong") for g in counts]
            for g, per_gpu, kind in wanted:
                if (g, per_gpu, mode) not in runs:      # (G_max is both weak and strong: run once)
                    runs[g, per_gpu, mode] = train(tmp, p, gpus=g, per_gpu=per_gpu, fast=mode == "fast",
                                                   tag=f"{name}-{mode}-{g}x{per_gpu}")
                emit({"task": name, "mode": mode, "scaling": kind, "gpus": g, "per_gpu_batch": per_gpu,
                      "global_batch": g * per_gpu, "lr": p["lr"], **runs[g, per_gpu, mode]})


def sweep(tmp: str, p: dict, workers: int, cpu: bool, name: str) -> dict:
    import optuna

    cfg, store = os.path.join(tmp, f"{name}.yaml"), os.path.join(tmp, f"{name}.db")
    write_config(cfg, p, name=name, gpus=1, per_gpu=p["batch"], fast=False, epochs=2)
    grid = "training.learning_rate=" + ",".join(f"{v:g}" for v in p["grid"])
    cmd = [sys.executable, "-m", "fitdoctor", "sweep", cfg, "--grid", grid, "--store", store,
           "--out", os.path.join(tmp, f"{name}-runs"), "--worker"]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env() if cpu else env(CUDA_VISIBLE_DEVICES=str(i))) for i in range(workers)]
    outs = [proc.communicate() for proc in procs]
    wall = time.perf_counter() - t0
    for proc, (_, err) in zip(procs, outs):
        if proc.returncode != 0:
            return {"workers": workers, "error": err[-1500:]}
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{store}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    pids = [proc.pid for proc in procs]
    per_worker = [sum(1 for t in done if t.user_attrs.get("owner", [None, None])[1] == pid) for pid in pids]
    counts = {v: sum(1 for t in done if math.isclose(t.params["training.learning_rate"], v)) for v in p["grid"]}
    return {"workers": workers, "trials": len(done), "per_worker": per_worker, "wall_s": round(wall, 1),
            "trials_per_hour": round(len(done) / wall * 3600, 1),
            "duplicates": sum(c - 1 for c in counts.values() if c > 1),
            "lost": sum(1 for c in counts.values() if c == 0), "grid": len(p["grid"]),
            "refused_as_duplicates": sum(1 for t in study.trials if "duplicate_of" in t.user_attrs)}


def nodes(tmp: str, p: dict, cpu: bool) -> dict:
    """2 nodes x 1 process on this host, each started by hand with the launcher's variables."""
    cfg, store = os.path.join(tmp, "nodes.yaml"), os.path.join(tmp, "nodes.db")
    write_config(cfg, p, name="nodes", gpus=2, per_gpu=p["batch"], fast=False, epochs=p["epochs"], nodes=2)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "fitdoctor", "train", cfg, "--store", store, "--out",
           os.path.join(tmp, "nodes-runs"), "--json"]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), NODE_RANK=str(n), LOCAL_RANK="0", WORLD_SIZE="2",
        **({} if cpu else {"CUDA_VISIBLE_DEVICES": str(n)}))) for n in (0, 1)]
    outs = [proc.communicate() for proc in procs]
    wall = time.perf_counter() - t0
    if any(proc.returncode for proc in procs):
        return {"error": "\n".join(err[-1200:] for _, err in outs)}
    docs = [d for out, _ in outs for d in _docs(out)]
    return {"nodes": 2, "gpus_per_node": 1, "per_gpu_batch": p["batch"],
            **measure(store, docs[0]["run_id"], p, wall=wall, reports=len(docs))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="scaling", choices=["scaling", "sweep", "nodes", "all"])
    ap.add_argument("--tasks", default=None, help="comma-separated: sentiment,image (default: both)")
    ap.add_argument("--cpu", action="store_true", help="2 CPU processes over gloo, small (a check, not a measurement)")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench/results")
    ap.add_argument("--table", nargs="+", metavar="JSON", help="print the README tables from these files and stop")
    args = ap.parse_args()
    if args.table:
        return print_tables(args.table)
    import torch

    count = 2 if args.cpu else torch.cuda.device_count()
    if count < 2:
        sys.exit(f"needs 2 GPUs, found {count} (run on nvidia-h200-x2 or -x4, or pass --cpu)")
    counts = [g for g in (1, 2, 4) if g <= count]
    plan = tasks(args.cpu, args.epochs)
    if args.tasks:
        plan = {k: plan[k] for k in args.tasks.split(",")}
    device = "cpu (gloo)" if args.cpu else f"{count} x {torch.cuda.get_device_name(0)}"
    date = datetime.date.today().isoformat()
    os.makedirs(args.out, exist_ok=True)
    for part in (["scaling", "sweep", "nodes"] if args.part == "all" else [args.part]):
        path = os.path.join(args.out, f"ddp-{date}{'-cpu' if args.cpu else ''}-{part}.json")
        doc = {"device": device, "torch": torch.__version__, "date": date, "part": part, "rows": [],
               "tasks": {k: {**v["task"], "per_gpu_batch": v["batch"], "epochs": v["epochs"], "lr": v["lr"]}
                         for k, v in plan.items()}}

        def emit(row: dict) -> None:
            doc["rows"].append(row)
            print(json.dumps(row), flush=True)
            with open(path, "w") as fh:
                json.dump(doc, fh, indent=1)

        with tempfile.TemporaryDirectory() as tmp:
            if part == "scaling":
                scaling(tmp, plan, counts, emit)
            first = next(iter(plan.values()))
            if part == "sweep":
                for w in sorted({1, count}):
                    emit(sweep(tmp, first, w, args.cpu, name=f"sweep{w}"))
            if part == "nodes":
                emit(nodes(tmp, first, args.cpu))
        print(f"wrote {path}")
    print_tables(glob.glob(os.path.join(args.out, f"ddp-{date}{'-cpu' if args.cpu else ''}-*.json")))


def print_tables(paths: list[str]) -> None:
    """Markdown tables: scaling (speed-up against the 1-GPU row of the same kind), sweep, nodes."""
    docs = [json.load(open(p)) for p in sorted(paths)]
    for doc in docs:
        rows = [r for r in doc["rows"] if "error" not in r]
        bad = [r for r in doc["rows"] if "error" in r]
        print(f"\n{doc['part']} on {doc['device']} ({doc['date']}, torch {doc['torch']})")
        for r in bad:
            print(f"  FAILED {({k: v for k, v in r.items() if k != 'error'})}: {r['error'][-300:]}")
        if doc["part"] == "scaling":
            print("| task | mode | scaling | GPUs | per-GPU batch | global batch | samples/s | speed-up "
                  "| val acc ± SE | loop | val once |\n|---|---|---|---|---|---|---|---|---|---|---|")
            for r in rows:
                base = next((b for b in rows if b["task"] == r["task"] and b["mode"] == r["mode"]
                             and b["scaling"] == r["scaling"] and b["gpus"] == 1), None)
                up = r["samples_per_s"] / base["samples_per_s"] if base else float("nan")
                print(f"| {r['task']} | {r['mode']} | {r['scaling']} | {r['gpus']} | {r['per_gpu_batch']} | "
                      f"{r['global_batch']} | {r['samples_per_s']:,.0f} | {up:.2f}x | {r['val_metric']:.4f} ± "
                      f"{r['val_metric_se']:.4f} | {r['loop']} | {'yes' if r['val_once'] else 'NO'} |")
        elif doc["part"] == "sweep":
            print("| workers | trials | per worker | wall s | trials/hour | duplicates | lost |\n|---|---|---|---|---|---|---|")
            for r in rows:
                print(f"| {r['workers']} | {r['trials']} | {r['per_worker']} | {r['wall_s']} | "
                      f"{r['trials_per_hour']:.0f} | {r['duplicates']} | {r['lost']} |")
        else:
            for r in rows:
                print(f"2 nodes x 1 GPU: {r['samples_per_s']:,.0f} samples/s, val acc {r['val_metric']:.4f}, "
                      f"runs in the store {r['runs']}, reports {r['reports']}, validation once: {r['val_once']}")


if __name__ == "__main__":
    main()

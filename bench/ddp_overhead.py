"""What DDP costs a launch-bound step, measured on ONE GPU (a process group of one over NCCL), and
whether an NCCL all-reduce can live inside a captured CUDA graph (fast mode under DDP needs it).

For the sentiment task's MiniLM (batch 64, 64 tokens) and the image task's CNN (batch 256), the
same step four ways, each timed over --steps steps after a warm-up (wall time per step, with the
host's own busy time per step beside it):
  eager            forward, backward, AdamW (fused) — the 1-GPU standard loop's work
  eager+DDP        the model wrapped in DistributedDataParallel (gradient_as_bucket_view): its
                   per-parameter hooks, bucket copies and all-reduce, as the standard DDP loop
  graph            the whole step captured as one CUDA graph (fast mode)
  graph+allreduce  the same with the flat gradient all-reduce fast mode captures under DDP
The all-reduce over one rank moves no data between GPUs: what it shows is the host and launch cost
DDP adds to a step, and that the capture works. Writes ddp-overhead-<date>.json into --out.

    python3 bench/ddp_overhead.py --out $OUT          # on nvidia-h200 (bench/device.sh's set-up)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import time

import torch
import torch.distributed as dist

from bench.ddp import MULTICAST_OFF
from bench.gpu_train import captured
from fitdoctor.training.fast import average_gradients


def task(name: str):
    from fitdoctor.training.config import build_config
    from fitdoctor.training.tasks import build_task

    spec = {"sentiment": {"name": "sentiment", "train_size": 2048, "val_size": 64, "batch_size": 64,
                          "max_length": 64},
            "image": {"name": "image", "dataset": "animal", "train_size": 4096, "val_size": 64,
                      "batch_size": 256}}[name]
    t = build_task(build_config({"task": spec}))
    xs = next(iter(t.train))
    return t.model.cuda(), [x.cuda() for x in xs]


def timed(step, steps: int) -> dict:
    for _ in range(5):
        step()
    torch.cuda.synchronize()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    host = (time.process_time() - cpu0) / steps
    torch.cuda.synchronize()
    return {"ms_per_step": round((time.perf_counter() - wall0) / steps * 1e3, 3), "host_ms_per_step": round(host * 1e3, 3)}


def ways(name: str, steps: int) -> dict:
    out = {}
    for way in ("eager", "eager+DDP", "graph", "graph+allreduce"):
        torch.manual_seed(0)
        net, batch = task(name)
        *xs, y = batch
        model = net
        if way == "eager+DDP":
            model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[0], gradient_as_bucket_view=True)
        params = [p for p in net.parameters() if p.requires_grad]
        graph = way.startswith("graph")
        opt = torch.optim.AdamW(params, lr=torch.tensor(1e-5, device="cuda") if graph else 1e-5, fused=True,
                                capturable=graph)
        loss_fn = torch.nn.CrossEntropyLoss()

        def body():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = loss_fn(model(*xs), y)
            loss.backward()
            if way == "graph+allreduce":           # fast mode's own all-reduce, over one rank
                average_gradients([p.grad for p in params], 1)
            opt.step()

        if not graph:
            def step():
                opt.zero_grad(set_to_none=True)
                body()
        else:
            try:
                step = captured(body, opt)
            except Exception as exc:  # noqa: BLE001 - the answer is whether it captures
                out[way] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
                continue
        out[way] = timed(step, steps)
        print(name, way, out[way], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--tasks", default="sentiment,image")
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench/results")
    args = ap.parse_args()
    os.environ.update(MULTICAST_OFF)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group("nccl", rank=0, world_size=1, device_id=torch.device("cuda", 0))
    doc = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
           "date": datetime.date.today().isoformat(), "steps": args.steps,
           "rows": {name: ways(name, args.steps) for name in args.tasks.split(",")}}
    dist.destroy_process_group()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"ddp-overhead-{doc['date']}.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"\n| task | way | ms a step | host ms a step |\n|---|---|---|---|")
    for name, rows in doc["rows"].items():
        for way, r in rows.items():
            print(f"| {name} | {way} | " + (f"{r['ms_per_step']} | {r['host_ms_per_step']} |" if "error" not in r
                                            else f"failed: {r['error']} | |"))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

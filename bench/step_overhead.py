"""Fixed per-step cost of `fitdoctor train` over a hand-written loop, on the CPU.

The model is a single linear layer on scikit-learn's digits (1,797 real 8x8 images), so a step's
arithmetic is a few microseconds and what is left is the trainer's bookkeeping and the data
loader: the part of a step that does not shrink on a faster GPU. Prints microseconds per step for
the loader alone, the raw loop and fitdoctor, and the difference.

    python bench/step_overhead.py [--epochs 6] [--batch-size 32] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch
from torch import nn

from fitdoctor.store import RunStore
from fitdoctor.training.config import build_config
from fitdoctor.training.runner import train
from fitdoctor.training.tasks import TaskData
from fitdoctor.training.tasks.common import loader, stratified_split


def build(cfg) -> TaskData:
    """The task (importable as bench.step_overhead:build)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy((d.data / 16.0).astype(np.float32))
    y = torch.from_numpy(d.target.astype(np.int64))
    tr, va = stratified_split(d.target, 0.2, cfg.training.seed)
    bs = cfg.task.batch_size
    return TaskData(model=nn.Linear(64, 10), train=loader(x[tr], y[tr], bs, True, 0),
                    val=loader(x[va], y[va], bs, False, 0), num_classes=10, kind="multiclass",
                    metric="acc", default_loss="ce", train_targets=y[tr], description="digits, linear")


def config(epochs: int, bs: int):
    return build_config({"name": "overhead", "task": {"name": "bench.step_overhead:build", "batch_size": bs},
                         "training": {"epochs": epochs, "learning_rate": 1e-2, "scheduler": "CosineAnnealingLR",
                                      "accelerator": "cpu", "seed": 0}})


def loader_only(task) -> float:
    """Microseconds per batch of reading the training loader alone."""
    times = []
    for epoch in range(3):
        task.train.sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        for _ in task.train:
            pass
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times) / len(task.train)


def raw(cfg) -> tuple[float, float, int]:
    """(us per step of the hand-written loop, us per batch of the loader alone, steps an epoch)."""
    from fitdoctor.training.tasks import build_task

    task = build_task(cfg)
    net, loss_fn = task.model, nn.CrossEntropyLoss()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.training.learning_rate, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.training.epochs)
    times = []
    for epoch in range(cfg.training.epochs):
        task.train.sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        for x, y in task.train:
            loss = loss_fn(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
        sched.step()
    return 1e6 * statistics.median(times[1:]) / len(task.train), loader_only(task), len(task.train)


def fitdoctor(cfg, steps: int) -> float:
    """us per step of `fitdoctor train` (its stored train_time over the epoch's steps)."""
    with tempfile.TemporaryDirectory() as tmp:
        r = train(cfg, store_path=f"{tmp}/s.db", out_dir=tmp, say=lambda m: None, warn=lambda m: None,
                  progress=False)
        t = RunStore(f"{tmp}/s.db").epochs(r.run_id)
    return 1e6 * float(statistics.median(t["train_time"].iloc[1:])) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one fitdoctor run (top 25 by own time)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = config(args.epochs, args.batch_size)
    if args.profile:
        import cProfile
        import pstats

        steps = raw(cfg)[2]
        fitdoctor(cfg, steps)                    # imports and first-use costs out of the profile
        cProfile.runctx("fitdoctor(cfg, steps)", globals(), {"cfg": cfg, "steps": steps}, "/tmp/overhead.prof")
        pstats.Stats("/tmp/overhead.prof").sort_stats("tottime").print_stats(40)
        return
    rows = []
    for _ in range(args.repeats):
        r, ld, steps = raw(cfg)
        rows.append((ld, r, fitdoctor(cfg, steps)))
    ld, r, f = (statistics.median(c) for c in zip(*rows))
    print(f"batch {args.batch_size}, {args.epochs} epochs, median of {args.repeats}, us per training step:")
    print(f"  loader alone {ld:8.1f}\n  raw loop     {r:8.1f}\n  fitdoctor    {f:8.1f}\n"
          f"  overhead     {f - r:8.1f} us/step ({f / r:.2f}x the raw step)")


if __name__ == "__main__":
    main()

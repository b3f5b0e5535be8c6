"""GPU throughput of `fitdoctor train` against a hand-written PyTorch loop with the same model,
data, optimizer, precision and schedule, plus the cost of the LR range test against the notes'
coarse method (6 learning rates x 5 epochs). One call on the device machine:

    python3 bench/gpu_train.py [--compile 0|1|both] [--cases sentiment32,sentiment128,image256]
                               [--precisions fp32,bf16] [--impls raw,fitdoctor,lightning]
                               [--epochs 4] [--repeats 3] [--lr-find] [--out DIR] [--quick]

Prints a table and writes gpu-<date>.json ({"device", "torch", "rows": [{"task", "impl",
"precision", "compile", "batch_size", "samples_per_s", "step_ms"}], ...}) into --out
(default bench/results). samples/s is training throughput (the validation pass excluded), the
median over the epochs after the first (which includes warmup and compilation); the table shows
the median over --repeats (raw and fitdoctor interleaved) with the range, and the loader's own
rate (batches read and copied to the GPU, no model) to show whether data loading could starve it."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import tempfile
import time

import torch

from fitdoctor.store import RunStore
from fitdoctor.training.config import build_config
from fitdoctor.training.losses import build_loss
from fitdoctor.training.runner import train
from fitdoctor.training.tasks import build_task

CASES = {
    "sentiment32": ("sentiment", 32, {"dataset": "rotten_tomatoes", "train_size": 2048, "max_length": 64}),
    "sentiment128": ("sentiment", 128, {"dataset": "rotten_tomatoes", "train_size": 8192, "max_length": 64}),
    "image256": ("image", 256, {"dataset": "animal"}),          # Animal-MNIST: 8,000 train images
}


def config(case: str, precision: str, compile_: bool, epochs: int, quick: bool, device: str):
    task, bs, extra = CASES[case]
    t = {"name": task, "batch_size": bs, "val_size": 256, "num_workers": 0, **extra}
    if quick:
        t.update(train_size=256, max_length=16) if task == "sentiment" else t.update(train_size=512)
    lr = 5e-5 if task == "sentiment" else 1e-3
    return build_config({"name": f"bench-{case}-{precision}-{'c' if compile_ else 'e'}", "task": t,
                         "training": {"epochs": epochs, "learning_rate": lr, "weight_decay": 0.01,
                                      "scheduler": "CosineAnnealingLR",
                                      "precision": "bf16-mixed" if precision == "bf16" else "32",
                                      "compile": compile_, "accelerator": "gpu" if device == "cuda" else "cpu",
                                      "seed": 0}})


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def loader_rate(task, device: str) -> float:
    """Samples/s of the training loader alone, batches copied to the device as the trainer does
    (pinned memory, non-blocking): the rate above which data loading cannot starve the GPU."""
    sync(device)
    t0 = time.perf_counter()
    for batch in task.train:
        [b.to(device, non_blocking=True) for b in batch]
    sync(device)
    return len(task.train.dataset) / (time.perf_counter() - t0)


def raw_loop(cfg, device: str) -> dict:
    """The hand-written reference: same task, loss, AdamW, cosine per epoch, autocast."""
    torch.manual_seed(cfg.training.seed)
    task = build_task(cfg)
    loss_fn, _ = build_loss(cfg.loss, task)
    net = task.model.to(device)
    loss_fn = loss_fn.to(device)
    model = torch.compile(net) if cfg.training.compile else net
    t = cfg.training
    opt = torch.optim.AdamW(net.parameters(), lr=t.learning_rate, weight_decay=t.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.epochs)
    bf16 = t.precision == "bf16-mixed"
    loader_sps = loader_rate(task, device)
    times = []
    for epoch in range(t.epochs):
        task.train.sampler.set_epoch(epoch)
        net.train()
        sync(device)
        t0 = time.perf_counter()
        for batch in task.train:
            *xs, y = (b.to(device, non_blocking=True) for b in batch)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(*xs), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sync(device)
        times.append(time.perf_counter() - t0)
        sched.step()
    per_epoch = statistics.median(times[1:])
    n, steps = len(task.train.dataset), len(task.train)
    return {"samples_per_s": n / per_epoch, "step_ms": 1000 * per_epoch / steps, "n": n, "steps": steps,
            "loader_samples_per_s": loader_sps}


def lightning_run(cfg, device: str, n: int, steps: int) -> dict:
    """A bare LightningModule (forward, loss, AdamW, cosine, the same precision and compile, no
    fitdoctor bookkeeping): separates Lightning's own per-step cost from fitdoctor's."""
    import lightning as L

    torch.manual_seed(cfg.training.seed)
    task = build_task(cfg)
    loss_fn, _ = build_loss(cfg.loss, task)
    t = cfg.training

    class Bare(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net, self.loss_fn, self.times = task.model, loss_fn, []
            self.model = torch.compile(self.net) if t.compile else self.net

        def training_step(self, batch, batch_idx):
            *xs, y = batch
            return self.loss_fn(self.model(*xs), y)

        def on_train_epoch_start(self):
            sync(device)
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self):
            sync(device)
            self.times.append(time.perf_counter() - self.t0)

        def configure_optimizers(self):
            opt = torch.optim.AdamW(self.net.parameters(), lr=t.learning_rate, weight_decay=t.weight_decay)
            return [opt], [torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.epochs)]

    module = Bare()
    L.Trainer(max_epochs=t.epochs, accelerator="gpu" if device == "cuda" else "cpu", devices=1,
              precision=t.precision, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0).fit(module, task.train)
    per_epoch = statistics.median(module.times[1:])
    return {"samples_per_s": n / per_epoch, "step_ms": 1000 * per_epoch / steps}


def fitdoctor_run(cfg, store: str, out: str, n: int, steps: int) -> dict:
    result = train(cfg, store_path=store, out_dir=out, say=lambda m: None, warn=lambda m: None, progress=False)
    table = RunStore(store).epochs(result.run_id)
    per_epoch = float(statistics.median(table["train_time"].iloc[1:]))
    return {"samples_per_s": n / per_epoch, "step_ms": 1000 * per_epoch / steps}


def lr_find_vs_coarse(device: str, quick: bool) -> dict:
    """lr-find (100 steps) against 6 learning rates x 5 epochs of real training (the notes)."""
    from fitdoctor.diagnosis import diagnose
    from fitdoctor.lrfind.run import find_lr

    base = {"name": "lr-range", "task": {"name": "sentiment", "dataset": "rotten_tomatoes", "batch_size": 32,
                                         "train_size": 256 if quick else 2048, "val_size": 512 if not quick else 64,
                                         "max_length": 64 if not quick else 16},
            "training": {"epochs": 5 if not quick else 2, "learning_rate": 1e-5,
                         "accelerator": "gpu" if device == "cuda" else "cpu", "seed": 0}}
    cfg = build_config(base)
    sync(device)
    t0 = time.perf_counter()
    found = find_lr(cfg, steps=100)
    sync(device)
    finder_s = time.perf_counter() - t0
    coarse, coarse_s = {}, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "s.db")
        for lr in (1e-7, 1e-6, 1e-5, 2e-5, 1e-4, 1e-3):
            c = build_config({**base, "training": {**base["training"], "learning_rate": lr}})
            t0 = time.perf_counter()
            r = train(c, store_path=store, out_dir=tmp, say=lambda m: None, warn=lambda m: None, progress=False)
            coarse_s += time.perf_counter() - t0
            d = diagnose(RunStore(store).history(r.run_id))
            coarse[f"{lr:g}"] = d.best.expected if d.best.expected is not None else d.best.value
    best_lr = max(coarse, key=coarse.get)
    import math
    same_decade = found.suggestion is not None and abs(math.log10(found.suggestion) - math.log10(float(best_lr))) < 1
    return {"lr_find_seconds": finder_s, "lr_find_epochs": found.cost_epochs, "suggestion": found.suggestion,
            "suggestions": found.suggestions, "coarse_seconds": coarse_s,
            "coarse_epochs": 6 * base["training"]["epochs"], "coarse_val_acc": coarse, "coarse_best_lr": float(best_lr),
            "same_decade": same_decade}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compile", default="0", choices=["0", "1", "both"])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--impls", default="raw,fitdoctor",
                    help="raw,fitdoctor[,lightning]: lightning is a bare LightningModule (Lightning's own cost)")
    ap.add_argument("--lr-find", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="time raw, fitdoctor, raw, ... this many times each")
    ap.add_argument("--tag", default="", help="appended to the results file's name")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, for a CPU smoke test")
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench/results")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    os.makedirs(args.out, exist_ok=True)
    impls = ["raw"] + [i for i in args.impls.split(",") if i != "raw"]
    compiles = {"0": [False], "1": [True], "both": [False, True]}[args.compile]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "bench.db")
        for case in args.cases.split(","):
            for precision in args.precisions.split(","):
                for comp in compiles:
                    cfg = config(case, precision, comp, args.epochs, args.quick, device)
                    size = {}
                    for rep, impl in [(r, i) for r in range(args.repeats) for i in impls]:
                        if impl == "raw":
                            m = raw_loop(cfg, device)
                            size = {"n": m["n"], "steps": m["steps"]}
                        elif impl == "lightning":
                            m = lightning_run(cfg, device, size["n"], size["steps"])
                        else:
                            m = fitdoctor_run(cfg, store, tmp, size["n"], size["steps"])
                        row = {"task": CASES[case][0], "impl": impl, "precision": precision, "compile": comp,
                               "batch_size": CASES[case][1], "samples_per_s": round(m["samples_per_s"], 1),
                               "step_ms": round(m["step_ms"], 3), "repeat": rep}
                        if "loader_samples_per_s" in m:
                            row["loader_samples_per_s"] = round(m["loader_samples_per_s"], 1)
                        rows.append(row)
                        print(json.dumps(row), flush=True)
    doc = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
           "date": datetime.date.today().isoformat(), "epochs": args.epochs, "rows": rows}
    if args.lr_find:
        doc["lr_find"] = lr_find_vs_coarse(device, args.quick)
        print(json.dumps(doc["lr_find"]), flush=True)
    name = f"gpu-{doc['date']}-compile{args.compile}{'-' + args.tag if args.tag else ''}.json"
    with open(os.path.join(args.out, name), "w") as fh:
        json.dump(doc, fh, indent=1)
    print(f"\n{'task':<10}{'bs':>5}{'prec':>6}{'compile':>9}" + "".join(f"{i + ' /s':>24}" for i in impls)
          + "".join(f"{i[:9] + '/raw':>15}" for i in impls[1:]) + f"{'loader /s':>12}")
    keys = ("task", "batch_size", "precision", "compile")
    # the median over repeats, and the range: one slow outlier (a GPU clock change) moves it least
    span = lambda v: f"{statistics.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]"  # noqa: E731
    for r in [x for x in rows if x["impl"] == "raw" and x["repeat"] == 0]:
        same = [x for x in rows if all(x[k] == r[k] for k in keys)]
        rate = {i: [x["samples_per_s"] for x in same if x["impl"] == i] for i in impls}
        loader = statistics.median(x["loader_samples_per_s"] for x in same if x["impl"] == "raw")
        print(f"{r['task']:<10}{r['batch_size']:>5}{r['precision']:>6}{str(r['compile']):>9}"
              + "".join(f"{span(rate[i]):>24}" for i in impls)
              + "".join(f"{statistics.median(rate[i]) / statistics.median(rate['raw']):>15.3f}" for i in impls[1:])
              + f"{loader:>12.0f}")
    print(f"wrote {os.path.join(args.out, name)}")


if __name__ == "__main__":
    main()

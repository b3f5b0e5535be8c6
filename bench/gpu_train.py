"""GPU throughput of `fitdoctor train` (standard loop and fast mode) against hand-written PyTorch
loops with the same model, data, optimizer, precision and schedule — an eager one and the anchor,
the whole step captured in one CUDA graph — plus fast mode's quality and time to a result, and the
cost of the LR range test against the notes' coarse method (6 learning rates x 5 epochs). One call
on the device machine:

    python3 bench/gpu_train.py [--compile 0|1|both] [--cases sentiment32,sentiment128,image256]
                               [--precisions fp32,bf16] [--impls raw,raw-graph,fitdoctor,fast,lightning]
                               [--epochs 4] [--repeats 3] [--quality 3] [--lr-find] [--out DIR] [--quick]

Prints a table and writes gpu-<date>.json ({"device", "torch", "rows": [{"task", "impl", "mode",
"precision", "compile", "batch_size", "samples_per_s", "step_ms"}], "quality": [...]}) into --out
(default bench/results). impl: raw (eager loop, DataLoader), raw-graph (data on the GPU, fused
capturable AdamW, the step one CUDA graph), raw-compile-ro (that loop with the model under
torch.compile(mode="reduce-overhead") instead), fitdoctor (mode eager = the standard loop, fast =
training.fast), lightning (a bare LightningModule). samples/s is training throughput (the
validation pass excluded), the median over the epochs after the first (which includes warmup,
capture and compilation); the table shows the median over --repeats (implementations
interleaved) with the range, each as a ratio to the anchor measured in the same call, and the
loader's own rate (batches read and copied to the GPU, no model). --quality N trains each case N
seeds in each mode on a validation set of 1,000 and prints the final validation accuracy (mean
and standard error over the seeds) and the whole run's seconds, from train() to the stored
diagnosis."""

from __future__ import annotations

import argparse
import datetime
import json
import math
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


def config(case: str, precision: str, compile_: bool, epochs: int, quick: bool, device: str,
           fast: bool = False, seed: int = 0, val_size: int = 256):
    task, bs, extra = CASES[case]
    t = {"name": task, "batch_size": bs, "val_size": val_size, "num_workers": 0, **extra}
    if quick:
        t.update(train_size=256, max_length=16) if task == "sentiment" else t.update(train_size=512)
    lr = 5e-5 if task == "sentiment" else 1e-3
    return build_config({"name": f"bench-{case}-{precision}-{'c' if compile_ else 'e'}", "task": t,
                         "training": {"epochs": epochs, "learning_rate": lr, "weight_decay": 0.01,
                                      "scheduler": "CosineAnnealingLR",
                                      "precision": "bf16-mixed" if precision == "bf16" else "32",
                                      "compile": compile_, "accelerator": "gpu" if device == "cuda" else "cpu",
                                      "fast": fast, "seed": seed}})


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


def captured(step, opt):
    """``step`` (zero_grad excluded) captured as one CUDA graph after torch's recipe — three
    warm-up steps on a side stream — and its replay."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(side)
    opt.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def raw_graph_loop(cfg, device: str, reduce_overhead: bool = False) -> dict:
    """The anchor: the training data on the GPU, batches gathered by index, static shapes (the
    remainder dropped), fused capturable AdamW with the LR a device tensor (cosine per epoch), and
    the whole step — forward, backward, optimizer — replayed from one CUDA graph.
    ``reduce_overhead``: the other way, the same loop with the model under torch.compile
    (mode="reduce-overhead": Inductor's kernels, forward and backward in CUDA graphs it manages)
    and the optimizer step outside them."""
    torch.manual_seed(cfg.training.seed)
    task = build_task(cfg)
    loss_fn, _ = build_loss(cfg.loss, task)
    net = task.model.to(device)
    loss_fn = loss_fn.to(device)
    t = cfg.training
    data = [x.to(device) for x in task.train.dataset.tensors]
    n, bs = len(data[0]), task.train.batch_size
    steps = n // bs
    lr = torch.tensor(t.learning_rate, device=device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=t.weight_decay, fused=True, capturable=True)
    bf16 = t.precision == "bf16-mixed"
    idx = torch.arange(bs, device=device)

    def step():
        *xs, y = (x.index_select(0, idx) for x in data)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16, cache_enabled=False):
            loss = loss_fn(net(*xs), y)
        loss.backward()
        opt.step()

    if reduce_overhead:
        model = torch.compile(net, mode="reduce-overhead")

        def replay():
            *xs, y = (x.index_select(0, idx) for x in data)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(*xs), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    else:
        replay = captured(step, opt)
    times = []
    for epoch in range(t.epochs):
        lr.fill_(t.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / t.epochs)))
        order = torch.randperm(n, device=device)
        sync(device)
        t0 = time.perf_counter()
        for i in range(steps):
            idx.copy_(order[i * bs:(i + 1) * bs])
            replay()
        sync(device)
        times.append(time.perf_counter() - t0)
    per_epoch = statistics.median(times[1:])
    return {"samples_per_s": steps * bs / per_epoch, "step_ms": 1000 * per_epoch / steps}


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
    said = []
    result = train(cfg, store_path=store, out_dir=out, say=said.append, warn=said.append, progress=False)
    if cfg.training.fast and not any(s.startswith("fast mode") for s in said):
        raise SystemExit(f"fast mode was not used: {said}")
    table = RunStore(store).epochs(result.run_id)
    per_epoch = float(statistics.median(table["train_time"].iloc[1:]))
    if cfg.training.fast:                       # whole steps only (the remainder is left out)
        bs = cfg.task.batch_size
        n, steps = n // bs * bs, n // bs
    return {"samples_per_s": n / per_epoch, "step_ms": 1000 * per_epoch / steps}


def quality(case: str, precision: str, epochs: int, seeds: int, device: str, tmp: str) -> list[dict]:
    """Final validation accuracy (1,000 examples) and the whole run's seconds, from train() to the
    stored diagnosis, for each mode and seed."""
    from fitdoctor.diagnosis import diagnose

    rows = []
    store = os.path.join(tmp, "quality.db")
    for seed in range(seeds):
        for fast in (False, True):
            cfg = config(case, precision, False, epochs, False, device, fast=fast, seed=seed, val_size=1000)
            sync(device)
            t0 = time.perf_counter()
            r = train(cfg, store_path=store, out_dir=tmp, say=lambda m: None, warn=lambda m: None, progress=False)
            d = diagnose(RunStore(store).history(r.run_id))
            seconds = time.perf_counter() - t0
            table = RunStore(store).epochs(r.run_id)
            row = {"task": CASES[case][0], "batch_size": CASES[case][1], "precision": precision,
                   "mode": "fast" if fast else "eager", "seed": seed,
                   "final_val_acc": float(table["val_acc"].iloc[-1]), "best_val_acc": float(table["val_acc"].max()),
                   "run_seconds": round(seconds, 2), "verdict": d.verdict}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def print_quality(rows: list[dict]) -> None:
    print(f"\n{'task':<10}{'bs':>5}{'mode':>7}{'final val_acc (mean +- se)':>30}{'run s (median)':>16}")
    for key in sorted({(r["task"], r["batch_size"], r["precision"], r["mode"]) for r in rows}):
        same = [r for r in rows if (r["task"], r["batch_size"], r["precision"], r["mode"]) == key]
        acc = [r["final_val_acc"] for r in same]
        se = statistics.stdev(acc) / math.sqrt(len(acc)) if len(acc) > 1 else float("nan")
        print(f"{key[0]:<10}{key[1]:>5}{key[3]:>7}{statistics.mean(acc):>22.4f} +- {se:.4f}"
              f"{statistics.median(r['run_seconds'] for r in same):>16.1f}")


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
    same_decade = found.suggestion is not None and abs(math.log10(found.suggestion) - math.log10(float(best_lr))) < 1
    return {"lr_find_seconds": finder_s, "lr_find_epochs": found.cost_epochs, "suggestion": found.suggestion,
            "suggestions": found.suggestions, "coarse_seconds": coarse_s,
            "coarse_epochs": 6 * base["training"]["epochs"], "coarse_val_acc": coarse, "coarse_best_lr": float(best_lr),
            "same_decade": same_decade}


IMPLS = {"raw": ("raw", "eager"), "raw-graph": ("raw-graph", "fast"),
         "raw-compile-ro": ("raw-compile-ro", "fast"), "fitdoctor": ("fitdoctor", "eager"),
         "fast": ("fitdoctor", "fast"), "lightning": ("lightning", "eager")}


def measure(token: str, case: str, precision: str, comp: bool, args, device: str, store: str, tmp: str,
            size: dict) -> dict:
    cfg = config(case, precision, comp, args.epochs, args.quick, device, fast=token == "fast")
    if token == "raw":
        m = raw_loop(cfg, device)
        size.update(n=m["n"], steps=m["steps"])
        return m
    if token in ("raw-graph", "raw-compile-ro"):
        return raw_graph_loop(cfg, device, reduce_overhead=token == "raw-compile-ro")
    if token == "lightning":
        return lightning_run(cfg, device, size["n"], size["steps"])
    return fitdoctor_run(cfg, store, tmp, size["n"], size["steps"])


def print_table(rows: list[dict], tokens: list[str]) -> None:
    """samples/s per implementation (median [range] over repeats), then ratios of medians: each to
    the graph-captured anchor, and fitdoctor's standard loop to the raw eager loop."""
    anchor = "raw-graph" if "raw-graph" in tokens else "raw"
    ratios = [(t, anchor) for t in tokens if t != anchor] + \
        ([("fitdoctor", "raw")] if anchor != "raw" and "fitdoctor" in tokens else [])
    print(f"\n{'task':<10}{'bs':>5}{'prec':>6}{'compile':>9}" + "".join(f"{t + ' /s':>24}" for t in tokens)
          + "".join(f"{a + '/' + b:>22}" for a, b in ratios) + f"{'loader /s':>12}")
    keys = ("task", "batch_size", "precision", "compile")
    # the median over repeats, and the range: one slow outlier (a GPU clock change) moves it least
    span = lambda v: f"{statistics.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]" if v else "-"  # noqa: E731
    for r in [x for x in rows if x["token"] == "raw" and x["repeat"] == 0]:
        same = [x for x in rows if all(x[k] == r[k] for k in keys)]
        rate = {t: [x["samples_per_s"] for x in same if x["token"] == t] for t in tokens}
        loader = statistics.median(x["loader_samples_per_s"] for x in same if x["token"] == "raw")
        ratio = lambda a, b: f"{statistics.median(rate[a]) / statistics.median(rate[b]):.3f}" \
            if rate[a] and rate[b] else "-"  # noqa: E731
        print(f"{r['task']:<10}{r['batch_size']:>5}{r['precision']:>6}{str(r['compile']):>9}"
              + "".join(f"{span(rate[t]):>24}" for t in tokens)
              + "".join(f"{ratio(a, b):>22}" for a, b in ratios) + f"{loader:>12.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--compile", default="0", choices=["0", "1", "both"])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--impls", default="raw,raw-graph,fitdoctor,fast",
                    help="raw,raw-graph,fitdoctor,fast[,lightning,raw-compile-ro]: fast is fitdoctor's "
                         "training.fast; lightning a bare LightningModule (Lightning's own cost); "
                         "raw-compile-ro the anchor's loop under torch.compile(mode='reduce-overhead'); "
                         "raw-graph, raw-compile-ro and fast need CUDA")
    ap.add_argument("--quality", type=int, default=0, help="seeds per mode for the quality and time-to-result table")
    ap.add_argument("--lr-find", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="time the implementations interleaved this many times each")
    ap.add_argument("--tag", default="", help="appended to the results file's name")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, for a CPU smoke test")
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench/results")
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    os.makedirs(args.out, exist_ok=True)
    tokens = ["raw"] + [i for i in args.impls.split(",") if i != "raw"]
    unknown = set(tokens) - set(IMPLS)
    if unknown:
        ap.error(f"unknown --impls {', '.join(sorted(unknown))}; choose from {', '.join(IMPLS)}")
    if device == "cpu":
        tokens = [t for t in tokens if t not in ("raw-graph", "raw-compile-ro", "fast")]
    compiles = {"0": [False], "1": [True], "both": [False, True]}[args.compile]
    rows, quality_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "bench.db")
        for case in args.cases.split(","):
            for precision in args.precisions.split(","):
                for comp in compiles:
                    size: dict = {}
                    here = [t for t in tokens if not (comp and t in ("raw-graph", "raw-compile-ro"))]
                    for rep, token in [(r, t) for r in range(args.repeats) for t in here]:
                        m = measure(token, case, precision, comp, args, device, store, tmp, size)
                        impl, mode = IMPLS[token]
                        row = {"task": CASES[case][0], "impl": impl, "mode": mode, "token": token,
                               "precision": precision, "compile": comp, "batch_size": CASES[case][1],
                               "samples_per_s": round(m["samples_per_s"], 1), "step_ms": round(m["step_ms"], 3),
                               "repeat": rep}
                        if "loader_samples_per_s" in m:
                            row["loader_samples_per_s"] = round(m["loader_samples_per_s"], 1)
                        rows.append(row)
                        print(json.dumps(row), flush=True)
                if args.quality:
                    quality_rows += quality(case, precision, args.epochs, args.quality, device, tmp)
    doc = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
           "date": datetime.date.today().isoformat(), "epochs": args.epochs, "rows": rows, "quality": quality_rows}
    if args.lr_find:
        doc["lr_find"] = lr_find_vs_coarse(device, args.quick)
        print(json.dumps(doc["lr_find"]), flush=True)
    name = f"gpu-{doc['date']}-compile{args.compile}{'-' + args.tag if args.tag else ''}.json"
    with open(os.path.join(args.out, name), "w") as fh:
        json.dump(doc, fh, indent=1)
    print_table(rows, tokens)
    if quality_rows:
        print_quality(quality_rows)
    print(f"wrote {os.path.join(args.out, name)}")


if __name__ == "__main__":
    main()

"""Build the truth corpus: real runs trained with fitdoctor's own trainer on real data, each with a
large held-out test split that only serves as the truth (see PROTOCOL.md).

    .venv/bin/python bench/truth/make_corpus.py --tasks digits,mnist,animal [--seeds 0-3] [--jobs 2]
    python3 bench/truth/make_corpus.py --tasks sentiment --jobs 8        # on the GPU machine

For every (task, scenario, seed) it writes bench/truth/corpus/<task>/<scenario>/s<seed>/:
  history.csv   what a user's log would hold: epoch, lr, train/val loss and metrics (the input)
  truth.csv     epoch, test_loss, test_acc (the truth; never shown to the diagnosis)
  examples.npz  per-epoch correctness of every validation and test example (packed bits)
  config.yaml   the resolved config;  meta.json  sizes, stop reason, seconds
A run whose folder already holds meta.json is skipped, so an interrupted build resumes."""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

# Per task: the base config (fitdoctor's YAML keys) and the held-out test size (None: all the
# examples in neither the training nor the validation subset).
def _image(dataset: str, train_size: int, batch_size: int, test_size: int | None) -> dict:
    return {"task": {"name": "bench.truth.task:build", "dataset": dataset, "train_size": train_size,
                     "val_size": 300, "batch_size": batch_size,
                     "params": {"base": "image", "test_size": test_size}},
            "model": {"width": 16, "dropout": 0.1},
            "training": {"epochs": 30, "learning_rate": 1e-3, "accelerator": "cpu"}}


BASE = {
    "digits": _image("digits", 600, 32, None),
    "mnist": _image("mnist", 1000, 64, 3000),
    "animal": _image("animal", 1000, 64, 4000),
    "sentiment": {"task": {"name": "bench.truth.task:build", "dataset": "rotten_tomatoes",
                           "train_size": 2000, "val_size": 500, "batch_size": 32, "max_length": 64,
                           "params": {"base": "sentiment", "test_size": 6000}},
                  "model": {"dropout": 0.1},
                  "training": {"epochs": 20, "learning_rate": 2e-5, "precision": "bf16-mixed"}},
}

# Scenarios by design: overrides of the base (dotted keys). "image" scenarios serve the three
# CPU tasks; "sentiment" its own (a pretrained encoder has other LR ranges).
IMAGE = {
    "healthy": {"training.weight_decay": 1e-4, "model.dropout": 0.2, "training.epochs": 20},
    "overfit": {"task.train_size": 200, "model.dropout": 0.0, "training.epochs": 40},
    "lr_high_sgd": {"training.optimizer": "SGD", "training.learning_rate": 0.5, "training.epochs": 20},
    "lr_high_adam": {"training.learning_rate": 0.05, "training.epochs": 20},
    "lr_low": {"training.learning_rate": 1e-5, "training.epochs": 25},
    "dropout_heavy": {"model.dropout": 0.8, "training.epochs": 25},
    "warm_restarts": {"training.learning_rate": 3e-3, "training.scheduler": "CosineAnnealingWarmRestarts",
                      "training.scheduler_params": {"T_0": 8}, "training.epochs": 32},
    "plateau": {"training.learning_rate": 3e-3, "training.scheduler": "ReduceLROnPlateau",
                "training.scheduler_params": {"factor": 0.3, "patience": 3}, "training.warmup_epochs": 2},
    "cosine_long": {"training.scheduler": "CosineAnnealingLR", "training.scheduler_params": {"T_max": 90}},
    "cosine_annealed": {"training.scheduler": "CosineAnnealingLR", "training.epochs": 30},
    "val100": {"task.val_size": 100, "training.epochs": 20},
    "val1000": {"task.val_size": 1000, "training.epochs": 20},
    "overfit_long": {"task.train_size": 300, "model.dropout": 0.0, "training.epochs": 60,
                     "training.learning_rate": 3e-3},
    "warmup_cosine": {"training.learning_rate": 3e-3, "training.warmup_epochs": 3,
                      "training.scheduler": "CosineAnnealingLR", "training.epochs": 25},
}
SENTIMENT = {
    "healthy": {"training.epochs": 12},
    "overfit": {"task.train_size": 500, "training.learning_rate": 5e-5, "training.epochs": 25},
    "lr_high": {"training.learning_rate": 1e-3, "training.epochs": 15},
    "lr_low": {"training.learning_rate": 1e-6, "training.epochs": 15},
    "dropout_heavy": {"model.dropout": 0.6, "training.epochs": 15},
    "warm_restarts": {"training.learning_rate": 3e-5, "training.scheduler": "CosineAnnealingWarmRestarts",
                      "training.scheduler_params": {"T_0": 5}, "training.epochs": 20},
    "plateau": {"training.learning_rate": 5e-5, "training.scheduler": "ReduceLROnPlateau",
                "training.scheduler_params": {"factor": 0.3, "patience": 2}, "training.warmup_epochs": 1},
    "cosine_long": {"training.scheduler": "CosineAnnealingLR", "training.scheduler_params": {"T_max": 60},
                    "training.epochs": 20},
    "cosine_annealed": {"training.scheduler": "CosineAnnealingLR", "training.epochs": 20},
    "val100": {"task.val_size": 100, "training.epochs": 12},
    "val1000": {"task.val_size": 1000, "training.epochs": 12},
}
# digits has 1,437 training and 360 validation images in all
DIGITS_FIX = {"val1000": {"task.val_size": 340}, "overfit": {"task.train_size": 150}}


def scenarios(task: str) -> dict[str, dict]:
    table = SENTIMENT if task == "sentiment" else IMAGE
    out = {}
    for name, over in table.items():
        over = dict(over)
        if task == "digits":
            over.update(DIGITS_FIX.get(name, {}))
        out[name] = over
    return out


def config_for(task: str, scenario: str, seed: int) -> dict:
    from fitdoctor.training.config import set_key

    cfg = copy.deepcopy(BASE[task])
    for key, value in scenarios(task)[scenario].items():
        set_key(cfg, key, copy.deepcopy(value))
    cfg["training"]["seed"] = seed
    cfg["name"] = f"{task}-{scenario}-s{seed}"
    return cfg


def _truth_callback():
    import lightning as L
    import numpy as np
    import torch

    class TruthRecorder(L.Callback):
        """After each validation: the model (EMA weights when validation uses them) on the test
        split, and every validation and test example's correctness."""

        def __init__(self, test_loader):
            self.test, self.rows, self.val_correct, self.test_correct = test_loader, {}, {}, {}

        @torch.no_grad()
        def on_validation_epoch_end(self, trainer, module):
            net = module.ema.module if module.ema is not None else module.net
            was = net.training
            net.eval()
            losses, hits = [], []
            for batch in self.test:
                *xs, y = (t.to(module.device) for t in batch)
                with torch.autocast(module.device.type, dtype=torch.bfloat16,
                                    enabled=trainer.precision == "bf16-mixed"):
                    out = net(*xs)
                losses.append(float(module.loss_fn(out.float(), y)) * len(y))
                hits.append((module._pred(out) == y.long()).cpu().numpy())
            net.train(was)
            correct = np.concatenate(hits)
            e = int(module.current_epoch)
            self.rows[e] = {"epoch": e, "test_loss": sum(losses) / len(correct),
                            "test_acc": float(correct.mean())}
            self.test_correct[e] = correct
            if module._val_out:
                self.val_correct[e] = np.concatenate([(p == t).numpy() for p, t in module._val_out])

    return TruthRecorder


def run_one(task: str, scenario: str, seed: int, out_root: str) -> str:
    import numpy as np
    import pandas as pd
    import yaml

    from fitdoctor.training.config import build_config, config_dict
    from fitdoctor.training.runner import train
    from fitdoctor.training.tasks import build_task
    from fitdoctor.store import RunStore

    folder = os.path.join(out_root, task, scenario, f"s{seed}")
    if os.path.exists(os.path.join(folder, "meta.json")):
        return f"{folder}: kept"
    cfg = build_config(config_for(task, scenario, seed), where=f"{task}/{scenario}")
    test_loader = build_task(cfg).extra["test"]
    recorder = _truth_callback()(test_loader)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store_path = os.path.join(tmp, "runs.db")
        res = train(cfg, store_path=store_path, out_dir=os.path.join(tmp, "runs"), say=lambda s: None,
                    warn=lambda s: None, progress=False, extra_callbacks=[recorder])
        table = RunStore(store_path).epochs(res.run_id)
    seconds = time.perf_counter() - t0
    keep = [c for c in ("epoch", "lr", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc",
                        "val_f1") if c in table.columns]
    os.makedirs(folder, exist_ok=True)
    table[keep].to_csv(os.path.join(folder, "history.csv"), index=False, float_format="%.6g")
    truth = pd.DataFrame([recorder.rows[e] for e in sorted(recorder.rows)])
    truth.to_csv(os.path.join(folder, "truth.csv"), index=False, float_format="%.6g")
    epochs = sorted(recorder.test_correct)
    val = np.stack([recorder.val_correct[e] for e in epochs]) if recorder.val_correct else np.zeros((0, 0), bool)
    test = np.stack([recorder.test_correct[e] for e in epochs])
    np.savez_compressed(os.path.join(folder, "examples.npz"), epochs=np.array(epochs),
                        val_correct=np.packbits(val, axis=1), n_val=val.shape[1],
                        test_correct=np.packbits(test, axis=1), n_test=test.shape[1])
    with open(os.path.join(folder, "config.yaml"), "w", encoding="utf-8") as fh:
        yaml.safe_dump(config_dict(cfg), fh, sort_keys=False)
    # fast mode (a GPU's default) does not keep per-example validation predictions: its val size
    # is the config's (the task's validation subset), and meta says which loop trained the run
    n_val = int(val.shape[1]) if val.size else int(cfg.task.val_size or 0)
    meta = {"task": task, "scenario": scenario, "seed": seed, "epochs": len(table),
            "n_val": n_val, "n_test": int(test.shape[1]), "stop_reason": res.stop_reason,
            "seconds": round(seconds, 1), **({} if val.size else {"loop": "fast"})}
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
    return f"{folder}: {len(table)} epochs, {seconds:.1f} s"


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    os.chdir(ROOT)                               # the task is imported as bench.truth.task
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


def _seeds(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b) + 1)) if b else [int(x) for x in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="digits,mnist,animal")
    ap.add_argument("--scenarios", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--seeds", default="0-3")
    ap.add_argument("--jobs", type=int, default=1, help="parallel training processes")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--out", default=CORPUS)
    ap.add_argument("--skip-from", default=None, help="also skip runs this corpus already holds")
    args = ap.parse_args()
    jobs = [(t, s, seed) for t in args.tasks.split(",") for s in scenarios(t)
            if not args.scenarios or s in args.scenarios.split(",") for seed in _seeds(args.seeds)
            if not (args.skip_from and os.path.exists(
                os.path.join(args.skip_from, t, s, f"s{seed}", "meta.json")))]
    print(f"{len(jobs)} runs -> {args.out}", flush=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, initializer=_worker_init, initargs=(args.threads,)) as pool:
        futures = {pool.submit(run_one, *job, args.out): job for job in jobs}
        for k, fut in enumerate(as_completed(futures), 1):
            try:
                print(f"[{k}/{len(jobs)} {time.perf_counter() - t0:.0f}s] {fut.result()}", flush=True)
            except Exception as exc:   # one broken run must not lose the others  # noqa: BLE001
                print(f"[{k}/{len(jobs)}] {futures[fut]}: FAILED {type(exc).__name__}: {exc}", flush=True)


if __name__ == "__main__":
    main()

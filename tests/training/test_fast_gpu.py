"""Fast mode on a GPU (skipped without one; run on the device machine): the step is really
replayed from a CUDA graph, it never waits for the GPU, it learns what the standard loop learns,
a non-finite loss stops it, and a resumed run computes what the uninterrupted one did."""

import lightning as L
import pytest
import torch

from fitdoctor.errors import Interrupted
from fitdoctor.store import RunStore
from fitdoctor.training.config import build_config
from fitdoctor.training.fast import FastModule
from fitdoctor.training.runner import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
QUIET = {"say": lambda m: None, "warn": lambda m: None, "progress": False}


def config(fast=True, seed=0, **training):
    return build_config({"task": {"name": "image", "dataset": "digits", "train_size": 1400, "val_size": 300,
                                  "batch_size": 32},
                         "training": {"epochs": 4, "learning_rate": 3e-3, "accelerator": "gpu", "fast": fast,
                                      "seed": seed, **training}})


class Watch(L.Callback):
    """Every step after the first (which captures) under sync debug mode "error"; records
    whether the module replays a captured graph."""

    def __init__(self):
        self.steps, self.graphed, self.val_graphed = 0, False, False

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx >= 1:
            torch.cuda.set_sync_debug_mode("error")
            self.steps += 1

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        torch.cuda.set_sync_debug_mode("default")
        self.graphed = isinstance(module, FastModule) and module._train_step.graph is not None

    def on_validation_epoch_end(self, trainer, module):
        self.val_graphed = module._val_step.graph is not None


@pytest.mark.parametrize("training", [
    {"precision": "32"},
    {"precision": "bf16-mixed", "max_grad_norm": 1.0, "ema": {"decay": 0.9}, "accumulate_grad_batches": 2,
     "scheduler": "CosineAnnealingLR", "step_per": "batch", "warmup_steps": 20},
], ids=["fp32", "bf16-clip-ema-accumulate-schedule"])
def test_the_step_is_a_replayed_graph_that_never_waits(tmp_path, training):
    watch = Watch()
    try:
        r = train(config(**training), store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path),
                  extra_callbacks=[watch], **QUIET)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert r.status == "completed" and watch.graphed and watch.val_graphed and watch.steps > 50
    table = RunStore(str(tmp_path / "s.db")).epochs(r.run_id)
    assert table["val_acc"].iloc[-1] > 0.85 and table["train_loss"].notna().all()
    assert table["lr"].nunique() > 1 or "scheduler" not in training    # the schedule reached the graph


class Frozen(L.Callback):
    """The weights over epoch 0 (LR 3e-3) and over epoch 2 (LR 0 from epoch 1 on)."""

    def __init__(self):
        self.changed = {}

    def on_train_epoch_start(self, trainer, module):
        self.before = [p.detach().clone() for p in module.net.parameters()]

    def on_train_epoch_end(self, trainer, module):
        self.changed[trainer.current_epoch] = any(
            not torch.equal(a, p) for a, p in zip(self.before, module.net.parameters()))


def test_the_graph_reads_the_schedules_lr(tmp_path):
    """The graph was captured at LR 3e-3; the schedule sets it to 0 after epoch 0: from then on
    the update must leave every weight as it was (no weight decay, no EMA)."""
    frozen = Frozen()
    train(config(epochs=3, scheduler="MultiStepLR", scheduler_params={"milestones": [1], "gamma": 0.0}),
          store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path), extra_callbacks=[frozen], **QUIET)
    assert frozen.changed == {0: True, 1: False, 2: False}


def test_fast_learns_what_the_standard_loop_learns(tmp_path):
    """Same seeds, same data: final validation accuracy within noise (3 seeds each)."""
    finals = {True: [], False: []}
    for fast in (True, False):
        for seed in range(3):
            r = train(config(fast=fast, seed=seed), store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path),
                      **QUIET)
            finals[fast].append(RunStore(str(tmp_path / "s.db")).epochs(r.run_id)["val_acc"].iloc[-1])
    diff = abs(sum(finals[True]) - sum(finals[False])) / 3
    print(f"final val_acc fast {finals[True]} standard {finals[False]}")
    assert diff < 0.03


def test_a_non_finite_loss_stops_the_fast_loop_on_the_gpu(tmp_path):
    r = train(config(learning_rate=1e30, epochs=3), store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path),
              **QUIET)
    assert r.stop_reason == "non_finite" and r.epochs <= 1
    assert "non-finite loss at epoch 0, step" in r.message


class StopAfter(L.Callback):
    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == 1:
            raise KeyboardInterrupt


def test_a_resumed_fast_run_computes_the_uninterrupted_numbers(tmp_path, monkeypatch):
    """With cuDNN's deterministic algorithms (otherwise its convolution backward adds in a varying
    order: identical runs differed by up to 2e-4 in train_loss on the H200), a run stopped after
    epoch 1 and resumed ends with exactly the uninterrupted run's numbers."""
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    cfg = config(scheduler="CosineAnnealingLR", ema={"decay": 0.9})
    whole = train(cfg, store_path=str(tmp_path / "a.db"), out_dir=str(tmp_path / "a"), **QUIET)
    a = RunStore(str(tmp_path / "a.db")).epochs(whole.run_id)
    store = str(tmp_path / "b.db")
    with pytest.raises(Interrupted) as stopped:
        train(cfg, store_path=store, out_dir=str(tmp_path / "b"), extra_callbacks=[StopAfter()], **QUIET)
    train(None, store_path=store, out_dir=str(tmp_path / "b"), resume=stopped.value.run_id, **QUIET)
    b = RunStore(store).epochs(stopped.value.run_id)
    assert list(b["epoch"]) == [0, 1, 2, 3]
    for col in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert list(b[col]) == pytest.approx(list(a[col]), rel=1e-9, abs=1e-12), col


def test_a_step_that_cannot_be_captured_stops_with_the_way_out(tmp_path):
    """From the user's side: `fitdoctor train` on a task whose model calls .item() in its forward
    exits 2 with one line naming the cause and `training.fast: false`; with that set, it trains."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: {name: 'tests.training.sync_task:build', dataset: digits, train_size: 480, "
                   "val_size: 150, batch_size: 32}\ntraining: {epochs: 1, accelerator: gpu}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "fitdoctor", "train", str(cfg), "--store", str(tmp_path / "s.db"), "--out",
           str(tmp_path), "--no-progress"]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env, timeout=300)
    assert p.returncode == 2, p.stderr[-2000:]
    assert "could not capture the training step as a CUDA graph" in p.stderr and "training.fast: false" in p.stderr
    assert "Traceback" not in p.stderr
    p = subprocess.run(cmd + ["--set", "training.fast=false"], capture_output=True, text=True, cwd=root, env=env,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]

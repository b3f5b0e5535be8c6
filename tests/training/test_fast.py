"""Fast mode (training.fast) on the CPU: when it is used and why not, and its loop's logic — data
on the device gathered by index, the counters kept on the device, the clipping, accumulation, EMA
and schedule done by the step itself, validation through index batches — computing what the
standard loop computes, epoch by epoch, on real runs (digits). The CUDA graph itself is tested in
test_fast_gpu.py on a GPU."""

import math

import lightning as L
import pytest
import torch

from torch.utils.data import BatchSampler, DataLoader, SequentialSampler, SubsetRandomSampler

from fitdoctor.errors import Interrupted, UsageError

from fitdoctor.store import RunStore
from fitdoctor.training import fast, runner
from fitdoctor.training.config import build_config
from fitdoctor.training.runner import train
from fitdoctor.training.tasks import build_task
from fitdoctor.training.tasks.common import loader


def config(fast_mode, **training):
    task = training.pop("task", {})
    return build_config({
        "name": "fast" if fast_mode else "eager",
        "task": {"name": "image", "dataset": "digits", "train_size": 480, "val_size": 150, "batch_size": 32,
                 **task},
        "model": {"dropout": 0.2, "width": 8},
        "training": {"epochs": 3, "learning_rate": 3e-3, "accelerator": "cpu", "fast": fast_mode, **training}})


def run(tmp_path, cfg, said=None):
    said = [] if said is None else said
    tmp_path.mkdir(parents=True, exist_ok=True)
    r = train(cfg, store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path / "runs"), say=said.append,
              warn=said.append, progress=False)
    return r, RunStore(str(tmp_path / "s.db")).epochs(r.run_id)


@pytest.fixture
def cpu_fast(monkeypatch):
    monkeypatch.setattr(fast, "CPU_WITHOUT_GRAPHS", True)


COLUMNS = ("train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "grad_norm", "lr")


@pytest.mark.parametrize("training", [
    {},
    {"max_grad_norm": 0.05, "scheduler": "CosineAnnealingLR", "warmup_epochs": 1, "weight_decay": 0.01},
    {"ema": {"decay": 0.9, "warmup": True}, "accumulate_grad_batches": 3, "optimizer": "Adam"},
    {"scheduler": "ReduceLROnPlateau", "scheduler_params": {"patience": 0, "factor": 0.5},
     "task": {"positive_class": 3}},
], ids=["plain", "clip-warmup-cosine", "ema-accumulate", "plateau-binary"])
def test_the_fast_loop_computes_what_the_standard_loop_does(tmp_path, cpu_fast, training):
    """480 examples: 15 steps of 32 (or 5 of 3 x 32), nothing left out, so every epoch must agree
    with the standard loop's up to rounding (the grad norm: the mean over every step against a
    sample of every 10th, so only its size)."""
    said = []
    _, fast_table = run(tmp_path / "f", config(True, epochs=2, **training), said)
    _, eager_table = run(tmp_path / "e", config(False, epochs=2, **training))
    assert any(line.startswith("fast mode:") for line in said) and not any("leaves out" in s for s in said)
    assert len(fast_table) == len(eager_table) == 2
    for col in COLUMNS:
        if col not in eager_table:
            continue
        a, b = fast_table[col].to_numpy(), eager_table[col].to_numpy()
        tol = 0.5 if col == "grad_norm" else 1e-4
        assert a == pytest.approx(b, rel=tol, abs=tol), col
    f, e = RunStore(str(tmp_path / "f" / "s.db")), RunStore(str(tmp_path / "e" / "s.db"))
    pf = f.predictions(f.list_runs()[0]["run_id"], "last")[1]
    pe = e.predictions(e.list_runs()[0]["run_id"], "last")[1]
    assert (pf["pred"] == pe["pred"]).all() and len(pf["pred"]) == 150


def test_early_stopping_stops_the_fast_loop_where_it_stops_the_standard_one(tmp_path, cpu_fast):
    """No improvement by min_delta 0.5 for 2 epochs: the same epoch, reason and message in both
    loops."""
    es = {"early_stopping": {"monitor": "val_acc", "patience": 2, "min_delta": 0.5}}
    faster, tf = run(tmp_path / "f", config(True, epochs=6, **es))
    standard, te = run(tmp_path / "e", config(False, epochs=6, **es))
    assert faster.stop_reason == standard.stop_reason == "patience" and faster.message == standard.message
    assert faster.epochs == standard.epochs < 6 and len(tf) == len(te)


def test_a_remainder_is_left_out_and_said(tmp_path, cpu_fast):
    said = []
    r, table = run(tmp_path, config(True, epochs=2, task={"train_size": 500}), said)
    assert r.status == "completed"
    assert any("leaves out 20 of its 500" in s for s in said)    # 500 = 15 x 32 + 20
    assert table["val_acc"].iloc[-1] > 0.5                   # it learns


def test_a_non_finite_loss_stops_the_fast_loop(tmp_path, cpu_fast):
    r, table = run(tmp_path, config(True, learning_rate=1e30, epochs=3))
    assert r.stop_reason == "non_finite" and r.epochs <= 1
    assert table["train_loss"].map(math.isfinite).all()        # counted up to the first bad step


class StopAfter(L.Callback):
    """Ctrl+C right after epoch ``k`` was recorded and checkpointed."""

    def __init__(self, k):
        self.k = k

    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == self.k:
            raise KeyboardInterrupt


def test_resume_gives_the_uninterrupted_numbers(tmp_path, cpu_fast):
    cfg = config(True, epochs=3, scheduler="CosineAnnealingLR", ema={"decay": 0.9})
    _, whole = run(tmp_path / "a", cfg)
    store, out = str(tmp_path / "s.db"), str(tmp_path / "b")
    quiet = {"say": lambda m: None, "warn": lambda m: None, "progress": False}
    with pytest.raises(Interrupted) as stopped:
        train(cfg, store_path=store, out_dir=out, extra_callbacks=[StopAfter(0)], **quiet)
    run_id = stopped.value.run_id
    assert len(RunStore(store).epochs(run_id)) == 1
    train(None, store_path=store, out_dir=out, resume=run_id, **quiet)
    resumed = RunStore(store).epochs(run_id)
    assert list(resumed["epoch"]) == [0, 1, 2]
    for col in ("train_loss", "val_acc", "val_loss", "lr"):
        assert resumed[col].to_numpy() == pytest.approx(whole[col].to_numpy(), rel=1e-5), col


def _reason(**training):
    cfg = config(None, **training)
    return fast.plan(cfg, build_task(cfg), "gpu")


def test_plan_says_why_not(monkeypatch):
    monkeypatch.setattr(fast, "CPU_WITHOUT_GRAPHS", False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _reason() == (False, "fast mode needs a CUDA GPU")
    monkeypatch.setattr(fast, "CPU_WITHOUT_GRAPHS", True)
    assert _reason() == (True, "")
    assert _reason(fast=False) == (False, "training.fast is false")
    assert "SGD" in _reason(optimizer="SGD")[1]
    assert "bf16-mixed" in _reason(precision="16-mixed")[1]
    assert _reason(devices=2) == (True, "")              # DDP: the gradients averaged in the step
    assert "than one step takes (960)" in _reason(devices=2, accumulate_grad_batches=15)[1]   # 2 x 15 x 32
    assert _reason(compile=True) == (True, "")         # Inductor's kernels, captured in the graph
    assert "fewer training examples (480) than one step takes (960)" in \
        _reason(accumulate_grad_batches=30)[1]


def test_asked_for_without_a_gpu_the_standard_loop_says_why(tmp_path):
    """Asked for on a machine without a GPU: the run trains in the standard loop and says why."""
    said = []
    r, _ = run(tmp_path, config(True, epochs=1), said)
    assert r.status == "completed" and "standard loop: fast mode needs a CUDA GPU" in said
    said.clear()
    run(tmp_path / "auto", config(None, epochs=1), said)
    assert not any("standard loop" in s or "fast mode" in s for s in said)    # the CPU default: quiet


def test_plan_refuses_what_a_captured_step_cannot_follow(monkeypatch):
    monkeypatch.setattr(fast, "CPU_WITHOUT_GRAPHS", True)
    assert "cycle_momentum: false" in _reason(scheduler="OneCycleLR", scheduler_params={"max_lr": 0.01})[1]
    assert _reason(scheduler="OneCycleLR", scheduler_params={"max_lr": 0.01, "cycle_momentum": False}) == (True, "")
    # 480 examples in steps of 4 x 32 = 128: 96 (20 %) left out each epoch
    assert "leave out 96 of the 480" in _reason(accumulate_grad_batches=4)[1]
    cfg = config(None)
    task = build_task(cfg)
    ds = task.train.dataset
    task.train = DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 32, False))
    assert "batch_sampler" in fast.plan(cfg, task, "gpu")[1]
    task = build_task(cfg)
    task.train = DataLoader(task.train.dataset, batch_size=32, sampler=SubsetRandomSampler(range(40)))
    assert "own samplers" in fast.plan(cfg, task, "gpu")[1]
    task = build_task(cfg)
    task.train = DataLoader(task.train.dataset, batch_size=32, collate_fn=lambda rows: rows)
    assert "not plain tensors" in fast.plan(cfg, task, "gpu")[1]


class _Column(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x).view(-1, 1)


def _binary_column_task(cfg):
    """A binary task whose targets and logits are (N, 1) columns, as BCEWithLogits is often used."""
    task = build_task(cfg)
    for split in ("train", "val"):
        dl = getattr(task, split)
        x, y = dl.dataset.tensors
        setattr(task, split, loader(x, y.view(-1, 1), batch_size=dl.batch_size, shuffle=split == "train",
                                    seed=cfg.training.seed))
    task.model = _Column(task.model)
    return task


def test_binary_targets_as_a_column(tmp_path, cpu_fast, monkeypatch):
    monkeypatch.setattr(runner, "build_task", _binary_column_task)
    _, fast_table = run(tmp_path / "f", config(True, epochs=2, task={"positive_class": 3}))
    _, eager_table = run(tmp_path / "e", config(False, epochs=2, task={"positive_class": 3}))
    for col in ("train_loss", "train_acc", "val_acc", "val_f1"):
        assert fast_table[col].to_numpy() == pytest.approx(eager_table[col].to_numpy(), abs=1e-4), col


class NaNOnCall(torch.nn.Module):
    """The configured loss, NaN on the k-th training call."""

    def __init__(self, inner, k):
        super().__init__()
        self.inner, self.k, self.calls = inner, k, 0

    def forward(self, out, y):
        loss = self.inner(out, y)
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.k:
                return loss * float("nan")
        return loss


def test_nan_on_an_epochs_first_step_records_what_the_standard_loop_does(tmp_path, cpu_fast, monkeypatch):
    """480 / 32 = 15 steps an epoch: the 16th call is epoch 1's first step."""
    build = runner.build_loss
    monkeypatch.setattr(runner, "build_loss", lambda lc, task: (NaNOnCall(build(lc, task)[0], 16), {}))
    standard, te = run(tmp_path / "e", config(False, epochs=3))
    faster, tf = run(tmp_path / "f", config(True, epochs=3))
    assert standard.stop_reason == faster.stop_reason == "non_finite"
    assert standard.epochs == faster.epochs == 1 and len(te) == len(tf) == 1
    assert "epoch 1, step 15" in faster.message


def test_a_run_resumes_in_the_loop_it_started_in(tmp_path, cpu_fast, monkeypatch):
    quiet = {"say": lambda m: None, "warn": lambda m: None, "progress": False}
    store, out = str(tmp_path / "s.db"), str(tmp_path)
    ids = {}
    for fast_mode in (True, False):
        with pytest.raises(Interrupted) as stopped:
            train(config(fast_mode), store_path=store, out_dir=out, extra_callbacks=[StopAfter(0)], **quiet)
        ids[fast_mode] = stopped.value.run_id
    said = []
    # the standard run resumes in the standard loop although fast mode could run here
    train(None, store_path=store, out_dir=out, resume=ids[False], say=said.append, warn=said.append,
          progress=False)
    assert not any(s.startswith("fast mode") for s in said)
    # the fast run cannot resume where fast mode cannot run: a clear refusal, the run kept
    monkeypatch.setattr(fast, "CPU_WITHOUT_GRAPHS", False)
    with pytest.raises(UsageError, match="was trained in fast mode and resumes only in it.*needs a CUDA GPU"):
        train(None, store_path=store, out_dir=out, resume=ids[True], **quiet)
    assert len(RunStore(store).epochs(ids[True])) == 1


def _ddp(tmp_path, name: str, fast_mode: bool, model: dict | None = None, task: dict | None = None,
         **training) -> tuple[dict, object, object, str]:
    """`fitdoctor train` on 2 CPU processes (gloo): (its JSON line, its stored epochs, predictions,
    its stderr). No rank may fail (the launcher's exit status is rank 0's alone)."""
    import json
    import os
    import subprocess
    import sys

    import yaml

    text = yaml.safe_dump({
        "name": name, "task": {"name": "image", "dataset": "digits", "train_size": 512, "val_size": 101,
                               "batch_size": 32, **(task or {})},
        "model": model or {"dropout": 0.2, "width": 8},
        "training": {"epochs": 2, "learning_rate": 3e-3, "accelerator": "cpu", "devices": 2, "fast": fast_mode,
                     **training}})
    (tmp_path / f"{name}.yaml").write_text(text)
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "train", str(tmp_path / f"{name}.yaml"), "--store",
                        str(tmp_path / f"{name}.db"), "--out", str(tmp_path / "runs"), "--json"],
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "FITDOCTOR_FAST_ON_CPU": "1" if fast_mode else "0"})
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr[-2000:]
    doc = json.loads(p.stdout.splitlines()[-1])
    store = RunStore(str(tmp_path / f"{name}.db"))
    assert ("fast mode:" in p.stderr) == fast_mode and len(store.list_runs()) == 1
    preds = store.predictions(doc["run_id"], "last")
    return doc, store.epochs(doc["run_id"]), preds[1] if preds else None, p.stderr


def test_fast_mode_under_ddp_trains_what_one_process_accumulating_does(tmp_path, cpu_fast):
    """2 processes of 32: each step takes the next 64 examples of the epoch's order, rank r the
    r-th block of 32, and averages the gradients itself (an all-reduce in the step) — what one
    process computes accumulating 2 micro-batches of 32 (without dropout, whose random masks each
    rank draws from its own generator): the training figures agree up to rounding, epoch by
    epoch, the sampled grad norm included. Validation covers the 101 examples once, in order;
    its accuracy is not compared: the ranks validate with rank 0's BatchNorm running statistics,
    updated once a step from its own block (one process: twice, from both), which early in
    training moves validation accuracy by tens of points."""
    _, table, pred, _ = _ddp(tmp_path, "fast", True, model={"dropout": 0.0, "width": 8})
    _, one = run(tmp_path / "one", build_config({
        "name": "one", "task": {"name": "image", "dataset": "digits", "train_size": 512, "val_size": 101,
                                "batch_size": 32},
        "model": {"dropout": 0.0, "width": 8},
        "training": {"epochs": 2, "learning_rate": 3e-3, "accelerator": "cpu", "fast": True,
                     "accumulate_grad_batches": 2}}))
    assert len(table) == len(one) == 2
    for col in ("train_loss", "train_acc", "grad_norm", "lr"):
        assert table[col].to_numpy() == pytest.approx(one[col].to_numpy(), rel=1e-4, abs=1e-5), col
    assert len(pred["target"]) == 101 and table["val_acc"].iloc[-1] == pytest.approx(pred["correct"].mean(), abs=1e-6)


def test_a_non_finite_loss_stops_every_fast_ddp_rank_together(tmp_path):
    doc, table, _, _ = _ddp(tmp_path, "nan", True, learning_rate=1e30, epochs=3)   # a rank left behind hangs
    assert doc["stop_reason"] == "non_finite"


@pytest.mark.parametrize("build, step", [("rank0_first_step", 0), ("rank1_fourth_step", 3)])
def test_a_non_finite_loss_on_one_fast_ddp_rank_stops_both_at_its_step(tmp_path, build, step):
    """One inf image (tests/training/inf_task.py): the rank whose block holds it meets a NaN loss
    a step before the other (the averaged gradient spreads it). Each rank stops counting at its
    own first one, so at an epoch's first step that rank has counted nothing and the other one
    step: both must still take the recorder's same branch (a rank that skipped the record left
    the other in its reduction: crashed on gloo, a hang on NCCL). The step reported is the first
    non-finite loss on any rank (rank 0's own was one step later)."""
    doc, table, _, err = _ddp(tmp_path, "inf", True, model={"dropout": 0.0, "width": 8},
                              task={"name": f"tests.training.inf_task:{build}"}, epochs=2)
    assert doc["stop_reason"] == "non_finite" and f"non-finite loss at epoch 0, step {step};" in err
    assert table["train_loss"].map(math.isfinite).all()


@pytest.mark.parametrize("fast_mode", [False, True], ids=["standard", "fast"])
def test_ema_trains_under_ddp(tmp_path, fast_mode):
    """The EMA's copy of the network is never trained: under the standard loop's
    DistributedDataParallel (which wraps the whole module) its parameters must not wait for
    gradients, or the second step fails ("parameters that were not used in producing the loss")."""
    doc, table, pred, _ = _ddp(tmp_path, "ema", fast_mode, ema={"decay": 0.9}, accumulate_grad_batches=2)
    assert doc["status"] == "completed" and len(table) == 2 and len(pred["target"]) == 101

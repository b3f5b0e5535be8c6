"""fitdoctor from existing training code: each example runs for 2 epochs on real data and its
run lands in the store where `fitdoctor diagnose RUN_ID` works."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import fitdoctor
from fitdoctor.cli import app
from fitdoctor.errors import UsageError
from fitdoctor.store import RunStore

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def diagnose_json(store, run_id):
    r = runner.invoke(app, ["diagnose", run_id, "--store", store, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_plain_loop_track_and_build_scheduler(tmp_path):
    store = str(tmp_path / "s.db")
    run_id = load("plain_loop").main(epochs=5, store=store)
    table = RunStore(store).epochs(run_id)
    assert list(table["epoch"]) == [0, 1, 2, 3, 4]
    assert table["lr"].iloc[0] == pytest.approx(3e-4) and table["lr"].iloc[3] == pytest.approx(3e-3)  # warmup
    d = diagnose_json(store, run_id)
    assert d["monitor"]["name"] == "val_acc" and d["n_points"] == 5


def _stop_epoch_by_hand(values, patience, k):
    """Patience on the k-epoch moving average: the first epoch that is the patience-th in a row
    whose average does not beat the best average so far."""
    best, wait = None, 0
    for epoch in range(len(values)):
        window = values[max(0, epoch - k + 1): epoch + 1]
        avg = sum(window) / len(window)
        if best is None or avg > best:
            best, wait = avg, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch
    return None


def test_lightning_callback_and_early_stopping(tmp_path):
    """The example's EarlyStopping (patience 4 on the 3-epoch average of val_acc) gets the
    epochs to fire: digits levels off at ~0.94 by epoch 7-9 and the run stops well before 20."""
    store = str(tmp_path / "s.db")
    run_id = load("lightning_callback").main(epochs=20, store=store, report=str(tmp_path / "rep"))
    info = RunStore(store).run(run_id)
    assert info.config["lr"] == 3e-3
    table = RunStore(store).epochs(run_id)
    assert {"lr", "train_loss", "train_acc", "val_loss", "val_acc"} <= set(table)
    assert info.status == "stopped" and info.stop_reason == "patience"
    assert info.epochs == len(table) < 20
    stop = _stop_epoch_by_hand([float(v) for v in table["val_acc"]], patience=4, k=3)
    assert stop is not None and list(table["epoch"])[-1] == stop
    assert (tmp_path / "rep" / "report.html").exists() and info.artifacts["report"].endswith("report.html")


def test_hf_trainer_callback_with_warmup_plateau(tmp_path, monkeypatch):
    """The example's Trainer run (2 epochs of 2 optimizer steps), with the LR looked at: the
    warmup per optimizer step and the plateau on the evaluation accuracy must give what torch's
    own LinearLR and ReduceLROnPlateau give, and the store must hold the LR the Trainer logged.
    The test makes the plateau's patience 0 (so 2 evaluations can cut the LR) and logs every
    step (the example logs every 4, so the first evaluation had no LR)."""
    from transformers import TrainingArguments

    from fitdoctor.integrations.transformers import FitDoctorCallback, WarmupReduceLROnPlateau

    monkeypatch.chdir(tmp_path)
    ex = load("hf_trainer")
    seen = {"step_lr": [], "end_lr": None, "sched": None}

    class Recording(FitDoctorCallback):
        def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
            seen["step_lr"].append(optimizer.param_groups[0]["lr"])      # the LR this step uses

        def on_train_end(self, args, state, control, optimizer=None, **kwargs):
            seen["end_lr"] = optimizer.param_groups[0]["lr"]             # after the last plateau step
            super().on_train_end(args, state, control, optimizer=optimizer, **kwargs)

    def plateau(optimizer, **kw):
        seen["sched"] = WarmupReduceLROnPlateau(optimizer, **{**kw, "patience": 0})
        return seen["sched"]

    monkeypatch.setattr(ex, "FitDoctorCallback", Recording)
    monkeypatch.setattr(ex, "WarmupReduceLROnPlateau", plateau)
    monkeypatch.setattr(ex, "TrainingArguments", lambda **kw: TrainingArguments(**{**kw, "logging_steps": 1}))
    store = str(tmp_path / "s.db")
    run_id = ex.main(epochs=2, n_train=64, store=store, report=str(tmp_path / "rep"), out=str(tmp_path / "hf"))
    table = RunStore(store).epochs(run_id)
    assert list(table["epoch"]) == [1.0, 2.0] and {"val_acc", "val_loss", "train_loss", "lr"} <= set(table)
    assert diagnose_json(store, run_id)["monitor"]["name"] == "val_acc"
    assert seen["sched"].mode == "max" and seen["sched"].warmup_steps == 2

    # torch's own classes, as torch documents them: LinearLR once per optimizer step for the
    # warmup (2 steps = 1 epoch here), then ReduceLROnPlateau.step(eval accuracy) per evaluation
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=5e-5)
    warm = torch.optim.lr_scheduler.LinearLR(opt, 0.1, 1.0, total_iters=2)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0)
    want_steps, want_logged = [], []
    for epoch_acc in table["val_acc"]:
        for _ in range(2):
            want_steps.append(opt.param_groups[0]["lr"])
            opt.step()
            if warm.last_epoch < 2:
                warm.step()
        want_logged.append(want_steps[-1])     # the Trainer logs the LR the step used
        ref.step(float(epoch_acc))
    # by hand: 5e-6, then 5e-6 + 0.9 * 5e-5 / 2 = 2.75e-5, then 5e-5 for the rest
    assert want_steps == pytest.approx([5e-6, 2.75e-5, 5e-5, 5e-5])
    assert seen["step_lr"] == pytest.approx(want_steps, rel=1e-9)
    assert list(table["lr"]) == pytest.approx(want_logged, rel=1e-9) == [2.75e-5, 5e-5]
    # the second evaluation halves the LR exactly when its accuracy is not better than the first
    assert seen["end_lr"] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
    worse = table["val_acc"].iloc[1] <= table["val_acc"].iloc[0]
    assert seen["end_lr"] == pytest.approx(2.5e-5 if worse else 5e-5)


def test_warmup_reduce_lr_on_plateau():
    from fitdoctor.integrations.transformers import WarmupReduceLROnPlateau

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    s = WarmupReduceLROnPlateau(opt, warmup_steps=4, start_factor=0.2, mode="max", factor=0.5, patience=0)
    lrs = [opt.param_groups[0]["lr"]]
    s.step(0.5)                                   # ignored during the warmup
    for _ in range(4):
        s.warmup_step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    s.step(0.5)
    s.step(0.4)                                   # worse: halves
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    state = s.state_dict()
    t = WarmupReduceLROnPlateau(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0), warmup_steps=4)
    t.load_state_dict(state)
    assert t.warmup_t == 4 and t.best == s.best


def test_track_marks_failures_and_lazy_import(tmp_path):
    store = str(tmp_path / "s.db")
    with pytest.raises(RuntimeError):
        with fitdoctor.track("boom", store=store) as run:
            run.log(train_loss=1.0, val_loss=1.2)
            raise RuntimeError("the user's loop broke")
    info = RunStore(store).run(run.run_id)
    assert info.status == "failed" and info.monitor == "val_loss"


def test_export_to_tensorboard_and_read_back(tmp_path):
    store = str(tmp_path / "s.db")
    with fitdoctor.track("tb", store=store) as run:
        for e in range(6):
            run.log(epoch=e, lr=1e-3, train_loss=1 / (e + 1), val_acc=0.5 + 0.05 * e)
    out = tmp_path / "tb"
    r = runner.invoke(app, ["runs", "export", run.run_id, "--store", store, "--format", "tensorboard",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(runner.invoke(app, ["diagnose", str(out), "--json"]).stdout)
    assert d["format"] == "tensorboard" and d["n_points"] == 6 and d["best"]["value"] == pytest.approx(0.75)


def test_lightning_early_stopping_stops_and_names_missing_metrics(tmp_path):
    import lightning as L

    from fitdoctor.integrations.lightning import EarlyStopping, FitDoctorCallback

    ex = load("lightning_callback")
    train, val = ex.loaders()
    stopper = EarlyStopping(monitor="val_acc", patience=1, min_delta=0.9)
    doctor = FitDoctorCallback(name="es", store=str(tmp_path / "s.db"))
    trainer = L.Trainer(max_epochs=6, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[doctor, stopper])
    trainer.fit(ex.DigitsMLP(), train, val)
    assert trainer.current_epoch == 2 and stopper.reason.value == "patience"
    info = RunStore(str(tmp_path / "s.db")).run(doctor.run_id)
    assert info.status == "stopped" and info.stop_reason == "patience"
    bad = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                    enable_progress_bar=False, enable_model_summary=False,
                    callbacks=[EarlyStopping(monitor="val_f1")])
    with pytest.raises(UsageError, match=r"EarlyStopping\(monitor='val_f1'\): metric 'val_f1' is not "
                                         r"logged; logged: .*val_acc.*\. Set monitor= to one of those"):
        bad.fit(ex.DigitsMLP(), train, val)


def test_early_stopping_names_a_missing_metric_and_the_fix():
    from types import SimpleNamespace

    from fitdoctor.integrations.lightning import EarlyStopping

    trainer = SimpleNamespace(callback_metrics={"train_loss": torch.tensor(0.5), "val_loss_epoch": 0.7,
                                                "val_loss_step": 0.9}, current_epoch=0)
    with pytest.raises(UsageError) as info:
        EarlyStopping(monitor="val/acc").on_train_epoch_end(trainer, None)
    assert str(info.value) == ("EarlyStopping(monitor='val/acc' (read as 'val_acc')): metric 'val_acc' is "
                               "not logged; logged: train_loss, val_loss. Set monitor= to one of those, "
                               "or log it with self.log('val_acc', ...).")
    assert isinstance(info.value, fitdoctor.FitDoctorError)

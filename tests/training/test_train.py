"""`fitdoctor train` end to end: short real runs (digits 8x8, a few epochs) through Lightning."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.store import RunStore

runner = CliRunner()
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

BASE = """
name: {name}
task: {{name: image, dataset: digits, train_size: 500, val_size: 200, batch_size: 50}}
model: {{dropout: 0.2, width: 8}}
training:
  epochs: {epochs}
  learning_rate: 3e-3
  scheduler: CosineAnnealingLR
  warmup_epochs: 1
"""


@pytest.fixture
def cfg(tmp_path):
    def make(name="t", epochs=3, extra=""):
        p = tmp_path / f"{name}.yaml"
        p.write_text(BASE.format(name=name, epochs=epochs) + extra)
        return str(p)
    return make


def train(tmp_path, config, *args):
    r = runner.invoke(app, ["train", config, "--store", str(tmp_path / "s.db"), "--out",
                            str(tmp_path / "runs"), "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_train_writes_every_epoch_and_the_preview_agrees(tmp_path, cfg):
    doc = train(tmp_path, cfg())
    assert doc["schema"] == "fitdoctor.run/1" and doc["status"] == "completed"
    assert doc["stop_reason"] == "completed" and doc["epochs"] == 3
    assert set(doc["best"]) == {"epoch", "value"} and 0 < doc["best"]["value"] <= 1
    store = RunStore(str(tmp_path / "s.db"))
    table = store.epochs(doc["run_id"])
    assert list(table["epoch"]) == [0, 1, 2]
    assert {"lr", "train_loss", "train_acc", "val_loss", "val_acc", "grad_norm", "epoch_time"} <= set(table)
    info = store.run(doc["run_id"])
    assert info.val_size == 200 and info.config["training"]["warmup_epochs"] == 1
    assert Path(info.artifacts["config"]).exists() and Path(info.artifacts["last_checkpoint"]).exists()
    best = store.predictions(doc["run_id"], "best")
    assert best is not None and len(best[1]["pred"]) == 200
    preview = json.loads(runner.invoke(app, ["schedule", cfg(), "--json"]).stdout)["lr_per_epoch"]
    assert list(table["lr"]) == pytest.approx(preview, rel=1e-9)


def test_runs_commands_and_diagnose_by_run_id(tmp_path, cfg):
    doc = train(tmp_path, cfg(epochs=6))
    s = str(tmp_path / "s.db")
    listed = json.loads(runner.invoke(app, ["runs", "list", "--store", s, "--json"]).stdout)
    assert listed == [{"run_id": doc["run_id"], "name": "t", "status": "completed", "epochs": 6}]
    shown = runner.invoke(app, ["runs", "show", doc["run_id"][-6:], "--store", s])
    assert shown.exit_code == 0 and "CosineAnnealingLR" in shown.stdout
    csv = tmp_path / "t.csv"
    assert runner.invoke(app, ["runs", "export", doc["run_id"], "--store", s, "--format", "csv",
                               "--out", str(csv)]).exit_code == 0
    d = json.loads(runner.invoke(app, ["diagnose", doc["run_id"], "--store", s, "--json",
                                       "--out", str(tmp_path / "rep")]).stdout)
    assert RunStore(s).run(doc["run_id"]).artifacts["report"].endswith("report.html")
    assert d["format"] == "fitdoctor-store" and d["monitor"]["name"] == "val_acc" and d["n_points"] == 6
    assert d["schedule"]["family"] in ("cosine", "one_cycle")         # read off the logged LR
    again = json.loads(runner.invoke(app, ["diagnose", str(csv), "--json"]).stdout)
    assert again["n_points"] == 6 and again["best"]["value"] == pytest.approx(d["best"]["value"])


def test_early_stopping_keeps_its_reason(tmp_path, cfg):
    doc = train(tmp_path, cfg(epochs=8, extra="  early_stopping: {patience: 1, min_delta: 0.5}\n"))
    assert doc["status"] == "stopped" and doc["stop_reason"] == "patience" and doc["epochs"] == 2


def test_binary_task_counts_pos_weight(tmp_path, cfg):
    r = runner.invoke(app, ["train", cfg(epochs=2), "--store", str(tmp_path / "s.db"), "--out",
                            str(tmp_path / "runs"), "--no-progress", "--set", "task.positive_class=0",
                            "--set", "loss.pos_weight=auto", "--set", "training.ema.decay=0.9"])
    assert r.exit_code == 0, r.output
    assert "'pos_weight': 9." in r.stdout and "monitor val_f1" in r.stdout


def test_non_finite_loss_stops_the_run(tmp_path, cfg):
    doc = train(tmp_path, cfg(epochs=4), "--set", "training.learning_rate=1e30",
                "--set", "training.scheduler=null", "--set", "training.warmup_epochs=0")
    assert doc["status"] == "stopped" and doc["stop_reason"] == "non_finite"
    d = json.loads(runner.invoke(app, ["diagnose", doc["run_id"], "--store", str(tmp_path / "s.db"),
                                       "--json"]).stdout)
    assert "non_finite" in [f["code"] for f in d["findings"]]


def test_user_task_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    r = runner.invoke(app, ["train", "examples/wine.yaml", "--set", "training.epochs=2",
                            "--set", "training.warmup_epochs=1", "--json",
                            "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "runs")])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["epochs"] == 2


@pytest.mark.parametrize("bad, message", [
    (["--set", "training.scheduler=Cosine"], "unknown scheduler 'Cosine'"),
    (["--set", "task.name=nope"], "unknown task 'nope'"),
    (["--set", "task.name=examples.nope:build"], "cannot import"),
    (["--set", "training.lr=1"], "unknown key 'training.lr'"),
])
def test_bad_training_configs_exit_2(tmp_path, cfg, bad, message):
    r = runner.invoke(app, ["train", cfg(), "--store", str(tmp_path / "s.db"), "--out",
                            str(tmp_path / "runs"), *bad])
    assert r.exit_code == 2 and message in r.stderr, r.output


def test_killed_run_resumes_without_lost_or_duplicated_epochs(tmp_path, cfg):
    config = cfg(name="k", epochs=6)
    full = train(tmp_path, config)
    store, out = str(tmp_path / "k.db"), str(tmp_path / "kruns")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, str(HERE / "die_after_epoch.py"), config, "3", store, out],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 9, p.stderr
    run_id = RunStore(store).list_runs()[0]["run_id"]
    assert list(RunStore(store).epochs(run_id)["epoch"]) == [0, 1, 2, 3]
    r = runner.invoke(app, ["train", "--resume", run_id, "--store", store, "--out", out, "--json"])
    assert r.exit_code == 0, r.output
    resumed = RunStore(store).epochs(run_id)
    assert list(resumed["epoch"]) == [0, 1, 2, 3, 4, 5]
    reference = RunStore(str(tmp_path / "s.db")).epochs(full["run_id"])
    for col in ("train_loss", "val_acc", "val_loss", "lr"):     # same seed, CPU: same numbers
        assert list(resumed[col]) == pytest.approx(list(reference[col]), rel=1e-6), col


def test_bf16_accumulation_clipping_sgd_and_a_per_batch_schedule(tmp_path, cfg):
    doc = train(tmp_path, cfg(epochs=2), "--set", "training.precision=bf16-mixed",
                "--set", "training.accumulate_grad_batches=2", "--set", "training.max_grad_norm=0.5",
                "--set", "training.optimizer=SGD", "--set", "training.nesterov=true",
                "--set", "training.learning_rate=0.05", "--set", "training.scheduler=OneCycleLR",
                "--set", "training.step_per=batch", "--set", "training.warmup_epochs=0")
    assert doc["status"] == "completed" and doc["epochs"] == 2
    table = RunStore(str(tmp_path / "s.db")).epochs(doc["run_id"])
    # 500 examples / batch 50 = 10 batches, 5 optimizer steps per epoch: the schedule steps 5
    # times, which the preview counts itself from the task
    preview = json.loads(runner.invoke(app, ["schedule", cfg(epochs=2), "--json",
                                             "--set", "training.accumulate_grad_batches=2",
                                             "--set", "training.learning_rate=0.05",
                                             "--set", "training.scheduler=OneCycleLR",
                                             "--set", "training.step_per=batch",
                                             "--set", "training.warmup_epochs=0"]).stdout)
    assert list(table["lr"]) == pytest.approx(preview["lr_per_epoch"], rel=1e-9)
    assert table["grad_norm"].notna().all()


def test_recorder_state_round_trip():
    from fitdoctor.history.names import Monitor
    from fitdoctor.training.callbacks import EpochRecorder

    a = EpochRecorder(None, "r", Monitor("val_acc", "max"), ".", None, print, print)
    a.best = (3, 0.9)
    b = EpochRecorder(None, "r", Monitor("val_acc", "max"), ".", None, print, print)
    b.load_state_dict(a.state_dict())
    assert b.best == (3, 0.9)


def test_warmup_plateau_preview_agrees_with_training_on_an_accuracy(tmp_path, cfg):
    """catches: the schedule preview's ReduceLROnPlateau ignoring the monitor's direction (it
    took "min" unless early_stopping.mode was written): fed the run's own val_acc, the preview
    must give the LR the trainer used, epoch by epoch. Patience 0: every epoch whose val_acc is
    not a new best halves the LR in training; a preview in "min" mode halves it on every rise."""
    sets = ["--set", "training.scheduler=ReduceLROnPlateau",
            "--set", "training.scheduler_params={factor: 0.5, patience: 0}"]
    doc = train(tmp_path, cfg(epochs=5), *sets)
    table = RunStore(str(tmp_path / "s.db")).epochs(doc["run_id"])
    acc = list(table["val_acc"])
    assert any(b > a for a, b in zip(acc[1:], acc[2:])), acc      # it rises after the warmup
    metric = tmp_path / "val_acc.txt"
    metric.write_text("\n".join(map(repr, acc)))
    r = runner.invoke(app, ["schedule", cfg(epochs=5), "--json", "--metric-file", str(metric), *sets])
    assert r.exit_code == 0, r.output
    assert list(table["lr"]) == pytest.approx(json.loads(r.stdout)["lr_per_epoch"], rel=1e-9)


@pytest.mark.parametrize("extra, message", [
    ("  scheduler_params: {T_max: 0}\n", "T_max for CosineAnnealingLR must be a positive"),
    ("  warmup_epochs: 5\n", "warmup_epochs (5) must be shorter than the run"),
])
def test_a_bad_schedule_fails_before_a_run_is_stored(tmp_path, cfg, extra, message):
    # T_max 0 divided by zero on the first step, leaving a run "running" with 0 epochs; a warmup
    # as long as the run never reached the LR
    path = cfg(epochs=3, extra=extra)
    if "warmup_epochs: 5" in extra:       # the key overrides the base's warmup_epochs: 1
        Path(path).write_text(Path(path).read_text().replace("  warmup_epochs: 1\n", ""))
    r = runner.invoke(app, ["train", path, "--store", str(tmp_path / "s.db"), "--out",
                            str(tmp_path / "runs")])
    assert r.exit_code == 2 and message in " ".join(r.stderr.split())
    assert "Traceback" not in r.output
    assert not (tmp_path / "s.db").exists() or RunStore(str(tmp_path / "s.db")).list_runs() == []


def test_a_declared_mode_decides_the_best_epoch(tmp_path, cfg):
    """catches: the epoch recorder taking the monitor's direction from its name (infer_mode) and
    ignoring early_stopping.mode, so the stored best and best checkpoint disagreed with early
    stopping and ReduceLROnPlateau. Declared min on an accuracy (odd, but declared): the best is
    the lowest validation accuracy, in the store and the run's document."""
    extra = "  early_stopping: {monitor: val_acc, mode: min, patience: 50}\n"
    doc = train(tmp_path, cfg(name="m", epochs=4, extra=extra))
    table = RunStore(str(tmp_path / "s.db")).epochs(doc["run_id"])
    lowest = table.loc[table["val_acc"].idxmin()]
    assert table["val_acc"].nunique() > 1
    assert doc["best"] == {"epoch": int(lowest["epoch"]), "value": pytest.approx(lowest["val_acc"])}


def test_one_monitor_rule():
    from fitdoctor.history.names import Monitor, resolve_monitor
    from fitdoctor.training.config import build_config, resolve_monitor as of_config

    assert resolve_monitor(None, None, "val_acc") == Monitor("val_acc", "max")
    assert resolve_monitor("val_loss", None, "val_acc") == Monitor("val_loss", "min")
    assert resolve_monitor("val_loss", "max", "val_acc") == Monitor("val_loss", "max")
    with pytest.raises(ValueError):
        resolve_monitor("val_loss", "down", "val_acc")
    up, down = Monitor("a", "max"), Monitor("b", "min")
    assert up.is_better(0.5, None) and down.is_better(0.5, None)
    assert up.is_better(0.52, 0.5, 0.01) and not up.is_better(0.51, 0.5, 0.01)
    assert not up.is_better(0.5, 0.5) and not down.is_better(0.5, 0.5)
    assert down.is_better(0.48, 0.5, 0.01) and not down.is_better(0.49, 0.5, 0.01)
    base = {"name": "x", "task": {"name": "image"}}
    assert of_config(build_config(base).training, "f1") == Monitor("val_f1", "max")
    es = {**base, "training": {"early_stopping": {"monitor": "val_loss"}}}
    assert of_config(build_config(es).training) == Monitor("val_loss", "min")
    es["training"]["early_stopping"]["mode"] = "max"
    assert of_config(build_config(es).training) == Monitor("val_loss", "max")


def test_the_progress_bar_numbers_epochs_as_the_store_does():
    """Lightning's bar said "Epoch 0/1" for the first of two epochs."""
    from types import SimpleNamespace

    from fitdoctor.training.callbacks import EpochProgressBar

    bar = EpochProgressBar()
    bar._trainer = SimpleNamespace(max_epochs=2)
    assert bar._get_train_description(0).strip() == "Epoch 0 (1/2)"
    assert bar._get_train_description(1).strip() == "Epoch 1 (2/2)"


def test_train_with_a_recommendation_as_patch(tmp_path, cfg):
    """diagnose --json's first recommendation applied to the config by --patch: the second run's
    config has it, and the run keeps the patch and where it came from."""
    config = cfg(name="p", epochs=6)
    first = train(tmp_path, config)
    diag = runner.invoke(app, ["diagnose", first["run_id"], "--store", str(tmp_path / "s.db"), "--json"])
    doc = json.loads(diag.stdout)
    recs = [r for r in doc["recommendations"] if r["patch"]]
    assert recs, doc["verdict"]
    (tmp_path / "d.json").write_text(diag.stdout)
    second = train(tmp_path, config, "--patch", str(tmp_path / "d.json"))
    store = RunStore(str(tmp_path / "s.db"))
    info = store.run(second["run_id"])

    def applied(patch, conf):
        return all(applied(v, conf[k]) if isinstance(v, dict) else conf[k] == v
                   for k, v in patch.items())
    assert applied(recs[0]["patch"], info.config)
    kept = Path(info.artifacts["patch"]).read_text()
    assert f"recommendation 1 ({recs[0]['code']})" in kept and first["run_id"] in kept
    # a plain YAML patch, and mistakes
    (tmp_path / "p.yaml").write_text("training: {learning_rate: 0.01}\n")
    r = runner.invoke(app, ["train", config, "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "runs"),
                            "--patch", str(tmp_path / "p.yaml"), "--set", "training.epochs=1", "--json"])
    assert r.exit_code == 0
    run_id = json.loads(r.stdout.strip().splitlines()[-1])["run_id"]
    assert store.run(run_id).config["training"]["learning_rate"] == 0.01
    (tmp_path / "bad.yaml").write_text("training: {learning_rat: 0.01}\n")
    for patch, opts, message in ((tmp_path / "bad.yaml", [], "learning_rat"),
                                 (tmp_path / "d.json", ["--recommendation", "99"], "--recommendation 99"),
                                 (tmp_path / "missing.yaml", [], "cannot read it")):
        r = runner.invoke(app, ["train", config, "--store", str(tmp_path / "s.db"), "--patch", str(patch), *opts])
        assert r.exit_code == 2 and message in r.stderr, r.output

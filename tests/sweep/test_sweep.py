"""Sweeps through the trainer on Optuna: grid with seeds, random search, pruning, resume after a
kill, two worker processes on one study."""

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.store import RunStore

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
name: sw
task: {name: image, dataset: digits, train_size: 300, val_size: 150, batch_size: 50}
model: {width: 8}
training: {epochs: 3, learning_rate: 3e-3}
"""


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "sw.yaml"
    p.write_text(CONFIG)
    return str(p)


def sweep(tmp_path, cfg, *args):
    r = runner.invoke(app, ["sweep", cfg, "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "runs"),
                            "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_grid_with_seeds_ends_in_a_comparison(tmp_path, cfg):
    """With seeds, the comparison is of configurations (compare --group's): one row per point of
    the grid, named by its parameters, its seeds pooled."""
    doc = sweep(tmp_path, cfg, "--grid", "training.learning_rate=1e-4,3e-3", "--seeds", "2")
    assert doc["schema"] == "fitdoctor.config-comparison/1" and len(doc["configs"]) == 2
    assert {c["name"] for c in doc["configs"]} == {"learning_rate=0.0001", "learning_rate=0.003"}
    assert all(c["n"] == 2 for c in doc["configs"]) and len(doc["pairs"]) == 1
    assert doc["configs"][0]["name"] == "learning_rate=0.003"        # the better one first
    assert len(RunStore(str(tmp_path / "s.db")).list_runs()) == 4
    again = sweep(tmp_path, cfg, "--grid", "training.learning_rate=1e-4,3e-3", "--seeds", "2")
    assert len(RunStore(str(tmp_path / "s.db")).list_runs()) == 4 and len(again["configs"]) == 2   # nothing rerun


def test_random_search_and_pruning(tmp_path, cfg):
    """Hyperband (min resource 2 epochs, max 4: one successive-halving bracket) judges each trial
    at epoch 2 against the trials before it: with 3 trials at least one that is not the best so
    far is stopped there. (The median pruner starts only after 5 finished trials: with 3 it
    could never prune.)"""
    from optuna.trial import TrialState

    doc = sweep(tmp_path, cfg, "--search", "random", "--trials", "3", "--space",
                "training.learning_rate=log:1e-4:1e-2", "--space", "model.dropout=float:0:0.5",
                "--prune", "hyperband", "--set", "training.epochs=4")
    assert len(doc["runs"]) == 3 and doc["expected_max"] is not None and len(doc["expected_max"]) == 3
    study = optuna.load_study(study_name="sw", storage=f"sqlite:///{tmp_path / 's.db'}")
    assert len(study.trials) == 3
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert pruned, [(t.state, t.intermediate_values) for t in study.trials]
    store = RunStore(str(tmp_path / "s.db"))
    for t in pruned:
        assert max(t.intermediate_values) == 2                      # reported up to epoch 2, no further
        (run_id,) = t.user_attrs["run_ids"]
        info = store.run(run_id)
        assert info.status == "stopped" and info.stop_reason == "pruned" and info.epochs == 3
    assert any(t.state == TrialState.COMPLETE and max(t.intermediate_values) == 3 for t in study.trials)


def test_bad_sweep_arguments(tmp_path, cfg):
    for args, msg in ((["--grid", "training.learning_rate"], "key=v1,v2"),
                      (["--search", "tpe", "--trials", "2"], "--space"),
                      (["--search", "tpe", "--trials", "2", "--space", "training.learning_rate=log:0:1"], "LOW > 0"),
                      (["--grid", "a=1", "--prune", "always"], "--prune")):
        r = runner.invoke(app, ["sweep", cfg, "--store", str(tmp_path / "s.db"), *args])
        assert r.exit_code == 2 and msg in r.stderr, (args, r.output)


@pytest.mark.parametrize("storage, msg", [
    ("foo://x", "cannot open it (NoSuchModuleError"),
    ("journal:/missing/dir/j.log", "does not exist"),
    ("sqlite:////missing/dir/x.db", "does not exist"),
])
def test_a_storage_that_cannot_be_opened_is_named(tmp_path, cfg, storage, msg):
    r = runner.invoke(app, ["sweep", cfg, "--store", str(tmp_path / "s.db"), "--grid",
                            "training.learning_rate=0.01,0.02", "--storage", storage])
    assert r.exit_code == 2 and msg in " ".join(r.stderr.split()), r.output
    assert storage in " ".join(r.stderr.split()) and "Traceback" not in r.output


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}


def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path, cfg):
    args = ["sweep", cfg, "--grid", "training.learning_rate=1e-4,1e-3,3e-3", "--store", str(tmp_path / "s.db"),
            "--out", str(tmp_path / "runs"), "--json"]
    p = subprocess.run([sys.executable, str(Path(__file__).parent / "die_during_sweep.py"), *args],
                       capture_output=True, text=True, env=_env(), timeout=300)
    assert p.returncode == 9, p.stderr[-1500:]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    study = optuna.load_study(study_name="sw", storage=f"sqlite:///{tmp_path / 's.db'}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.params["training.learning_rate"] for t in done) == [1e-4, 1e-3, 3e-3]
    assert len(json.loads(r.stdout)["runs"]) == 3


@pytest.mark.slow      # two processes racing on one file: timing-dependent, run by make test-all
def test_two_workers_share_one_study(tmp_path, cfg):
    base = [sys.executable, "-m", "fitdoctor", "sweep", cfg, "--grid",
            "training.learning_rate=1e-4,3e-4,1e-3,3e-3", "--store", str(tmp_path / "s.db"),
            "--out", str(tmp_path / "runs"), "--worker"]
    procs = [subprocess.Popen(base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-800:] for o in outs]
    study = optuna.load_study(study_name="sw", storage=f"sqlite:///{tmp_path / 's.db'}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    lrs = sorted(t.params["training.learning_rate"] for t in done)
    assert lrs == [1e-4, 3e-4, 1e-3, 3e-3]                    # nothing lost, nothing run twice
    runs = RunStore(str(tmp_path / "s.db")).list_runs()
    assert len(runs) == 4


def test_one_point_with_seeds_has_nothing_to_compare(tmp_path, cfg):
    """The error named a --group regex the user never typed."""
    r = runner.invoke(app, ["sweep", cfg, "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "runs"),
                            "--grid", "training.learning_rate=3e-3", "--seeds", "2"])
    assert r.exit_code == 2 and "one configuration" in r.stderr and "--group" not in r.stderr

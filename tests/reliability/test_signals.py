"""SIGINT and SIGTERM from the user's side: `fitdoctor train` and `fitdoctor sweep` in a real
process stop at a safe point, mark the run interrupted, print how to continue, exit 130 or 143,
never a traceback; the printed resume command finishes the run with the numbers of an
uninterrupted one. A run whose process was SIGKILLed reads back as stale and resumes."""

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.store import SCHEMA_VERSION, RunStore
from fitdoctor.store.runstore import _start_time

from ..store.test_store_files import OLD_SCHEMA
from .test_crash_safety import same

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 8
CONFIG = f"""
task: {{name: image, dataset: digits, train_size: 400, val_size: 200, batch_size: 50}}
model: {{dropout: 0.2, width: 8}}
training: {{epochs: {EPOCHS}, learning_rate: 3e-3, scheduler: CosineAnnealingLR, warmup_epochs: 1}}
"""
SWEEP = """
name: sw
task: {name: image, dataset: digits, train_size: 300, val_size: 150, batch_size: 50}
model: {width: 8}
training: {epochs: 6, learning_rate: 3e-3}
"""
HINT = re.compile(r"^interrupted at epoch (\d+) by (SIG\w+): resume with (fitdoctor train --resume .+)$", re.M)


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "fitdoctor", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env())


def wait_for_first_epoch(p: subprocess.Popen) -> None:
    """Block until the child printed its first epoch line (the row is stored before it)."""
    for line in p.stdout:
        if line.startswith("epoch"):
            return
    pytest.fail(f"no epoch printed; exit {p.wait()}: {p.stderr.read()[-1500:]}")


def store_of(tmp_path) -> str:
    return str(tmp_path / "s.db")


def train_args(tmp_path, cfg):
    return ["train", cfg, "--store", store_of(tmp_path), "--out", str(tmp_path / "runs"), "--no-progress"]


def finish(p: subprocess.Popen) -> tuple[str, str]:
    out, err = p.communicate(timeout=120)
    assert "Traceback" not in out + err, err[-2000:]
    return out, err


def only_run(tmp_path) -> dict:
    runs = RunStore(store_of(tmp_path)).list_runs()
    assert len(runs) == 1, runs
    return runs[0]


def epochs_of(tmp_path, run_id):
    return RunStore(store_of(tmp_path)).epochs(run_id)


def same_numbers(a, b):
    same(a, b, EPOCHS)


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(CONFIG)
    return str(p)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run's epochs (CPU, fixed seed)."""
    d = tmp_path_factory.mktemp("ref")
    (d / "c.yaml").write_text(CONFIG)
    r = runner.invoke(app, ["train", str(d / "c.yaml"), "--store", str(d / "r.db"), "--out", str(d / "runs"),
                            "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    return RunStore(str(d / "r.db")).epochs(json.loads(r.stdout.splitlines()[-1])["run_id"])


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_training_and_the_printed_command_resumes_it(tmp_path, cfg, reference, sig, code):
    p = start(*train_args(tmp_path, cfg))
    wait_for_first_epoch(p)
    p.send_signal(sig)
    _, err = finish(p)
    assert p.returncode == code, err[-2000:]
    run = only_run(tmp_path)
    assert (run["status"], run["stop_reason"]) == ("interrupted", "interrupted")
    stored = list(epochs_of(tmp_path, run["run_id"])["epoch"])
    assert 1 <= len(stored) < EPOCHS, "the run ended before the signal: make it longer"
    assert stored == list(range(len(stored)))                   # whole epochs only
    hint = HINT.search(err)
    assert hint, err[-2000:]
    assert int(hint[1]) == len(stored) and hint[2] == sig.name
    command = shlex.split(hint[3])
    assert command[:3] == ["fitdoctor", "train", "--resume"] and command[3] == run["run_id"]
    assert command[command.index("--store") + 1] == store_of(tmp_path)
    assert command[command.index("--out") + 1] == str(tmp_path / "runs")
    # the line as printed, run as the user would
    r = runner.invoke(app, [*command[1:], "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.splitlines()[-1])["status"] == "completed"
    assert only_run(tmp_path)["status"] == "completed"
    same_numbers(epochs_of(tmp_path, run["run_id"]), reference)


def test_a_run_whose_process_was_killed_is_stale_and_resumes(tmp_path, cfg, reference):
    p = start(*train_args(tmp_path, cfg))
    wait_for_first_epoch(p)
    p.kill()                                                     # SIGKILL: no handler runs
    p.communicate(timeout=60)
    run = only_run(tmp_path)
    assert run["status"] == "stale" and run["owner_pid"] == p.pid
    s = store_of(tmp_path)
    listed = json.loads(runner.invoke(app, ["runs", "list", "--store", s, "--json"]).stdout)
    assert [r["status"] for r in listed] == ["stale"]
    table = runner.invoke(app, ["runs", "list", "--store", s]).stdout
    assert "stale" in table and "--resume RUN_ID" in table
    shown = runner.invoke(app, ["runs", "show", run["run_id"], "--store", s]).stdout
    assert f"stale (marked running, but process {p.pid} is gone; resume with fitdoctor train " \
           f"--resume {run['run_id']} --store {s})" in shown
    r = runner.invoke(app, ["train", "--resume", run["run_id"], "--store", s, "--out", str(tmp_path / "runs"),
                            "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert only_run(tmp_path)["status"] == "completed"
    same_numbers(epochs_of(tmp_path, run["run_id"]), reference)


def test_liveness_of_the_owner_decides_between_running_and_stale(tmp_path):
    s = RunStore(store_of(tmp_path))
    config = yaml.safe_load(CONFIG)
    config["training"]["epochs"] = 1                       # were the live owner ignored: a short run
    run_id = s.create_run(config)
    assert s.run(run_id).status == "running"                 # owned by this live process
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = _start_time(sleeper.pid)
        with sqlite3.connect(store_of(tmp_path)) as c:
            c.execute("UPDATE runs SET owner_pid=?, owner_start=?", (sleeper.pid, started))
        assert s.run(run_id).status == "running"
        r = runner.invoke(app, ["train", "--resume", run_id, "--store", store_of(tmp_path),
                                "--out", str(tmp_path / "runs"), "--no-progress"])
        assert r.exit_code == 2 and f"still running (process {sleeper.pid} on this host)" in r.stderr, r.output
        if started is not None:                                 # Linux: a reused pid is not the owner
            with sqlite3.connect(store_of(tmp_path)) as c:
                c.execute("UPDATE runs SET owner_start=?", (started + 1,))
            assert s.run(run_id).status == "stale"
            with sqlite3.connect(store_of(tmp_path)) as c:
                c.execute("UPDATE runs SET owner_start=?", (started,))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert s.run(run_id).status == "stale"
    assert [r["status"] for r in s.list_runs()] == ["stale"]
    with sqlite3.connect(store_of(tmp_path)) as c:
        c.execute("UPDATE runs SET owner_host='another-host'")
    assert s.run(run_id).status == "running"                 # another host's process: unknown
    s.update_run(run_id, status="completed")
    with sqlite3.connect(store_of(tmp_path)) as c:
        c.execute("UPDATE runs SET owner_host=NULL")
    assert s.run(run_id).status == "completed"


# fitdoctor's schema version 1 (tests/store's), with a run left "running" by an old version
V1_SCHEMA = OLD_SCHEMA + """
INSERT INTO runs VALUES ('old-run', 'old', 'running', NULL, '{}', 'val_acc', 'max', 10, NULL, NULL, 1, 1);
INSERT INTO epochs VALUES ('old-run', 0, '{"val_acc": 0.5}');
"""


def test_a_version_1_store_opens_and_gains_the_owner_columns(tmp_path):
    path = store_of(tmp_path)
    with sqlite3.connect(path) as c:
        c.executescript(V1_SCHEMA)
    listed = runner.invoke(app, ["runs", "list", "--store", path, "--json"])
    assert listed.exit_code == 0, listed.output
    assert {r["run_id"]: r["status"] for r in json.loads(listed.stdout)}["old-run"] == "running"
    assert sqlite3.connect(path).execute("SELECT version FROM schema_version").fetchone()[0] == 1
    s = RunStore(path)
    [old] = [r for r in s.list_runs() if r["run_id"] == "old-run"]
    assert (old["run_id"], old["status"], old["epochs"], old["owner_pid"]) == ("old-run", "running", 1, None)
    assert s.conn.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION == 2
    new = s.create_run({})
    assert s.run(new).owner_pid == os.getpid()
    RunStore(path)                                              # opens again, migrated once


def _running_epochs(path: str) -> int:
    """Epoch rows of runs still running, read without taking a write lock (0 before the tables exist)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM epochs e JOIN runs r USING (run_id) "
                             "WHERE r.status = 'running'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_sweep_fails_and_requeues_the_trial(tmp_path, sig, code):
    cfg = tmp_path / "sw.yaml"
    cfg.write_text(SWEEP)
    store = store_of(tmp_path)
    args = ["sweep", str(cfg), "--grid", "training.learning_rate=1e-3,3e-3", "--store", store,
            "--out", str(tmp_path / "runs"), "--worker"]
    p = start(*args)
    deadline = time.monotonic() + 90
    while _running_epochs(store) == 0:
        assert p.poll() is None and time.monotonic() < deadline, p.communicate()[1][-1500:]
        time.sleep(0.05)
    p.send_signal(sig)
    _, err = finish(p)
    assert p.returncode == code, err[-2000:]
    assert f"sweep sw interrupted by {sig.name} in trial 0 (run " in err
    assert "run the same fitdoctor sweep command again to continue" in err
    [run] = RunStore(store).list_runs()
    assert (run["status"], run["stop_reason"]) == ("interrupted", "interrupted")
    study = optuna.load_study(study_name="sw", storage=f"sqlite:///{store}")
    states = [(t.state.name, t.params.get("training.learning_rate"), t.user_attrs.get("retry_of"))
              for t in study.trials]
    assert states[0] == ("FAIL", 1e-3, None) and study.trials[0].user_attrs["interrupted"]
    assert ("WAITING", None, 0) in states                     # the point, queued again
    r = runner.invoke(app, args)                               # the same command continues
    assert r.exit_code == 0, r.output
    study = optuna.load_study(study_name="sw", storage=f"sqlite:///{store}")
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.params["training.learning_rate"] for t in done) == [1e-3, 3e-3]
    statuses = sorted(r["status"] for r in RunStore(store).list_runs())
    assert statuses == ["completed", "completed", "interrupted"]


def _signal_self_during(monkeypatch, module, name, sig):
    """Wrap ``module.name`` so that calling it first sends ``sig`` to this process (the CLI's
    handler is in place by then: the signal is only recorded)."""
    original = getattr(module, name)

    def wrapped(*args, **kwargs):
        os.kill(os.getpid(), sig)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, name, wrapped)


def test_a_signal_before_the_run_is_stored_stores_nothing(tmp_path, cfg, monkeypatch):
    from fitdoctor.training import runner as training_runner

    _signal_self_during(monkeypatch, training_runner, "build_task", signal.SIGTERM)
    r = runner.invoke(app, train_args(tmp_path, cfg))
    assert r.exit_code == 143, r.output
    assert "interrupted by SIGTERM before the run was stored: nothing to resume" in r.stderr
    assert RunStore(store_of(tmp_path)).list_runs() == []


def test_a_signal_before_fit_starts_is_handed_to_lightning(tmp_path, cfg, monkeypatch):
    """Between the run's creation and Trainer.fit: training stops after its first batch."""
    from fitdoctor.training import module as training_module

    _signal_self_during(monkeypatch, training_module, "FitModule", signal.SIGINT)
    r = runner.invoke(app, train_args(tmp_path, cfg))
    assert r.exit_code == 130, r.output
    run = only_run(tmp_path)
    assert run["status"] == "interrupted" and run["epochs"] == 0
    assert HINT.search(r.stderr)[1] == "0"

"""Nothing lost: damaged or missing checkpoints, a killed process at random moments, several
processes writing one store, a store of another schema version, hostile JSON."""

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.errors import LogFormatError
from fitdoctor.history import read_history
from fitdoctor.store import RunStore, StoreError

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
DIE = ROOT / "tests" / "training" / "die_after_epoch.py"
CONFIG = """
task: {name: image, dataset: digits, train_size: 400, val_size: 200, batch_size: 50}
model: {dropout: 0.2, width: 8}
training: {epochs: 5, learning_rate: 3e-3, scheduler: CosineAnnealingLR, warmup_epochs: 1}
"""


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def reference(tmp_path, cfg):
    r = runner.invoke(app, ["train", cfg, "--store", str(tmp_path / "ref.db"), "--out", str(tmp_path / "ref"),
                            "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    s = RunStore(str(tmp_path / "ref.db"))
    return s.epochs(s.list_runs()[0]["run_id"])


def resume(store, out):
    run_id = RunStore(store).list_runs()[0]["run_id"]
    r = runner.invoke(app, ["train", "--resume", run_id, "--store", store, "--out", out, "--json", "--no-progress"])
    assert r.exit_code == 0, r.output
    return RunStore(store).epochs(run_id), r


def same(a, b, epochs=5):
    """Two runs' epoch tables hold the same numbers, epoch for epoch."""
    assert list(a["epoch"]) == list(b["epoch"]) == list(range(epochs))
    for col in ("train_loss", "val_loss", "val_acc", "lr"):
        assert list(a[col]) == pytest.approx(list(b[col]), rel=1e-6), col


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(CONFIG)
    return str(p)


def test_truncated_last_checkpoint_falls_back_to_the_previous_good_one(tmp_path, cfg):
    ref = reference(tmp_path, cfg)
    store, out = str(tmp_path / "s.db"), str(tmp_path / "runs")
    p = subprocess.run([sys.executable, str(DIE), cfg, "2", store, out], env=env(), capture_output=True, text=True)
    assert p.returncode == 9, p.stderr
    last = RunStore(store).run(RunStore(store).list_runs()[0]["run_id"]).artifacts["last_checkpoint"]
    data = Path(last).read_bytes()
    Path(last).write_bytes(data[: len(data) // 3])                 # a torn write
    epochs, r = resume(store, out)
    assert "cannot be loaded" in r.stderr
    same(epochs, ref)


def test_killed_before_the_first_checkpoint_starts_again(tmp_path, cfg):
    ref = reference(tmp_path, cfg)
    store, out = str(tmp_path / "s.db"), str(tmp_path / "runs")
    p = subprocess.run([sys.executable, str(DIE), cfg, "0", store, out], env=env(), capture_output=True, text=True)
    assert p.returncode == 9
    run_id = RunStore(store).list_runs()[0]["run_id"]
    for ckpt in Path(out, run_id, "checkpoints").glob("*.ckpt"):
        ckpt.unlink()                                              # as if killed before writing it
    epochs, r = resume(store, out)
    assert "starts again from epoch 0" in r.stderr
    same(epochs, ref)


def _writer(path: str, k: int) -> None:
    s = RunStore(path)
    for r in range(2):
        run_id = s.create_run({"worker": k, "run": r}, name=f"w{k}-{r}")
        for e in range(40):
            s.log_epoch(run_id, e, {"val_acc": e / 40, "train_loss": 1 / (e + 1)})
        s.update_run(run_id, status="completed")


def test_four_processes_writing_one_store_lose_nothing(tmp_path):
    path = str(tmp_path / "s.db")
    RunStore(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    s = RunStore(path)
    runs = s.list_runs()
    assert len(runs) == 8 and all(r["epochs"] == 40 and r["status"] == "completed" for r in runs)


def test_schema_mismatch_names_the_fix(tmp_path):
    path = tmp_path / "s.db"
    RunStore(str(path))
    with sqlite3.connect(path) as c:
        c.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="schema version 99.*start a new store with another path") as info:
        RunStore(str(path))
    assert info.value.cli_message(lambda name: "--" + name).endswith("start a new store with --store NEW.db.")
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a fitdoctor run store"):
        RunStore(str(tmp_path / "junk.db"))


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, '{"a":' * 50000 + "1" + "}" * 50000])
def test_deeply_nested_json_is_refused_cleanly(tmp_path, text):
    p = tmp_path / "deep.json"
    p.write_text(text)
    with pytest.raises(LogFormatError, match="nested too deeply"):
        read_history(p)


@pytest.mark.slow
def test_twenty_kills_at_random_moments(tmp_path, cfg):
    """kill -9 during an epoch, a checkpoint write or a store write, then --resume: the store
    holds every epoch once and the numbers of an uninterrupted run."""
    ref = reference(tmp_path, cfg)
    rng = random.Random(0)
    for i in range(20):
        store, out = str(tmp_path / f"k{i}.db"), str(tmp_path / f"k{i}")
        p = subprocess.Popen([sys.executable, "-m", "fitdoctor", "train", cfg, "--store", store, "--out", out,
                              "--no-progress"], env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(3.0, 7.0))                      # imports take ~3 s, training ~2 s
        p.send_signal(signal.SIGKILL)
        p.wait()
        if not Path(store).exists() or not RunStore(store).list_runs():
            continue                                            # killed before the run existed
        epochs, _ = resume(store, out)
        same(epochs, ref)

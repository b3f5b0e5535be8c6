"""bench/ddp.py (issue 14's measurement) runs end to end on 2 CPU processes over gloo and its
invariants hold: one run and one report per training, the validation set counted once, a grid
split over two sweep workers with nothing run twice or lost, 2 nodes x 1 process making one run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow      # five DDP trainings and three sweep workers racing on SQLite files
def test_ddp_bench_on_cpu(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "ddp.py"), "--cpu", "--part", "all", "--epochs", "2",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    doc = json.loads(next(tmp_path.glob("ddp-*-cpu-scaling.json")).read_text())
    assert sorted((r["scaling"], r["gpus"]) for r in doc["rows"]) == [
        ("strong", 1), ("strong", 2), ("weak", 1), ("weak", 2)]
    for r in doc["rows"]:
        assert "error" not in r, r
        assert r["runs"] == 1 and r["reports"] == 1 and r["epoch_rows_unique"] and r["samples_per_s"] > 0
        assert r["val_once"] and r["val_acc_matches_predictions"] and 0.1 < r["val_metric"] <= 1
    one, two = json.loads(next(tmp_path.glob("ddp-*-cpu-sweep.json")).read_text())["rows"]
    assert one["workers"] == 1 and two["workers"] == 2
    for sw in (one, two):
        assert sw["trials"] == sw["grid"] == 4 and sw["duplicates"] == 0 and sw["lost"] == 0
    (nodes,) = json.loads(next(tmp_path.glob("ddp-*-cpu-nodes.json")).read_text())["rows"]
    assert nodes["runs"] == 1 and nodes["reports"] == 1 and nodes["val_once"]
    assert "| image | eager | weak | 2 |" in p.stdout           # the README table

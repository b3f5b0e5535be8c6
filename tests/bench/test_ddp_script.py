"""bench/ddp.py (issue 8's measurement) runs end to end on 2 CPU processes over gloo and its
invariants hold: one run and one report per training, a grid split over two sweep workers with
nothing run twice or lost."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow      # two DDP trainings and two sweep workers racing on one SQLite file
def test_ddp_bench_on_cpu(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "ddp.py"), "--cpu", "--epochs", "3", "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    doc = json.loads(next(tmp_path.glob("ddp-*-cpu.json")).read_text())
    assert [r["gpus"] for r in doc["rows"]] == [1, 2]
    for r in doc["rows"]:
        assert r["runs"] == 1 and r["reports"] == 1 and r["epoch_rows_unique"] and r["samples_per_s"] > 0
        assert 0.3 < r["val_metric"] <= 1
    sw = doc["sweep"]
    assert sw["trials"] == sw["grid"] == 4 and sw["duplicates"] == 0 and sw["lost"] == 0
    assert sum(sw["per_worker"]) == 4

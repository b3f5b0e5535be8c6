"""A 100 MB log is read with bounded memory: lines are streamed, only epoch rows are kept."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import resource, sys
from fitdoctor.history import read_history
from fitdoctor.diagnosis import diagnose
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
h = read_history(sys.argv[1])
d = diagnose(h)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(h.n, d.verdict, (after - before) // 1024)
"""


def test_a_100_mb_console_log_reads_in_bounded_memory(tmp_path):
    path = tmp_path / "big.log"
    debris = "".join(f"Epoch {{e}}:  {s // 20:3d}%|{'#' * (s // 200)}| {s}/2000 [00:{s % 60:02d}<00:10, "
                     f"51.2it/s, loss=0.{s % 997:03d}]\n" for s in range(2000))
    with open(path, "w") as fh:
        e = 0
        while fh.tell() < 100 * 2**20:
            fh.write(debris.replace("{e}", str(e)))
            fh.write(f"epoch {e}: train loss :: {1 / (e + 1):.4f}, dev acc :: {min(0.9, 0.45 + e / 700):.4f}\n")
            e += 1
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    n, _verdict, grown_mb = out.stdout.split()
    assert int(n) == e
    assert int(grown_mb) < 60, f"reading a {path.stat().st_size >> 20} MB log grew memory by {grown_mb} MB"

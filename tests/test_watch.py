"""fitdoctor watch on a real log written line by line by another process: lines when the verdict
changes, the user's command for a new finding, truncation and rotation survived."""

import json
import select
import subprocess
import sys
import textwrap

from .conftest import SEED_LOGS

WRITER = textwrap.dedent("""
    import sys, time, os
    src, dst, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    time.sleep(1.0)
    with open(dst, "a", encoding="utf-8") as out:
        for line in open(src, encoding="utf-8"):
            out.write(line); out.flush(); time.sleep(pause)
    if len(sys.argv) > 4:                        # then rotate: the old file moved, a new one
        while len(sys.argv) > 5 and not os.path.exists(sys.argv[5]):
            time.sleep(0.05)                     # ... once the watcher has said something
        os.replace(dst, dst + ".1")
        with open(dst, "w", encoding="utf-8") as out:
            out.write(open(sys.argv[4], encoding="utf-8").read())
""")


def _watch(tmp_path, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "fitdoctor", "watch", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=tmp_path)


def test_watch_follows_a_growing_log_and_runs_the_hook(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(SEED_LOGS / "sst-try1.log"), str(log),
                               "0.03"])
    hook = tmp_path / "finding.json"
    p = _watch(tmp_path, log, "--interval", "0.1", "--until", "finding",
               "--on-finding", f"{sys.executable} -c \"import sys; open(r'{hook}', 'w').write(sys.stdin.read())\"")
    writer.kill()
    assert p.returncode == 1, p.stderr
    doc = json.loads(hook.read_text())
    assert doc["schema"] == "fitdoctor.finding/1" and doc["finding"]["severity"] in ("warning", "critical")
    assert doc["finding"]["code"] in p.stdout or doc["verdict"] in p.stdout
    assert "Traceback" not in p.stderr


def test_watch_survives_rotation_and_stops_when_idle(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("")
    go = tmp_path / "rotate-now"             # the rotation waits for the watcher's first line: on a
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(SEED_LOGS / "sst-try1.log"), str(log),
                               "0.01", str(SEED_LOGS / "sst-try3.log"), str(go)])   # loaded machine
    p = subprocess.Popen([sys.executable, "-m", "fitdoctor", "watch", str(log), "--interval", "0.1",
                          "--until", "done", "--idle", "3"],          # its start may outlast the writer
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    ready, _, _ = select.select([p.stdout], [], [], 60)     # a watcher that says nothing fails,
    if not ready:                                            # it does not hang the suite
        p.kill()
    lines = [p.stdout.readline() if ready else ""]
    go.touch()
    out, err = p.communicate(timeout=60)
    writer.wait(timeout=30)
    assert p.returncode == 0, err
    lines = (lines[0] + out).strip().splitlines()
    assert len(lines) >= 2 and all(line.startswith("epoch ") for line in lines)
    # the last line is sst-try3's (underfitting, best 0.435 at epoch 16), read after the rotation
    assert "best 0.435 @ 16" in lines[-1]


def test_watch_mistakes_exit_2(tmp_path):
    p = _watch(tmp_path, tmp_path / "nothing.log", "--until", "done")
    assert p.returncode == 2 and "no such file" in p.stderr
    log = tmp_path / "a.log"
    log.write_text("")
    p = _watch(tmp_path, log, "--until", "later")
    assert p.returncode == 2 and "--until must be done or finding" in p.stderr


def test_watch_a_stored_run_until_it_stops_running(tmp_path):
    from fitdoctor.integrations.track import track

    db = tmp_path / "s.db"
    with track("w", {"training": {"seed": 0}}, store=str(db)) as r:
        for e in range(8):
            r.log(train_loss=1 / (e + 1), val_loss=1 / (e + 1) + 0.1, val_acc=0.5 + 0.04 * e,
                  train_acc=0.55 + 0.045 * e)
    p = _watch(tmp_path, "w", "--store", db, "--until", "done", "--interval", "0.1")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("epoch 7: ") and "best 0.78 @ 7" in p.stdout

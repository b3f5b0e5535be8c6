"""Follow a growing training history (a log file, a run directory, or a stored run) and
re-diagnose it each time a new epoch lands: a line when the verdict changes, the user's own
command for each new finding. The file is read whole at each change, so log rotation and
truncation (a smaller file, a new inode) need nothing special."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Callable

from .diagnosis import diagnose, to_document
from .diagnosis.types import Diagnosis
from .errors import FitDoctorError, UsageError
from .history import History, read_history
from .store import RunStore

ALERTS = ("warning", "critical")      # the findings --on-finding is run for


@dataclass
class Watched:
    """What the watch has seen: epochs, the last verdict line, the findings already reported."""
    epochs: int = 0
    key: tuple = ()                   # (verdict, onset, best epoch): a line when it changes
    reported: frozenset = frozenset()
    diagnosis: Diagnosis | None = None


def summary(d: Diagnosis) -> str:
    """One line: the verdict, the onset, the best with its interval."""
    onset = d.overfitting.onset_epoch
    best = f"best {d.best.value:.4g} @ {d.best.epoch:g}"
    if d.best.ci95:
        best += f" [{d.best.ci95[0]:.3g}-{d.best.ci95[1]:.3g}]"
    return f"{d.verdict}" + (f" from epoch {onset:g}" if onset is not None else "") + f", {best}"


def _fingerprint(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def watch(target: str, *, store: str | None = None, interval: float = 2.0,
          until: str | None = None, on_finding: str | None = None, idle: float | None = None,
          say: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep) -> int:
    """Watch ``target`` until ``until`` ("done": a stored run that is no longer running, or a file
    unchanged for ``idle`` seconds; "finding": the first warning or critical finding). Returns
    the exit code: 0, or 1 when it stopped on a finding."""
    if until not in (None, "done", "finding"):
        raise UsageError(f"--until must be done or finding, got {until!r}.")
    stored = not os.path.exists(target) and store is not None and os.path.exists(store)
    if not stored and not os.path.exists(target):
        raise UsageError(f"{target}: no such file, and no run of that id in a store. Watch a log "
                         "file, a run directory, or a run id with --store.")
    runs = RunStore(store, create=False) if stored else None
    if runs is not None and not runs.find(target):
        raise UsageError(f"{target}: no run of that id in {store}.")
    seen, last_change, fingerprint = Watched(), time.monotonic(), None
    while True:
        if runs is not None:
            info = runs.run(target)
            changed = int(info.epochs or 0) != seen.epochs
            done = info.status != "running"
        else:
            fp = _fingerprint(target)
            changed = fp is not None and fp != fingerprint
            fingerprint = fp or fingerprint
            done = idle is not None and time.monotonic() - last_change > idle
        if changed:
            last_change = time.monotonic()
            new = _look(target, runs, seen, say)
            for f in new if on_finding else ():
                _run_hook(on_finding, f, seen.diagnosis, say)
            if new and until == "finding":
                return 1
        if until == "done" and done:
            return 0
        sleep(interval)


def _look(target: str, runs: RunStore | None, seen: Watched,
          say: Callable[[str], None]) -> list:
    """Re-diagnose when a new epoch has landed: a line when the verdict, onset or best epoch
    changed; the warning or critical findings not reported before."""
    h = _read(target, runs)
    if h is None or h.n == seen.epochs:
        return []
    seen.epochs = h.n
    try:
        d = diagnose(h)
    except FitDoctorError:
        return []
    seen.diagnosis = d
    key = (d.verdict, d.overfitting.onset_epoch, d.best.epoch)
    if key != seen.key:
        seen.key = key
        say(f"epoch {d.final_epoch:g}: {summary(d)}")
    new = [f for f in d.findings if f.severity in ALERTS and f.code not in seen.reported]
    seen.reported = seen.reported | {f.code for f in new}
    return new


def _read(target: str, runs: RunStore | None) -> History | None:
    try:
        return runs.history(target) if runs is not None else read_history(target)
    except FitDoctorError:           # caught mid-write, or not enough yet: the next change tells
        return None


def _run_hook(command: str, finding, d: Diagnosis, say: Callable[[str], None]) -> None:
    """The user's command, with the finding (and the run's verdict and best) as JSON on stdin."""
    doc = to_document(d)
    payload = {"schema": "fitdoctor.finding/1", "source": d.source, "verdict": d.verdict,
               "best": doc["best"], "finding": {"code": finding.code, "severity": finding.severity,
                                               "message": finding.message}}
    try:
        done = subprocess.run(command, shell=True, input=json.dumps(payload), text=True, timeout=60)
    except subprocess.TimeoutExpired:
        say(f"--on-finding: {command!r} ran over 60 s; stopped")
        return
    if done.returncode != 0:
        say(f"--on-finding: {command!r} exited {done.returncode}")

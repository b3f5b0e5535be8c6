"""MLflow tracking directories (``mlruns/``), read from MLflow's documented file-store layout
without MLflow itself: ``<experiment_id>/<run_id>/metrics/<name>`` files of
``<timestamp_ms> <value> <step>`` lines, ``params/<name>``, ``tags/mlflow.runName`` and
``meta.yaml``. Each run is one history; its metrics are joined on MLflow's step."""

from __future__ import annotations

import os

import pandas as pd

from ...errors import LogFormatError
from ..names import canonical_name
from .text import parse_value


def is_run_dir(path: str) -> bool:
    """An MLflow run: a ``meta.yaml`` beside a ``metrics/`` directory."""
    return (os.path.isfile(os.path.join(path, "meta.yaml"))
            and os.path.isdir(os.path.join(path, "metrics")))


def find_runs(path: str) -> list[str]:
    """The run directories of a run, an experiment or a whole ``mlruns/`` directory, oldest
    first; deleted runs (``lifecycle_stage: deleted``, or in ``.trash``) left out."""
    if is_run_dir(path):
        return [path]
    runs = []
    for child in _subdirs(path):
        runs += [child] if is_run_dir(child) else [d for d in _subdirs(child) if is_run_dir(d)]
    live = [r for r in runs if _meta(r).get("lifecycle_stage") != "deleted"]
    return sorted(live, key=lambda r: (_start_time(r), r))


def _start_time(run: str) -> int:
    value = _meta(run).get("start_time", "")
    return int(value) if value.isdigit() else 0


def _subdirs(path: str) -> list[str]:
    return [os.path.join(path, d) for d in sorted(os.listdir(path))
            if not d.startswith(".") and os.path.isdir(os.path.join(path, d))]


def _meta(run: str) -> dict[str, str]:
    """``meta.yaml``'s top-level scalars (``key: value`` lines), quotes stripped."""
    out = {}
    with open(os.path.join(run, "meta.yaml"), encoding="utf-8", errors="replace") as fh:
        for line in fh:
            key, sep, value = line.partition(":")
            if sep and not line[:1].isspace():
                out[key.strip()] = value.strip().strip("'\"")
    return out


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read().strip()


def _metric(path: str) -> list[tuple[int, int, float]]:
    """(step, timestamp, value) per line; MLflow before 0.9 wrote no step (the line's order is
    taken), but a file's lines all have the same fields (a line cut short is damage, not an old
    format)."""
    points, width = [], None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            fields = line.split()
            if not fields:
                continue
            width = width or len(fields)
            try:
                if len(fields) != width or width not in (2, 3):
                    raise ValueError
                ts, value = int(fields[0]), float(fields[1])
                step = int(fields[2]) if len(fields) == 3 else len(points)   # no step: line order
            except ValueError:
                raise LogFormatError(f"{path}:{lineno}: not an MLflow metric line (expected "
                                     f"'<timestamp_ms> <value> <step>', got {line.strip()[:60]!r})."
                                     " Is this an MLflow tracking directory?") from None
            points.append((step, ts, value))
    return points


def _files(folder: str) -> list[str]:
    """The files under ``folder`` by their key: a key with "/" (``train/loss``) is a subfolder."""
    keys = []
    for root, _, files in os.walk(folder):
        keys += [os.path.relpath(os.path.join(root, f), folder).replace(os.sep, "/") for f in files]
    return sorted(keys)


def _config(run: str) -> dict:
    """``params/``: numbers as numbers (``lr`` 0.01), true/false as booleans, anything else as
    written (the console reader's rule)."""
    folder = os.path.join(run, "params")
    return {name: parse_value(_read_text(os.path.join(folder, name)))
            for name in (_files(folder) if os.path.isdir(folder) else [])}


def run_name(run: str) -> str:
    """``tags/mlflow.runName``, else ``meta.yaml``'s ``run_name``, else the run id."""
    tag = os.path.join(run, "tags", "mlflow.runName")
    name = _read_text(tag) if os.path.isfile(tag) else _meta(run).get("run_name", "")
    return name or os.path.basename(os.path.normpath(run))


def _read_run(run: str) -> tuple[pd.DataFrame, dict]:
    folder = os.path.join(run, "metrics")
    rows: dict[int, dict] = {}
    notes, repeated = [], 0
    for name in _files(folder):
        column = canonical_name(name)
        for step, _, value in sorted(_metric(os.path.join(folder, name))):
            row = rows.setdefault(step, {"step": step})
            repeated += column in row
            row[column] = value                 # several values at one step: the last logged
    if repeated:
        notes.append(f"{repeated} value(s) logged again at the same MLflow step: the last kept")
    table = pd.DataFrame([rows[k] for k in sorted(rows)])
    return table, {"notes": notes, "final": {}, "config": _config(run), "val_size": None,
                   "name": run_name(run)}


def read_mlflow(path: str) -> list[tuple[pd.DataFrame, dict]]:
    """One (table, meta) per run under ``path``, the run's name in ``meta['name']``."""
    runs = [r for r in find_runs(path) if os.listdir(os.path.join(r, "metrics"))]
    if not runs:
        raise LogFormatError(f"{path}: an MLflow tracking directory with no run that logged "
                             "metrics (looked for <experiment>/<run>/metrics/<name> files).")
    return [_read_run(r) for r in runs]

"""What the commands read, as the library sees it: histories from files or stored runs, a
metric series for the schedule preview, and the inputs of a comparison. Mistakes are a
UsageError naming the path or run and the fix."""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile

from .diagnosis import diagnose
from .diagnosis.comparison import run_input
from .errors import UsageError, arg, either
from .history import History, read_histories, read_history
from .store import RunStore

METRIC_FILE_BYTES = 64 * 2**20
STDIN_BYTES = 512 * 2**20        # a log piped in is read whole: at most this much


def _stdin_histories(fmt: str | None) -> list[History]:
    """A log piped into ``-``: read whole (up to STDIN_BYTES) into a temporary file, read as any
    log is, and named "stdin"."""
    data = sys.stdin.buffer.read(STDIN_BYTES + 1)
    if len(data) > STDIN_BYTES:
        raise UsageError(f"-: standard input is larger than {STDIN_BYTES // 2**20} MB; give the "
                         "log as a file.")
    if not data.strip():
        raise UsageError("-: standard input is empty; pipe a training log into it, or give a file.")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stdin")
        with open(path, "wb") as fh:
            fh.write(data)
        return [dataclasses.replace(h, source="-", name="stdin" if h.name == "stdin" else
                                    h.name.replace(path, "stdin"))
                for h in read_histories(path, fmt)]


def open_histories(paths: list[str], fmt: str | None, run: str | None,
                   store: str | None = None) -> list[History]:
    """The histories of ``paths``: log files or run directories, or run ids of ``store``;
    ``run`` picks a run of a file holding several (a number from 1, or "all")."""
    if run not in (None, "all") and not run.isdigit():
        raise UsageError(f"{arg('run')} must be a run number (1, 2, ...) or 'all', got {run=}.")
    out: list[History] = []
    for path in paths:
        if path == "-":
            found = _stdin_histories(fmt)
            if run is None and len(found) > 1:
                every = arg("run", "all", lib="run='all'")
                raise UsageError(f"-: standard input holds {len(found)} runs; give {arg('run', 'N')} or {every}.")
            if run not in (None, "all") and not 1 <= int(run) <= len(found):
                raise UsageError(f"-: {arg('run', run, lib=f'run={run!r}')}, but standard input holds "
                                 f"{len(found)} run(s).")
            out += found if run in (None, "all") else [found[int(run) - 1]]
            continue
        if not os.path.exists(path) and store and os.path.exists(store):
            runs = RunStore(store, create=False)
            if not runs.find(path):
                listing = either(f"RunStore({store!r}).list_runs()", f"`fitdoctor runs list --store {store}`")
                raise UsageError(f"{path}: no such file, and no run of that id in {store} (see {listing}).")
            out.append(runs.history(path))       # a run id from `fitdoctor runs list`
            continue
        if run == "all":
            out += read_histories(path, fmt)
        elif run is not None:
            out.append(read_history(path, fmt, int(run)))
        else:
            out.append(read_history(path, fmt))
    return out


def metric_series(path: str) -> list[float]:
    """One number per line, or any training history fitdoctor reads (its monitored metric)."""
    named = arg("metric_file", path, lib=path)           # --metric-file on the command line
    if not os.path.exists(path):
        raise UsageError(f"{named}: no such file.")
    if not os.path.isfile(path):          # a directory, a device (/dev/zero), a FIFO
        raise UsageError(f"{named}: not a regular file.")
    if os.path.getsize(path) > METRIC_FILE_BYTES:
        raise UsageError(f"{named}: larger than {METRIC_FILE_BYTES // 2**20} MB; a "
                         "metric per epoch is a few KB. Give the validation metric's values.")
    try:
        with open(path, encoding="utf-8") as fh:
            return [float(x) for x in fh.read().split()]
    except (ValueError, UnicodeDecodeError):
        h = read_history(path)
        return [float(v) for v in h.values(h.monitor) if v == v]


def compare_inputs(items: list[str], store: str, fmt: str | None, metric: str | None,
                   val_size: int | None):
    """Histories (files or stored runs) with their diagnoses and, for stored runs, the
    per-example predictions of the best epoch."""
    inputs, histories, seen, sources = [], {}, set(), {}
    for item in items:
        found = []
        key = os.path.realpath(item) if os.path.exists(item) else None
        if key is not None and key in sources:   # one run counted twice would pass for a seed
            raise UsageError(f"{item}: given twice (also as {sources[key]}); give each run once.")
        if key is not None:
            sources[key] = item
        if item == "-":
            found = [(h, None) for h in _stdin_histories(fmt)]
        elif os.path.exists(item):
            found = [(h, None) for h in read_histories(item, fmt)]
        else:
            if not os.path.exists(store):
                raise UsageError(f"{item}: no such file, and no run store {store} to look it up in.")
            s = RunStore(store, create=False)
            run_id = s.resolve(item)
            if run_id in sources:
                raise UsageError(f"{item}: run {run_id} given twice (also as {sources[run_id]}); "
                                 "give each run once.")
            sources[run_id] = item
            pred = s.predictions(run_id, "best")
            found = [(s.history(run_id), pred[1]["correct"] if pred else None)]
        for h, correct in found:
            h = h.with_options(monitor=metric, val_size=val_size)
            name = h.name
            while name in seen:
                name += "'"
            seen.add(name)
            d = diagnose(h)
            inputs.append(run_input(name, d, h, correct=correct))
            histories[name] = h
    return inputs, histories


def name_by_point(inputs, histories, keys: list[str]):
    """Sweep runs renamed "lr=0.003 #seed1" (their point in the search space, and the seed), so
    that a configuration's row says what it is."""
    def label(i) -> str:
        point = ",".join(f"{k.rsplit('.', 1)[-1]}={i.config.get(k)}" for k in keys)
        return f"{point} #seed{i.config.get('training.seed')}"

    renamed = [dataclasses.replace(i, name=label(i)) for i in inputs]
    return renamed, {label(i): histories[i.name] for i in inputs}

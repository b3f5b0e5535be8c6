"""The format sniffer and the dispatch behind ``read_history``/``read_histories``: a file's head
read with bounded memory, its format told from it (or given), the reader of that format called,
and the runs it holds turned into histories (several when the epoch counter restarts, one per
MLflow run)."""

from __future__ import annotations

import csv
import json
import os
import re
from typing import Iterator

from ...errors import LogFormatError, UsageError, arg
from ..core import History, make_history
from .hf import read_trainer_state
from .mlflow import find_runs, read_mlflow
from .tables import is_yolov5_txt, parse_jsonl, read_csv, read_json_records, read_yolov5_txt
from .tensorboard import is_event_file, read_tensorboard
from .text import read_text

FORMATS = ("console", "csv", "hf", "jsonl", "json", "tensorboard", "yolov5-txt")
__all__ = ["FORMATS", "read_histories", "read_history"]


class _Source:
    """A log file read with bounded memory: its head for sniffing, then either its lines,
    streamed (console text, JSON-lines), the path itself (CSV, for pandas' own reader), or its
    whole text (JSON documents)."""

    HEAD = 256 * 1024

    def __init__(self, path: str):
        self.path = path
        try:
            with open(path, "rb") as fh:
                raw = fh.read(self.HEAD)
        except FileNotFoundError:
            raise LogFormatError(f"{path}: no such file. Give a log file (console text, CSV, JSON) "
                                 "or a run directory.") from None
        except OSError as exc:
            raise LogFormatError(f"{path}: cannot be read ({exc.strerror}).") from None
        if not raw.strip():
            raise LogFormatError(f"{path}: the file is empty.")
        if b"\x00" in raw[:8192]:
            raise LogFormatError(f"{path}: binary data, not a text log. Expected console text, CSV, "
                                 "JSON or a TensorBoard event file (name containing 'tfevents').")
        self.head = raw.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\r\n", "\n")
        self.complete = len(raw) < self.HEAD          # the head is the whole file

    def text(self) -> str:
        if self.complete:
            return self.head
        with open(self.path, encoding="utf-8-sig", errors="replace") as fh:
            return fh.read()

    def lines(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8-sig", errors="replace") as fh:
            for line in fh:
                yield line.rstrip("\n")


_HEADER = re.compile(r"^[A-Za-z_][\w /().\-\[\]@]*$")


def _looks_like_csv(text: str, complete: bool = True) -> bool:
    """A header of names and rows of as many fields (quoted fields read as CSV quotes them). A
    head cut mid-file drops its cut last line; a header so wide that no full row fits in the
    head (10,000 columns) is judged on the header alone."""
    lines = text.splitlines()[:-1] if not complete else text.splitlines()
    try:
        rows = list(csv.reader(ln for ln in lines[:20] if ln.strip()))
    except csv.Error:
        return False
    if not rows or len(rows[0]) < 2:
        return False
    # a colon between digits is a name's (YOLOv5's metrics/mAP_0.5:0.95); "epoch 3: loss" is text
    header = [re.sub(r"(?<=\d):(?=\d)", "_", h.strip()) for h in rows[0]]
    if not all(_HEADER.match(h) for h in header if h):
        return False
    if len(rows) < 2:
        return not complete and len(header) > 2
    return sum(len(r) == len(header) for r in rows[1:]) >= 0.8 * (len(rows) - 1)


def _sniff(src: "_Source") -> str:
    path, text = src.path, src.head
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        first = stripped.splitlines()[0]
        try:
            if not src.complete and isinstance(json.loads(first), dict):
                return "jsonl"                  # a large JSON-lines file: no need to parse it whole
        except (json.JSONDecodeError, RecursionError):
            pass
        try:
            doc = json.loads(src.text())
        except RecursionError:
            raise LogFormatError(f"{path}: JSON nested too deeply to be a training history.") from None
        except json.JSONDecodeError:
            try:
                return "jsonl" if isinstance(json.loads(first), dict) else "json"
            except (json.JSONDecodeError, RecursionError):
                pass                          # "[2025-03-02 10:00] ..." is a console line
        else:
            if isinstance(doc, dict) and "log_history" in doc:
                return "hf"
            return "jsonl" if isinstance(doc, dict) else "json"
    if is_yolov5_txt(text):
        return "yolov5-txt"
    return "csv" if _looks_like_csv(text, src.complete) else "console"


def _read_json(src: "_Source", fmt: str):
    path = src.path
    if fmt == "hf":
        try:
            state = json.loads(src.text())
        except json.JSONDecodeError as exc:
            raise LogFormatError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); expected a "
                                 "Hugging Face trainer_state.json.") from None
        if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
            raise LogFormatError(f"{path}: JSON without a 'log_history' list; expected a Hugging "
                                 "Face trainer_state.json.")
        return read_trainer_state(path, state), "hf-trainer-state"
    if fmt == "json":
        try:
            doc = json.loads(src.text())
        except json.JSONDecodeError as exc:
            raise LogFormatError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}).") from None
        if isinstance(doc, dict):
            doc = next((v for v in doc.values() if isinstance(v, list)), None)
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc) or not doc:
            raise LogFormatError(f"{path}: expected a JSON list of per-epoch objects such as "
                                 '[{"epoch": 0, "train_loss": 1.2, "val_acc": 0.6}, ...].')
        return read_json_records(path, doc, "json-list"), "json-list"
    records = parse_jsonl(path, src.lines())
    if not records:
        raise LogFormatError(f"{path}: no JSON objects found; expected JSON-lines, one object per "
                             "epoch.")
    head = records[:50]
    flavour = ("mmcv-json" if any("mode" in r for r in head) else
               "detectron2" if any("iteration" in r and "total_loss" in r for r in head) else
               "jsonl")
    return read_json_records(path, records, flavour), flavour


def _read_runs(path: str, fmt: str | None):
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"{arg('fmt')} must be one of {', '.join(FORMATS)}, but got {fmt=}.")
    if os.path.isdir(path):
        for name in ("trainer_state.json", "metrics.csv", "results.csv", "results.txt",
                     "summary.csv", "metrics.json", "log.txt"):
            if os.path.exists(os.path.join(path, name)) and fmt != "tensorboard":
                return _read_runs(os.path.join(path, name), fmt)
        if fmt != "tensorboard" and find_runs(path):     # before its artifacts' event files
            return read_mlflow(path), "mlflow"
        if is_event_file(path):
            return read_tensorboard(path), "tensorboard"
        raise LogFormatError(f"{path}: a directory with no training history in it (looked for "
                             "trainer_state.json, metrics.csv, results.csv, results.txt, summary.csv, "
                             "metrics.json, log.txt, TensorBoard event files and MLflow runs).")
    if os.path.exists(path) and not os.path.isfile(path):   # a FIFO would block, a device never end
        raise LogFormatError(f"{path}: not a regular file. Give a log file (console text, CSV, "
                             "JSON) or a run directory.")
    if fmt == "tensorboard" and os.path.exists(path) or (fmt is None and is_event_file(path)):
        return read_tensorboard(path), "tensorboard"
    src = _Source(path)                # a missing path: "no such file", whatever the format
    fmt = fmt or _sniff(src)
    if fmt == "csv":
        return read_csv(path)
    if fmt in ("hf", "json", "jsonl"):
        return _read_json(src, fmt)
    if fmt == "yolov5-txt":
        return read_yolov5_txt(path, src.lines())
    try:
        return read_text(path, src.lines()), "console"
    except LogFormatError:
        if _looks_like_csv(src.head, src.complete):
            raise LogFormatError(f"{path}: looks like CSV but has no usable columns.") from None
        raise


def read_histories(path: str, fmt: str | None = None) -> list[History]:
    """Every run in the file: several when the epoch counter restarts (appended or resumed runs),
    or one per run of an MLflow tracking directory (named after the run)."""
    runs, flavour = _read_runs(str(path), fmt)
    base = os.path.basename(os.path.normpath(str(path)))
    out = []
    for i, (table, meta) in enumerate(runs, 1):
        name = meta.get("name") or (base if len(runs) == 1 else f"{base}#{i}")
        h = make_history(table, source=str(path), format=flavour, name=name,
                         val_size=meta.get("val_size"), config=meta.get("config"),
                         final_metrics=meta.get("final"), notes=meta.get("notes"),
                         non_finite=meta.get("non_finite"))
        if h.monitor is None:
            raise LogFormatError(f"{path}: read as {flavour} but found no metric columns "
                                 f"(columns: {', '.join(map(str, table.columns))}).")
        out.append(h)
    return out


def read_history(path: str, fmt: str | None = None, run: int | None = None) -> History:
    """One run. A file that holds several runs needs ``run`` (1-based), or an error that lists
    them and says how to pick one: runs are never silently merged."""
    runs = read_histories(path, fmt)
    if run is not None:
        if not 1 <= run <= len(runs):
            raise UsageError(f"{path}: {arg('run')} must be between 1 and {len(runs)}, got {run=}.")
        return runs[run - 1]
    if len(runs) > 1:
        named = runs[0].format == "mlflow"
        listing = "; ".join(f"run {i}{f' ({h.name})' if named else ''}: epochs "
                            f"{h.epochs[0]:g}-{h.epochs[-1]:g} ({h.n} rows)"
                            for i, h in enumerate(runs, 1))
        why = "MLflow runs" if named else "runs (the epoch counter restarts)"
        raise LogFormatError(f"{path}: holds {len(runs)} {why}: {listing}. Pick one with "
                             f"{arg('run', 'N')}, or diagnose each with "
                             f"{arg('run', 'all', lib='read_histories()')}.")
    return runs[0]

"""Console text: seed style (``epoch 3: train loss :: 1.419, dev acc :: 0.383``), Keras console
(``Epoch 3/50`` then ``... - loss: 0.31 - val_loss: ...``), Python logging lines, and any
``key: value`` / ``key=value`` / ``key :: value`` lines that carry an epoch number, one or
several lines per epoch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from ...errors import LogFormatError, arg
from ..names import KNOWN_METRICS, canonical_name, metric_of

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_DEBRIS = re.compile(r"[\u2580-\u259f\u2500-\u257f\u25a0-\u25ff]+")       # █▌ ━ ■ and friends
_BAR = re.compile(r"\[[=>.\-#* ]*\]\s*\d+/\d+|\d+%\|.*?\|")                # [====] 40/40, 40%|██|
_EPOCH = re.compile(r"(?i)\bepoch\b\s*[:=#]?\s*\[?\s*(\d+)\s*(?:/\s*(\d+))?\s*\]?\s*:?")
_NUM = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity)"
_KV = re.compile(rf"(?i)^\s*([a-z][a-z0-9_ ./()\-@]*?)\s*(?:::|:|=)\s*({_NUM})\s*(%)?\s*$")
_COUNT = re.compile(r"\(\s*\d+\s*/\s*(\d+)\s*\)")                    # (correct/total)
_TQDM = re.compile(r"\d+%\||\d(?:it/s|s/it)\b|\[\d\d:\d\d<")              # tqdm progress lines
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")                 # 1,234,890
_CMD_FLAG = re.compile(r"--([A-Za-z][\w\-]*)(?:[ =](?!--)(\S+))?")
_CONFIG_KV = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*[:=]\s*(\S.*?)\s*$")
_LOG_PREFIX = re.compile(r"^\s*\[?\d{4}-\d\d-\d\d[ T][\d:,.]+\]?\s*(?:-\s*\w+\s*-\s*)?")
# between pairs: a comma, " - ", "|", ";", a tab, or plain spaces after a number when the next
# "key: number" / "key=number" follows (``loss=0.3 acc=0.9``, ``Loss: 1.62 Test Acc: 59%``)
_SEPARATORS = re.compile(r",\s*|\s+-\s+|\s*\|\s*|;\s*|\t|(?<=[\d%])\s+(?=[A-Za-z_][\w./\- ]*?"
                         r"\s*(?:::|:|=)\s*[-+.\d])")
_IGNORED_KEYS = ("eta", "time", "s/step", "ms/step", "it/s")


@dataclass
class _Run:
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    counts: set = field(default_factory=set)
    bad: dict = field(default_factory=dict)          # column -> first epoch with NaN/inf


def parse_value(text: str):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        low = text.lower()
        return {"true": True, "false": False}.get(low, text)


def parse_command_line(line: str) -> dict:
    """``python run.py --lr 1e-5 --epochs 50 --use_gpu`` -> {'lr': 1e-05, 'epochs': 50, 'use_gpu': True}."""
    return {k: (parse_value(v) if v is not None else True) for k, v in _CMD_FLAG.findall(line)
            for v in [v or None]}


def clean_line(line: str) -> str:
    line = line.rsplit("\r", 1)[-1]
    line = _ANSI.sub("", line)
    line = _DEBRIS.sub(" ", line)
    return line.strip()


def _metrics(text: str) -> tuple[dict, set]:
    """key/value pairs of one line (after its epoch marker was removed)."""
    out: dict = {}
    counts = {int(t) for t in _COUNT.findall(text)}
    text = _THOUSANDS.sub("", text)
    for chunk in _SEPARATORS.split(_COUNT.sub(" ", text)):
        m = _KV.match(chunk)
        if not m:
            continue
        key, value, pct = m.groups()
        if key.strip().lower() in _IGNORED_KEYS or key.strip().lower().startswith("epoch"):
            continue
        v = float(value)
        if pct:
            v /= 100.0
        out[key.strip()] = v
    return out, counts


def read_text(path: str, lines: Iterable[str]) -> list[tuple[pd.DataFrame, dict]]:
    """Parse console text (lines, streamed) into runs: [(table, meta)] with meta keys
    config/final/notes/val_size. Memory grows with the epochs found, not the file's size."""
    config: dict = {}
    runs: list[_Run] = [_Run()]
    current: dict | None = None        # the epoch row being filled
    inline_votes = [0, 0]              # marker lines with / without metrics on them
    last_epoch = None
    for lineno, raw in enumerate(lines, 1):
        line = clean_line(raw)
        if not line or _TQDM.search(line):
            continue
        if line.count("--") >= 2 and not _EPOCH.search(line):
            config.update(parse_command_line(line))
            continue
        body = _BAR.sub(" ", _LOG_PREFIX.sub("", line))
        m = _EPOCH.search(body)
        if m:
            current, last_epoch = _epoch_line(m, body, lineno, runs, config, inline_votes,
                                              last_epoch, current)
            continue
        metrics, counts = _metrics(body)
        if not metrics:
            if current is None:
                cm = _CONFIG_KV.match(body)
                if cm:
                    config[cm.group(1)] = parse_value(cm.group(2))
            continue
        if current is None:                       # header lines before the first epoch
            config.update(metrics)
            continue
        inline = inline_votes[0] >= inline_votes[1]
        if not inline and not (set(metrics) & set(current)):
            current.update(metrics)               # another line of the same epoch
            runs[-1].counts |= counts
        else:
            runs[-1].final.update(metrics)        # a summary line after the epochs
    return _text_runs(path, [r for r in runs if r.rows], config)


def _epoch_line(m, body: str, lineno: int, runs: list[_Run], config: dict, inline_votes: list[int],
                last_epoch: int | None, current: dict | None) -> tuple[dict | None, int | None]:
    """A line with an epoch marker: its metrics start the epoch's row (or a new run where the
    counter goes back; a repeated identical epoch line is kept once). Returns (the row being
    filled, the last epoch)."""
    epoch = int(m.group(1))
    if m.group(2):
        config.setdefault("epochs", int(m.group(2)))
    metrics, counts = _metrics(body[:m.start()] + " , " + body[m.end():])
    inline_votes[0 if metrics else 1] += 1
    run = runs[-1]
    if last_epoch is not None and epoch <= last_epoch:
        previous = run.rows[-1] if run.rows else None
        if epoch == last_epoch and previous is not None and \
                all(previous.get(k) == v for k, v in metrics.items()):
            run.notes.append(f"line {lineno}: epoch {epoch} repeated; kept one copy")
            return previous, last_epoch
        runs.append(_Run(notes=[f"epoch counter restarts at line {lineno} "
                                f"(epoch {epoch} after {last_epoch})"]))
        run = runs[-1]
    row = {"epoch": float(epoch), **metrics}
    for k, val in metrics.items():
        if val != val or val in (float("inf"), float("-inf")):
            run.bad.setdefault(canonical_name(k), float(epoch))
    run.rows.append(row)
    run.counts |= counts
    return row, epoch


def _text_runs(path: str, runs: list[_Run], config: dict) -> list[tuple[pd.DataFrame, dict]]:
    """The runs found as (table, meta); a clear error when no epoch line carried a metric."""
    if not runs or not any(len(row) > 1 for r in runs for row in r.rows):
        seen = f"read as console text: {len(config)} 'key: value' pair(s) but no epoch " \
               "numbers" if config else "read as console text: no 'key: value' metrics at all"
        raise LogFormatError(f"{path}: no epoch lines with metrics found ({seen}). Expected lines "
                             "such as 'epoch 3: train loss :: 1.42, dev acc :: 0.38' or "
                             "'Epoch 3/50 ... loss: 0.31 - val_loss: 0.35'; for CSV, JSON or "
                             f"TensorBoard files pass {arg('fmt')}.")
    out = []
    for run in runs:
        rows = [{canonical_name(k): v for k, v in row.items()} for row in run.rows]
        final = {name: v for k, v in run.final.items()
                 if metric_of(name := canonical_name(k, bare_split="final")) in KNOWN_METRICS}
        # evaluation-set sizes vary by a few examples between epochs in some logs: take the median
        val_size = int(sorted(run.counts)[len(run.counts) // 2]) if run.counts else None
        notes = list(run.notes)
        if val_size:
            notes.append(f"evaluation-set size {val_size} read from '(correct/total)' counts")
        out.append((pd.DataFrame(rows), {"config": dict(config), "final": final,
                                         "notes": notes, "val_size": val_size,
                                         "non_finite": run.bad}))
    return out

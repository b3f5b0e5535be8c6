"""TensorBoard event files (a file or a directory of them), read with TensorBoard's own event
reader: the optional extra ``pip install 'fitdoctor[tensorboard]'``."""

from __future__ import annotations

import os

import pandas as pd

from ...errors import LogFormatError
from ..names import canonical_name
from .tables import ultralytics


def is_event_file(path: str) -> bool:
    if os.path.isdir(path):
        return any("tfevents" in f for _, _, files in os.walk(path) for f in files)
    return "tfevents" in os.path.basename(path)


def _yolov5(tags: list[str]) -> bool:
    """YOLOv5's scalars (train.py, v1 on): metrics/mAP_0.5 and x/lr0..2, logged once per epoch.
    Any "metrics/..." tag is not enough: a run that logs metrics/accuracy per step is not one."""
    return any(t.startswith("metrics/mAP_0.5") for t in tags) and \
        any(t.startswith(("train/", "x/lr")) for t in tags)


def read_tensorboard(path: str) -> list[tuple[pd.DataFrame, dict]]:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise LogFormatError(f"{path}: TensorBoard event files need the optional extra: "
                             "pip install 'fitdoctor[tensorboard]'.") from None
    acc = EventAccumulator(path, size_guidance={"scalars": 0})
    try:
        acc.Reload()
    except Exception as exc:  # the reader raises several internal types on damaged files
        raise LogFormatError(f"{path}: damaged TensorBoard event file ({exc}).") from None
    rows: dict[int, dict] = {}
    tags = acc.Tags().get("scalars", [])
    for tag in tags:
        if tag.endswith("_step") and tag[:-5] + "_epoch" in tags:
            continue                    # Lightning logs both; the per-epoch twin is kept
        name = canonical_name(tag.removesuffix("_epoch").removesuffix("_step"))
        for ev in acc.Scalars(tag):
            rows.setdefault(ev.step, {"step": ev.step})[name] = ev.value
    if not rows:
        raise LogFormatError(f"{path}: TensorBoard event file(s) with no scalar summaries.")
    df = pd.DataFrame([rows[k] for k in sorted(rows)])
    notes = []
    if _yolov5(tags) and "epoch" not in df.columns:
        df = ultralytics(df.rename(columns={"step": "epoch"}), notes)   # YOLOv5: step = epoch
        notes.insert(0, "YOLOv5 scalars: the TensorBoard step is the epoch")
    elif "epoch" not in df.columns:
        notes.append("no 'epoch' scalar: TensorBoard steps used as the x axis")
    else:                        # per-step scalars -> one row per epoch (as Lightning's CSV)
        df["epoch"] = df["epoch"].ffill().bfill()
        if df.groupby("epoch").size().max() > 1:
            agg = {c: ("first" if c.startswith("lr") else "max" if c == "step" else "mean")
                   for c in df.columns if c != "epoch"}
            df = df.groupby("epoch", sort=True).agg(agg).reset_index()
            notes.append("TensorBoard scalars logged several times per epoch averaged per epoch")
    return [(df, {"notes": notes, "final": {}, "config": {}, "val_size": None})]

"""CSV: Lightning CSVLogger ``metrics.csv``, Keras CSVLogger, timm ``summary.csv``, Ultralytics
``results.csv`` and generic per-epoch CSV; plus the JSON shapes that are tables in disguise
(JSON-lines per epoch, mmcv ``*.log.json``, a plain list of per-epoch objects)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from ...errors import LogFormatError
from ..names import canonical_name

Run = tuple[pd.DataFrame, dict]


def _meta(notes=None, final=None, config=None) -> dict:
    return {"notes": list(notes or []), "final": dict(final or {}), "config": dict(config or {}),
            "val_size": None}


def split_restarts(df: pd.DataFrame, notes: list[str], what: str = "row") -> list[pd.DataFrame]:
    """Split a table where the epoch counter goes back (runs appended to one file, or a resumed
    run that repeats epochs) into one table per run. Identical repeated rows are dropped."""
    if "epoch" not in df.columns or df["epoch"].isna().all():
        return [df]
    before = len(df)
    df = df.loc[~(df.duplicated(keep="first") & df["epoch"].notna())]
    if len(df) < before:
        notes.append(f"{before - len(df)} repeated {what}(s) with identical values dropped")
    epochs = df["epoch"].to_numpy(dtype=float)
    starts = [0] + [i for i in range(1, len(epochs)) if epochs[i] < epochs[i - 1]]
    parts = [df.iloc[a:b] for a, b in zip(starts, starts[1:] + [len(df)])]
    if len(parts) > 1:
        notes.append(f"epoch counter restarts {len(parts) - 1} time(s): split into {len(parts)} runs")
    return [p.reset_index(drop=True) for p in parts]


def _literal_non_finite(df: pd.DataFrame, numeric: pd.DataFrame) -> dict:
    """Columns where the log wrote nan/inf (not an empty cell), with the first epoch."""
    out = {}
    for c in df.columns:
        if df[c].dtype != object and not pd.api.types.is_string_dtype(df[c]):
            continue
        lit = df[c].astype(str).str.strip().str.lower().isin(["nan", "inf", "-inf", "infinity"])
        if lit.any():
            first = lit.to_numpy().argmax()
            ep = numeric["epoch"].iloc[first] if "epoch" in numeric else first
            out[canonical_name(c)] = float(ep) if pd.notna(ep) else float(first)
    return out


def _rename(df: pd.DataFrame, bare_split: str) -> pd.DataFrame:
    names = [canonical_name(c, bare_split=bare_split) for c in df.columns]
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    out = df.copy()
    out.columns = unique
    return out


def _lightning(df: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Interleaved CSVLogger rows -> one row per epoch. ``*_step`` columns are dropped where an
    ``*_epoch`` twin exists; values logged several times in one epoch are averaged."""
    cols = list(df.columns)
    drop = [c for c in cols if c.endswith("_step") and c[:-5] + "_epoch" in cols]
    df = df.drop(columns=drop)
    df.columns = [c[:-6] if c.endswith("_epoch") else c for c in df.columns]
    if "step" in df.columns:
        df = df.sort_values("step", kind="stable")
        df["epoch"] = df["epoch"].ffill().bfill()
    lr_cols = [c for c in df.columns if c.lower().startswith("lr")]
    agg = {c: ("first" if c in lr_cols else "mean") for c in df.columns if c != "epoch"}
    if "step" in agg:
        agg["step"] = "max"
    multi = [c for c in df.columns if c not in ("epoch", "step") and c not in lr_cols and
             df.groupby("epoch")[c].count().max() > 1]
    if multi:
        notes.append("per-step values averaged per epoch: " + ", ".join(multi[:6]) +
                     ("..." if len(multi) > 6 else ""))
    out = df.groupby("epoch", sort=True).agg(agg).reset_index()
    notes.append("Lightning CSVLogger rows merged into one row per epoch")
    return out


def ultralytics(df: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Ultralytics columns (already canonical names): the loss parts summed into train_loss and
    val_loss, and lr taken from param group 1, which holds weights in every YOLOv5/v8 version."""
    for split in ("train", "val"):
        parts = [c for c in df.columns if c.startswith(split + "_") and c.endswith("_loss")]
        if parts and f"{split}_loss" not in df.columns:
            df[f"{split}_loss"] = df[parts].sum(axis=1, min_count=len(parts))
            notes.append(f"{split}_loss = sum of {', '.join(parts)}")
    if "lr_pg1" in df.columns:   # pg0 carries the warmup-bias LR; pg1 follows the schedule
        df = df.rename(columns={"lr": "lr_pg0", "lr_pg1": "lr"})
        notes.append("lr is Ultralytics' lr/pg1, a weights group (the bias group, pg0 since "
                     "YOLOv5 v6 and pg2 before, has its own warmup)")
    df = df.drop(columns=[c for c in ("train_time",) if c in df.columns])
    return df


def read_csv(path: str) -> tuple[list[Run], str]:
    try:
        df = pd.read_csv(path, skipinitialspace=True, keep_default_na=False, na_values=[""],
                         encoding="utf-8-sig", encoding_errors="replace")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise LogFormatError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]}). "
                             "Expected a header row and one row per epoch.") from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty or len(df.columns) < 2:
        raise LogFormatError(f"{path}: CSV with {len(df.columns)} column(s) and {len(df)} row(s); "
                             "expected an epoch column and at least one metric.")
    return table_runs(df)


def table_runs(df: pd.DataFrame, notes: list[str] | None = None) -> tuple[list[Run], str]:
    """A table with a log's own column names (CSV, YOLOv5's results.txt) -> runs, flavour."""
    cols = set(df.columns)
    notes = list(notes or [])
    numeric = df.apply(pd.to_numeric, errors="coerce")
    bad = _literal_non_finite(df, numeric)
    if "epoch" in cols and "step" in cols and (df.isna().any(axis=1).mean() > 0.3 or
                                               any(c.endswith(("_step", "_epoch")) or
                                                   c.startswith("lr-") for c in cols)):
        flavour, bare = "lightning-csv", "train"
        numeric = _lightning(numeric, notes)
        tables = [_rename(numeric, bare)]
    elif any(c.startswith(("metrics/", "train/", "val/")) for c in cols):
        flavour = "ultralytics-csv"
        numeric = numeric.dropna(how="all")
        tables = [ultralytics(_rename(t, "train"), notes) for t in split_restarts(numeric, notes)]
    else:
        keras = {"loss", "accuracy", "acc"} & cols and any(c.startswith("val_") for c in cols)
        timm = {"eval_top1", "eval_loss"} <= cols
        flavour = "keras-csv" if keras else "timm-csv" if timm else "csv"
        numeric = numeric.dropna(how="all")
        tables = [_rename(t, "train") for t in split_restarts(numeric, notes)]
    return [(t, {**_meta(notes), "non_finite": bad}) for t in tables if len(t)], flavour


# YOLOv5's (and YOLOv7's) results.txt, before YOLOv5 wrote results.csv (v5.0, 2021-07): per
# epoch, train.py wrote 'epoch/epochs-1', GPU memory, the mean box/obj/cls/total training losses,
# the last batch's target count and image size, then P, R, mAP@.5, mAP@.5:.95 and the three
# validation losses (the order utils/plots.py plot_results reads).
YOLOV5_TXT_COLUMNS = ("epoch", "gpu_mem", "train/box_loss", "train/obj_loss", "train/cls_loss",
                      "total", "targets", "img_size", "metrics/precision", "metrics/recall",
                      "metrics/mAP_0.5", "metrics/mAP_0.5:0.95", "val/box_loss", "val/obj_loss",
                      "val/cls_loss")
_YOLOV5_LINE = re.compile(r"^\s*\d+/\d+\s+[\d.]+[KMG]?(?:\s+\S+){13}\s*$")


_YOLOV5_CUT = re.compile(r"^\s*\d+(?:/\d*)?(?:\s+\S+){0,13}\s*$")   # a line cut short


def is_yolov5_txt(text: str) -> bool:
    """The first 20 lines are results.txt lines; the last of them may be cut short (a run still
    writing it, or killed mid-line: read_yolov5_txt drops such a last line)."""
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if not lines:
        return False
    if all(_YOLOV5_LINE.match(ln) for ln in lines):
        return True
    return (len(lines) >= 2 and all(_YOLOV5_LINE.match(ln) for ln in lines[:-1])
            and bool(_YOLOV5_CUT.match(lines[-1])))


def read_yolov5_txt(path: str, lines) -> tuple[list[Run], str]:
    rows = []
    pending: str | None = None          # a bad line is an error unless it is the last (cut) one
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if pending is not None:
            raise LogFormatError(pending)
        fields = line.split()
        if not _YOLOV5_LINE.match(line):
            pending = (f"{path}:{lineno}: not a YOLOv5 results.txt line (expected 'epoch/epochs', "
                       f"GPU memory and 13 numbers; got {len(fields)} fields).")
            continue
        rows.append([fields[0].split("/")[0], *fields[1:]])
    notes = ["YOLOv5 results.txt: columns as its utils/plots.py plot_results reads them"]
    if pending is None and rows and not _ends_with_newline(path):
        rows.pop()                      # cut inside its last number: 15 fields, a wrong value
        pending = "cut"
    if pending is not None and rows:
        notes.append("the last line, cut short (no newline at its end), dropped")
    if not rows:
        raise LogFormatError(f"{path}: no complete YOLOv5 results.txt line (its only line is cut "
                             "short)." if pending == "cut" else
                             pending or f"{path}: an empty YOLOv5 results.txt.")
    df = pd.DataFrame(rows, columns=list(YOLOV5_TXT_COLUMNS))
    df = df.drop(columns=["gpu_mem", "total", "targets", "img_size"])
    runs, _ = table_runs(df, notes)
    return runs, "yolov5-txt"


def _ends_with_newline(path: str) -> bool:
    """YOLOv5 ends every line of results.txt with a newline; a file that does not end with one
    was cut while the line was written (a run killed, or read while it writes)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            if fh.tell() == 0:
                return True
            fh.seek(-1, 2)
            return fh.read(1) in (b"\n", b"\r")
    except OSError:
        return True


def _flatten(rec: dict) -> dict:
    out = {}
    for k, v in rec.items():
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            out[k] = v
        elif k.endswith("coco_eval_bbox") and isinstance(v, list) and len(v) >= 2:
            prefix = k[: -len("coco_eval_bbox")]          # DETR: [AP, AP50, ...]
            out[prefix + "map"], out[prefix + "map50"] = v[0], v[1]
    return out


def _record_runs(records: list[dict], flavour: str, key: str = "epoch") -> list[int | None]:
    """Each record's run: a numeric counter (``key``: the epoch, detectron2's iteration) lower
    than the one before starts the next run (as split_restarts splits the table). None for a
    record that is not read (mmcv: not a train or val record with an epoch); a record without
    the counter stays in the current run."""
    out: list[int | None] = []
    run, last = 0, -np.inf
    for rec in records:
        epoch = rec.get(key)
        if flavour == "mmcv-json" and (rec.get("mode") not in ("train", "val") or epoch is None):
            out.append(None)
            continue
        if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
            if epoch < last:
                run += 1
            last = epoch
        out.append(run)
    return out


def per_evaluation(train: pd.DataFrame, evals: pd.DataFrame) -> pd.DataFrame:
    """One row per evaluation (both tables keyed by ``step``): the training columns averaged
    over the logged steps since the previous evaluation, the learning rate the last one before
    it. Training steps after the last evaluation are not in any row."""
    ev = evals.sort_values("step", kind="stable")
    if not len(train):
        return ev.reset_index(drop=True)
    train = train.sort_values("step", kind="stable")
    cut = pd.cut(train["step"], bins=[-np.inf] + list(ev["step"]), labels=list(ev["step"]),
                 right=True).astype(float)
    agg = {c: ("last" if c.startswith("lr") else "mean") for c in train.columns
           if c not in ("step", "epoch")}
    per_eval = train.assign(_eval=cut).groupby("_eval").agg(agg)
    return ev.merge(per_eval, left_on="step", right_index=True, how="left").reset_index(drop=True)


# detectron2's metrics.json: the evaluation results kept (COCO AP is mAP@.5:.95; all in percent,
# even below 1%, so rescaled here rather than guessed);
# per-class, per-size and timing keys, and the ROI/RPN heads' sampling statistics, are dropped
_D2_EVAL = {"bbox/AP": "val_map", "bbox/AP50": "val_map50", "segm/AP": "val_segm_map",
            "segm/AP50": "val_segm_map50", "keypoints/AP": "val_keypoints_map",
            "sem_seg/mIoU": "val_iou"}


def _detectron2(path: str, records: list[dict]) -> list[Run]:
    """detectron2 metrics.json: a JSON line per logging period (``iteration``, ``total_loss``,
    ``loss_*``, ``lr``), the evaluation results on the lines of the iterations that evaluated.
    One row per evaluation, the iteration as the x axis; an iteration counter that goes back
    (a run appended to the file, or resumed from an earlier checkpoint) starts another run."""
    runs_of = _record_runs(records, "detectron2", key="iteration")
    out = []
    for run in range(1 + max(runs_of, default=0)):
        train, evals, bad = [], {}, {}
        for rec, r in zip(records, runs_of):
            step = rec.get("iteration")
            if r != run or not isinstance(step, (int, float)):
                continue
            found = {name: rec[k] / 100.0 for k, name in _D2_EVAL.items()    # in percent
                     if isinstance(rec.get(k), (int, float))}
            if found:
                evals.setdefault(step, {"step": step}).update(found)
            if isinstance(rec.get("total_loss"), (int, float)):
                row = {"step": step, "train_loss": rec["total_loss"]}
                row.update({canonical_name(k): v for k, v in rec.items()
                            if (k == "lr" or k.startswith("loss_")) and isinstance(v, (int, float))})
                train.append(row)
                found.update(row)
            for k, v in found.items():
                if isinstance(v, float) and not np.isfinite(v):
                    bad.setdefault(k, float(step))
        train_df = pd.DataFrame(train)
        if evals:
            table = per_evaluation(train_df, pd.DataFrame(list(evals.values())))
            notes = ["detectron2 metrics.json: one row per evaluation, the iteration as the x "
                     "axis; training losses averaged over the iterations since the previous "
                     "evaluation; AP rescaled from percent to 0-1"]
        else:
            table = train_df
            notes = ["detectron2 metrics.json without evaluation results: one row per logged "
                     "iteration (training loss only)"]
        if len(table):
            out.append((table, {**_meta(notes), "non_finite": bad}))
    if not out:
        raise LogFormatError(f"{path}: detectron2 metrics.json with no 'iteration' lines carrying "
                             "'total_loss' or evaluation results.")
    return out


def read_json_records(path: str, records: list[dict], flavour: str) -> list[Run]:
    """Per-epoch records (DeiT/DETR log.txt, mmcv log.json, a plain list) or detectron2's
    per-iteration metrics.json -> runs."""
    if flavour == "detectron2":
        return _detectron2(path, records)
    notes: list[str] = []
    runs = _record_runs(records, flavour)
    bare, config, renamed_test = "train", {}, False
    if flavour == "mmcv-json":
        config = {k: v for k, v in records[0].items() if "mode" not in records[0] and
                  isinstance(v, (int, float, str))}
        df = _mmcv_epochs(records, runs)
        notes.append("mmcv train iterations averaged per epoch")
    else:
        df = pd.DataFrame([_flatten(r) for r in records])
        if flavour == "jsonl" and any(c.startswith("test_") for c in df.columns) and \
                not any(c.startswith(("val_", "valid_", "eval_")) for c in df.columns):
            df.columns = [("val_" + c[5:]) if c.startswith("test_") else c for c in df.columns]
            renamed_test = True
            notes.append("DeiT/DETR-style 'test_*' keys are evaluations on the validation set: "
                         "read as val_*")
    df = df.drop(columns=[c for c in df.columns if c in ("n_parameters",)], errors="ignore")
    bad_runs = _non_finite_per_run(records, runs, flavour)

    def named(bad: dict) -> dict:
        if renamed_test:
            bad = {("val_" + k[5:]) if k.startswith("test_") else k: e for k, e in bad.items()}
        return {canonical_name(k, bare_split=bare): e for k, e in bad.items()}

    if df.empty or len(df.columns) < 2:
        raise LogFormatError(f"{path}: JSON records carry no numeric metrics.")
    parts = split_restarts(df, notes)
    if len(parts) != len(bad_runs):      # the runs could not be matched: every run gets all
        merged: dict = {}
        for b in bad_runs:
            for k, e in b.items():
                merged[k] = min(e, merged.get(k, e))
        bad_runs = [merged] * len(parts)
    return [(_rename(t, bare), {**_meta(notes, config=config), "non_finite": named(b)})
            for t, b in zip(parts, bad_runs)]


def _mmcv_epochs(records: list[dict], runs: list[int | None]) -> pd.DataFrame:
    """mmcv's records, one row per (run, epoch): train iterations averaged, val entries as they
    are. Keyed by run too: a counter that goes back starts another run, which split_restarts
    then reports, instead of averaging two runs' epoch 1 into one row."""
    rows: dict[tuple[int, float], dict] = {}
    for rec, run in zip(records, runs):
        if run is None:
            continue
        mode, epoch = rec["mode"], float(rec["epoch"])
        row = rows.setdefault((run, epoch), {"epoch": epoch, "_n": 0})
        flat = _flatten({k: v for k, v in rec.items() if k not in ("epoch", "iter", "mode",
                                                                   "time", "data_time", "memory")})
        if mode == "train":
            row["_n"] += 1
            for k, v in flat.items():
                key = "lr" if k == "lr" else "train_" + k
                row[key] = v if key == "lr" else row.get(key, 0.0) + v
        else:
            row.update({("val_" + k): v for k, v in flat.items() if k != "lr"})
    for row in rows.values():
        n = row.pop("_n") or 1
        for k in [k for k in row if k.startswith("train_")]:
            row[k] /= n
    return pd.DataFrame(list(rows.values()))


def _non_finite_per_run(records: list[dict], runs: list[int | None], flavour: str) -> list[dict]:
    """Per run, each key's first epoch with a non-finite value: a run does not inherit another's
    NaN. An mmcv record's keys are bare: its mode names the split."""
    n_runs = 1 + max((r for r in runs if r is not None), default=0)
    bad_runs: list[dict] = [{} for _ in range(n_runs)]
    for rec, run in zip(records, runs):
        if run is None:
            continue
        prefix = rec["mode"] + "_" if flavour == "mmcv-json" else ""
        for k, val in _flatten(rec).items():
            if isinstance(val, float) and not np.isfinite(val):
                bad_runs[run].setdefault(k if k == "lr" else prefix + k, float(rec.get("epoch", 0)))
    return bad_runs


def parse_jsonl(path: str, lines) -> list[dict]:
    """One JSON object per line, streamed. A cut last line (a run killed mid-write) is dropped;
    a bad line anywhere else is an error."""
    records = []
    pending: str | None = None                 # the error of the previous line, if it was bad
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if pending is not None:
            raise LogFormatError(pending)
        try:
            rec = json.loads(line)
        except RecursionError:
            raise LogFormatError(f"{path}:{lineno}: JSON nested too deeply to be a training history.") from None
        except json.JSONDecodeError as exc:
            pending = (f"{path}:{lineno}: not a JSON object ({exc.msg}). Expected one JSON object "
                       "per line (JSON-lines).")
            continue
        if isinstance(rec, dict):
            records.append(rec)
    return records

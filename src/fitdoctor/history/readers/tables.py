"""CSV: Lightning CSVLogger ``metrics.csv``, Keras CSVLogger, timm ``summary.csv``, Ultralytics
``results.csv`` and generic per-epoch CSV; plus the JSON shapes that are tables in disguise
(JSON-lines per epoch, mmcv ``*.log.json``, a plain list of per-epoch objects)."""

from __future__ import annotations

import json
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


def _ultralytics(df: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    df = _rename(df, "train")
    for split in ("train", "val"):
        parts = [c for c in df.columns if c.startswith(split + "_") and c.endswith("_loss")]
        if parts and f"{split}_loss" not in df.columns:
            df[f"{split}_loss"] = df[parts].sum(axis=1, min_count=len(parts))
            notes.append(f"{split}_loss = sum of {', '.join(parts)}")
    if "lr_pg1" in df.columns:   # pg0 carries the warmup-bias LR; pg1 follows the schedule
        df = df.rename(columns={"lr": "lr_pg0", "lr_pg1": "lr"})
        notes.append("lr is Ultralytics' lr/pg1 (pg0 is the bias group with its own warmup)")
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
    cols = set(df.columns)
    notes: list[str] = []
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
        tables = [_ultralytics(t, notes) for t in split_restarts(numeric, notes)]
    else:
        keras = {"loss", "accuracy", "acc"} & cols and any(c.startswith("val_") for c in cols)
        timm = {"eval_top1", "eval_loss"} <= cols
        flavour = "keras-csv" if keras else "timm-csv" if timm else "csv"
        numeric = numeric.dropna(how="all")
        tables = [_rename(t, "train") for t in split_restarts(numeric, notes)]
    return [(t, {**_meta(notes), "non_finite": bad}) for t in tables if len(t)], flavour


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


def _record_runs(records: list[dict], flavour: str) -> list[int | None]:
    """Each record's run: a numeric epoch lower than the one before starts the next run (as
    split_restarts splits the table). None for a record that is not read (mmcv: not a train or
    val record with an epoch); a record without an epoch stays in the current run."""
    out: list[int | None] = []
    run, last = 0, -np.inf
    for rec in records:
        epoch = rec.get("epoch")
        if flavour == "mmcv-json" and (rec.get("mode") not in ("train", "val") or epoch is None):
            out.append(None)
            continue
        if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
            if epoch < last:
                run += 1
            last = epoch
        out.append(run)
    return out


def read_json_records(path: str, records: list[dict], flavour: str) -> list[Run]:
    """Per-epoch records (DeiT/DETR log.txt, mmcv log.json, a plain list) -> runs."""
    notes: list[str] = []
    config: dict = {}
    renamed_test = False
    runs = _record_runs(records, flavour)
    if flavour == "mmcv-json":
        config = {k: v for k, v in records[0].items() if "mode" not in records[0] and
                  isinstance(v, (int, float, str))}
        # rows keyed by (run, epoch): a counter that goes back starts another run, which
        # split_restarts then reports, instead of averaging two runs' epoch 1 into one row
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
        df = pd.DataFrame(list(rows.values()))
        notes.append("mmcv train iterations averaged per epoch")
        bare = "train"
    else:
        df = pd.DataFrame([_flatten(r) for r in records])
        bare = "train"
        if flavour == "jsonl" and any(c.startswith("test_") for c in df.columns) and \
                not any(c.startswith(("val_", "valid_", "eval_")) for c in df.columns):
            df.columns = [("val_" + c[5:]) if c.startswith("test_") else c for c in df.columns]
            renamed_test = True
            notes.append("DeiT/DETR-style 'test_*' keys are evaluations on the validation set: "
                         "read as val_*")
    df = df.drop(columns=[c for c in df.columns if c in ("n_parameters",)], errors="ignore")
    # non-finite values per run: a run does not inherit another's NaN
    n_runs = 1 + max((r for r in runs if r is not None), default=0)
    bad_runs: list[dict] = [{} for _ in range(n_runs)]
    for rec, run in zip(records, runs):
        if run is None:
            continue
        # an mmcv record's keys are bare: its mode names the split
        prefix = rec["mode"] + "_" if flavour == "mmcv-json" else ""
        for k, val in _flatten(rec).items():
            if isinstance(val, float) and not np.isfinite(val):
                bad_runs[run].setdefault(k if k == "lr" else prefix + k, float(rec.get("epoch", 0)))

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

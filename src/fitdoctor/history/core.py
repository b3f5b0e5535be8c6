"""History: the one currency. Metadata plus a per-epoch (or per-evaluation) table of canonical
columns. Readers build it with :func:`make_history`; everything downstream only reads it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import LogFormatError, UsageError, arg
from .names import infer_mode, is_proportion, metric_of

_MONITOR_PREFERENCE = ("acc", "f1", "map", "map50", "iou", "dice", "auc", "r2", "precision")


@dataclass(frozen=True)
class History:
    """A run's history. ``table`` has canonical columns sorted by ``epoch``; ``notes`` says
    what the reader decided on the user's behalf (duplicates dropped, percent rescaled...)."""

    table: pd.DataFrame
    source: str
    format: str
    name: str
    monitor: str | None = None
    mode: str | None = None
    val_size: int | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    final_metrics: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    monitor_reason: str = ""
    non_finite: Mapping[str, float] = field(default_factory=dict)   # column -> first epoch

    @property
    def n(self) -> int:
        return len(self.table)

    @property
    def columns(self) -> list[str]:
        return list(self.table.columns)

    def has(self, column: str) -> bool:
        return column in self.table.columns and bool(self.table[column].notna().any())

    def values(self, column: str) -> np.ndarray:
        """The column as float64 (NaN where missing); all-NaN if the column is absent."""
        if column not in self.table.columns:
            return np.full(self.n, np.nan)
        return self.table[column].to_numpy(dtype=float, na_value=np.nan)

    @property
    def epochs(self) -> np.ndarray:
        return self.values("epoch")

    def with_options(self, *, monitor: str | None = None, mode: str | None = None,
                     val_size: int | None = None) -> "History":
        """A copy with the monitored metric, its mode or the validation size overridden."""
        changes: dict[str, Any] = {}
        if monitor is not None:
            col = resolve_column(self, monitor)
            changes.update(monitor=col, mode=mode or infer_mode(col),
                           monitor_reason="chosen")
        elif mode is not None:
            changes["mode"] = mode
        if mode is not None and mode not in ("max", "min"):
            raise UsageError(f"{arg('mode')} must be 'max' or 'min', but got {mode=}.")
        if val_size is not None:
            if val_size <= 0:
                raise UsageError(f"{arg('val_size')} must be a positive number of examples, got {val_size=}.")
            changes["val_size"] = int(val_size)
        return dataclasses.replace(self, **changes) if changes else self


def declared(config: Mapping[str, Any], *keys: str) -> Any:
    """The first declared config value under any of ``keys``, matched on the last part of a
    dotted key (``training.learning_rate``, ``lr``, ``--hidden_dropout_prob``), or None."""
    for k in keys:
        for ck, cv in config.items():
            if ck.lower().split(".")[-1] == k:
                return cv
    return None


def declared_number(config: Mapping[str, Any], *keys: str) -> float | None:
    """:func:`declared`, when it is a number (a bool is not)."""
    v = declared(config, *keys)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def resolve_column(history: History, name: str) -> str:
    """Find ``name`` (raw or canonical) among the history's columns or raise a UsageError that
    lists the columns there are."""
    from .names import canonical_name

    for candidate in (name, canonical_name(name, bare_split="val")):
        if history.has(candidate):
            return candidate
    available = ", ".join(c for c in history.columns if c not in ("epoch", "step"))
    raise UsageError(f"{history.source}: no metric {name!r} in this history. "
                     f"Available: {available}. Pass one of them with {arg('monitor', lib='monitor=NAME')}.")


def default_monitor(columns: list[str]) -> tuple[str | None, str]:
    """The default monitored metric and a reason code (see ``i18n.LABELS['reason.*']``): the
    validation accuracy-like metric if there is one, else validation loss, else a test metric,
    else the training loss."""
    for split in ("val", "test"):
        cols = [c for c in columns if c.startswith(split + "_")]
        for metric in _MONITOR_PREFERENCE:
            hits = [c for c in cols if metric_of(c) == metric]
            if hits:
                return hits[0], f"{split}_accuracy_like"
        loss = [c for c in cols if metric_of(c) == "loss"]
        if loss:
            return loss[0], f"{split}_loss"
    if "train_loss" in columns:
        return "train_loss", "train_loss"
    others = [c for c in columns if c not in ("epoch", "step") and not c.startswith("lr")]
    return (others[0], "first_metric") if others else (None, "none")


def make_history(table: pd.DataFrame, *, source: str, format: str, name: str = "",
                 val_size: int | None = None, config: Mapping[str, Any] | None = None,
                 final_metrics: Mapping[str, float] | None = None,
                 notes: list[str] | None = None,
                 non_finite: Mapping[str, float] | None = None) -> History:
    """Normalise a reader's table into a History: numeric columns, percent rescaled to [0, 1]
    for proportions, an epoch axis, sorted rows, a default monitor."""
    notes = list(notes or [])
    df = table.copy()
    df.columns = [str(c) for c in df.columns]
    df = df.loc[:, ~pd.Index(df.columns).duplicated()]
    for c in list(df.columns):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df = df.dropna(axis=1, how="all")
    if "epoch" not in df.columns:
        if "step" in df.columns:
            df["epoch"] = df["step"]
            notes.append("no epoch column: the step is used as the x axis")
        else:
            df["epoch"] = np.arange(len(df), dtype=float)
            notes.append("no epoch column: rows are numbered from 0")
    for c in df.columns:
        if is_proportion(c):
            col = df[c]
            finite = col[np.isfinite(col)]
            if len(finite) and finite.max() > 1.0 and finite.max() <= 100.0 and finite.min() >= 0:
                df[c] = col / 100.0
                notes.append(f"{c} was in percent; rescaled to 0-1")
    missing = df["epoch"].isna() | ~np.isfinite(df["epoch"])
    if missing.any():
        df = df.loc[~missing]
        notes.append(f"{int(missing.sum())} row(s) without a readable epoch number dropped")
    if df.empty:
        raise LogFormatError(f"{source}: no row has a readable epoch or step number.")
    df = df.sort_values("epoch", kind="stable").reset_index(drop=True)
    bad = {str(k): float(v) for k, v in (non_finite or {}).items()}
    for c in df.columns:
        inf = np.isinf(df[c].to_numpy(dtype=float))
        if inf.any() and c not in ("epoch", "step"):
            bad[c] = min(bad.get(c, np.inf), float(df["epoch"].to_numpy()[inf.argmax()]))
    front = [c for c in ("epoch", "step", "lr") if c in df.columns]
    df = df[front + [c for c in df.columns if c not in front]]
    monitor, why = default_monitor(list(df.columns))
    finals = {k: float(v) for k, v in (final_metrics or {}).items()}
    return History(table=df, source=source, format=format, name=name or source,
                   monitor=monitor, mode=infer_mode(monitor) if monitor else None,
                   val_size=val_size, config=dict(config or {}), final_metrics=finals,
                   notes=tuple(notes), monitor_reason=why, non_finite=bad)

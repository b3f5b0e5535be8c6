"""The one table of metric names: raw log keys -> canonical column names, and their direction.

Canonical columns are ``epoch``, ``step``, ``lr`` and ``<split>_<metric>`` where split is
``train``, ``val`` or ``test`` and metric is e.g. ``loss``, ``acc``, ``f1``, ``map``.
"""

from __future__ import annotations

from dataclasses import dataclass

import re

# Split prefixes as logs write them -> canonical split.
_SPLITS = {
    "train": "train", "training": "train", "tr": "train",
    "val": "val", "valid": "val", "validation": "val", "dev": "val", "eval": "val",
    "test": "test", "testing": "test",
}

# Metric words -> canonical metric.
_METRICS = {
    "accuracy": "acc", "acc": "acc", "acc1": "acc", "top1": "acc", "top_1": "acc",
    "acc_top1": "acc", "accuracy_top_1": "acc", "accuracy_top1": "acc",
    "acc5": "acc5", "top5": "acc5", "top_5": "acc5", "acc_top5": "acc5", "accuracy_top_5": "acc5",
    "accuracy_top5": "acc5",
    "f1": "f1", "f1_score": "f1", "fscore": "f1", "f_score": "f1", "macro_f1": "f1",
    "map50_95": "map", "map_50_95": "map", "map": "map", "bbox_map": "map", "map50": "map50",
    "loss": "loss", "ppl": "perplexity", "perplexity": "perplexity",
    "r2": "r2", "auc": "auc", "roc_auc": "auc", "iou": "iou", "miou": "iou", "dice": "dice",
    "precision": "precision", "recall": "recall", "error": "error", "err": "error",
}

KNOWN_METRICS = frozenset(_METRICS.values())

_LR_NAMES = re.compile(r"^(?:train_)?(?:lr|learning_rate|learningrate)(?:_(?:[a-z]*\d*|pg\d+))?$")

# Metrics for which a larger value is better; anything loss-like is smaller-is-better.
_MIN_WORDS = ("loss", "error", "err", "perplexity", "ppl", "mse", "mae", "rmse", "wer", "cer",
              "time", "runtime", "grad_norm")
# Metrics that are proportions in [0, 1] (a log may write them in percent).
PROPORTION_METRICS = ("acc", "acc5", "f1", "map", "map50", "precision", "recall", "iou",
                      "dice", "auc", "error")


def _slug(raw: str) -> str:
    s = raw.strip().lower()
    s = re.sub(r"\((b|m)\)$", "", s)          # Ultralytics "(B)" box / "(M)" mask suffix
    s = s.replace("map50-95", "map50_95")
    # YOLOv5's results.csv: metrics/mAP_0.5:0.95, metrics/mAP_0.5, and x/lr0..2 (its param groups)
    s = s.replace("map_0.5:0.95", "map50_95").replace("map_0.5", "map50")
    s = re.sub(r"^x/lr(\d+)$", r"lr/pg\1", s)
    s = re.sub(r"[^a-z0-9]+", "_", s)
    return s.strip("_")


def canonical_name(raw: str, *, bare_split: str = "train") -> str:
    """Map a raw key (``dev acc``, ``eval_accuracy``, ``lr-AdamW``, ``metrics/mAP50(B)``) to its
    canonical column name. ``bare_split`` is the split given to a key without one (Keras
    writes ``loss`` for the training loss)."""
    s = _slug(raw)
    if s in ("epoch", "epochs", "ep"):
        return "epoch"
    if s in ("step", "global_step", "iter", "iteration", "steps"):
        return "step"
    if s.startswith("lr_") and not s[3:].startswith("pg"):   # lr-AdamW, lr-SGD-momentum
        return "lr"
    if _LR_NAMES.match(s):
        m = re.search(r"pg(\d+)$", s)
        return "lr" if (m is None or m.group(1) == "0") else f"lr_pg{m.group(1)}"
    if s.startswith("metrics_"):              # Ultralytics: metrics/* are validation metrics
        s = "val_" + s[len("metrics_"):]
    parts = s.split("_")
    if parts[0] == "best" and len(parts) > 1:  # "Best test accuracy" -> best_test_acc
        return "best_" + canonical_name("_".join(parts[1:]), bare_split=bare_split)
    split = _SPLITS.get(parts[0])
    rest = parts[1:] if split else parts
    split = split or bare_split
    body = "_".join(rest)
    if body in _METRICS:
        return f"{split}_{_METRICS[body]}"
    # eval_<set>_<metric> (several evaluation sets), keep the set's name.
    for n in (3, 2, 1):
        if len(rest) > n:
            tail = "_".join(rest[-n:])
            if tail in _METRICS:
                return f"{split}_{'_'.join(rest[:-n])}_{_METRICS[tail]}"
    return f"{split}_{body}" if body else split


def metric_of(column: str) -> str:
    """The metric part of a canonical column: ``val_g0_acc`` -> ``acc``."""
    return column.rsplit("_", 1)[-1] if "_" in column else column


def infer_mode(column: str) -> str:
    """'min' for loss-like columns, else 'max'. The one place direction is decided."""
    c = column.lower()
    return "min" if any(w in c for w in _MIN_WORDS) else "max"


@dataclass(frozen=True)
class Monitor:
    """The metric a run follows and its direction: training, early stopping, ReduceLROnPlateau,
    the schedule preview, sweeps, ``track()`` and the callbacks all take it from
    ``resolve_monitor`` and compare values with ``is_better``."""

    name: str
    mode: str                       # "min" | "max"

    def is_better(self, new: float, old: float | None, delta: float = 0.0) -> bool:
        """``new`` beats ``old`` by more than ``delta`` in this monitor's direction (anything
        beats None)."""
        if old is None:
            return True
        return new > old + delta if self.mode == "max" else new < old - delta


def resolve_monitor(name: str | None, mode: str | None, default: str) -> Monitor:
    """The declared monitor, else ``default``; the declared mode, else the monitor's own
    (``infer_mode``)."""
    monitor = name or default
    if mode not in (None, "min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
    return Monitor(monitor, mode or infer_mode(monitor))


def is_proportion(column: str) -> bool:
    return metric_of(column) in PROPORTION_METRICS

"""Early stopping that decides like a careful person: on the moving average of the last k
values (``smoothing``), on a growing train-val gap (``max_gap``), and never before the next
warm restart has had its chance (``restart_aware``). The stop reason is kept.

``StopRule`` is plain Python (testable, with state); ``EarlyStopping`` is its Lightning
callback, one decision for all ranks."""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

from ..history.names import Monitor


class StopReason(str, enum.Enum):
    COMPLETED = "completed"           # ran all epochs
    PATIENCE = "patience"             # no improvement for `patience` epochs
    MAX_GAP = "max_gap"               # train-val gap above max_gap for gap_patience epochs
    NON_FINITE = "non_finite"         # NaN/inf loss
    PRUNED = "pruned"                 # stopped by a sweep's pruner
    INTERRUPTED = "interrupted"


def train_val_gap(row: dict, monitor: str) -> float | None:
    """train - val of the monitored metric, signed so that positive means training is better."""
    from ..history.names import infer_mode

    metric = monitor.split("_", 1)[-1]
    train, val = row.get(f"train_{metric}"), row.get(monitor)
    if train is None or val is None:
        return None
    return train - val if infer_mode(monitor) == "max" else val - train


@dataclass
class Decision:
    stop: bool
    reason: StopReason | None = None
    message: str = ""
    improved: bool = False


class StopRule:
    def __init__(self, *, mode: str = "max", patience: int = 10, min_delta: float = 0.0,
                 min_delta_mode: str = "abs", smoothing: int = 1, max_gap: float | None = None,
                 gap_patience: int = 3, restart_aware: bool = True):
        self.mode, self.patience, self.min_delta = mode, patience, min_delta
        self.min_delta_mode, self.smoothing = min_delta_mode, smoothing
        self.max_gap, self.gap_patience, self.restart_aware = max_gap, gap_patience, restart_aware
        self.recent: deque[float] = deque(maxlen=smoothing)
        self.best: float | None = None
        self.wait = 0
        self.gap_count = 0
        self.hold_until: int | None = None

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        delta = self.min_delta * (abs(self.best) if self.min_delta_mode == "rel" else 1.0)
        return Monitor("monitored", self.mode).is_better(value, self.best, delta)

    def update(self, epoch: int, value: float, gap: float | None = None,
               epochs_to_restart: int | None = None) -> Decision:
        """Feed one epoch. ``epochs_to_restart``: epochs until the next warm restart, if any."""
        if not math.isfinite(value):
            return Decision(True, StopReason.NON_FINITE, f"monitored value is {value} at epoch {epoch}")
        self.recent.append(value)
        smoothed = sum(self.recent) / len(self.recent)
        improved = self._better(smoothed)
        if improved:
            self.best, self.wait, self.hold_until = smoothed, 0, None
        else:
            self.wait += 1
        if self.max_gap is not None and gap is not None and math.isfinite(gap):
            self.gap_count = self.gap_count + 1 if gap > self.max_gap else 0
            if self.gap_count >= self.gap_patience:
                return Decision(True, StopReason.MAX_GAP,
                                f"train-val gap {gap:.4g} above max_gap {self.max_gap:g} for "
                                f"{self.gap_count} epochs", improved)
        if self.wait >= self.patience:
            if self.restart_aware and epochs_to_restart is not None and self.hold_until is None:
                self.hold_until = epoch + epochs_to_restart + self.patience
            if self.hold_until is None or epoch >= self.hold_until:
                what = f"the {self.smoothing}-epoch average of the monitored metric" \
                    if self.smoothing > 1 else "the monitored metric"
                return Decision(True, StopReason.PATIENCE,
                                f"no improvement of {what} for {self.wait} epochs (best {self.best:.4g})",
                                improved)
        return Decision(False, improved=improved)

    def state_dict(self) -> dict:
        return {"recent": list(self.recent), "best": self.best, "wait": self.wait,
                "gap_count": self.gap_count, "hold_until": self.hold_until}

    def load_state_dict(self, state: dict) -> None:
        self.recent = deque(state.get("recent", []), maxlen=self.smoothing)
        self.best = state.get("best")
        self.wait = int(state.get("wait", 0))
        self.gap_count = int(state.get("gap_count", 0))
        self.hold_until = state.get("hold_until")

"""A run config's LR schedule previewed without training: the schedule training builds (the same
spec and monitor direction), stepped on a dummy optimizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from ..schedules import ScheduleSpec, preview
from .config import TrainingConfig, resolve_monitor

PREVIEW_STEPS = 2_000_000     # a per-batch LR preview longer than this is a mistake, not a plan
STEPS_PER_EPOCH = 100         # batches per epoch when the task is not built to count them


@dataclass(frozen=True)
class SchedulePreview:
    spec: ScheduleSpec
    epochs: int
    steps_per_epoch: int
    lr_per_epoch: list[float]
    lr_per_step: Optional[list[float]]       # per-batch schedules only
    metric_given: bool                       # ReduceLROnPlateau followed a metric (else a flat one)

    def document(self) -> dict:
        """schedule --json (schema fitdoctor.schedule/1)."""
        return {"schema": "fitdoctor.schedule/1", "lr_per_epoch": self.lr_per_epoch,
                **({"lr_per_step": self.lr_per_step} if self.lr_per_step is not None else {})}


def steps_per_epoch(t: TrainingConfig, given: Optional[int] = None) -> int:
    return given or (STEPS_PER_EPOCH if t.step_per == "batch" else 1)


def preview_schedule(t: TrainingConfig, epochs: int, spe: int,
                     metric: Optional[Sequence[float]] = None) -> SchedulePreview:
    """The LR per epoch (and per step) of ``t``'s schedule over ``epochs`` of ``spe`` batches.
    ReduceLROnPlateau follows the monitor as in training; without building the task, its
    validation metric is taken as accuracy-like (every built-in task's is)."""
    spec = ScheduleSpec.from_training(t, spe, monitor_mode=resolve_monitor(t).mode)
    lr = preview(spec, t.learning_rate, epochs, spe, metric)
    return SchedulePreview(spec, epochs, spe, lr["lr_per_epoch"], lr.get("lr_per_step"), metric is not None)

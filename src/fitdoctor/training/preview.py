"""A run config's LR schedule previewed without training: the schedule training builds (the same
spec and monitor direction), stepped on a dummy optimizer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from ..schedules import ScheduleSpec, preview
from .config import RunConfig, TrainingConfig, resolve_monitor

PREVIEW_STEPS = 2_000_000     # a per-batch LR preview longer than this is a mistake, not a plan
STEPS_PER_EPOCH = 100         # batches per epoch when the task cannot be built to count them


@dataclass(frozen=True)
class SchedulePreview:
    spec: ScheduleSpec
    epochs: int
    steps_per_epoch: int
    lr_per_epoch: list[float]
    lr_per_step: Optional[list[float]]       # per-batch schedules only
    metric_given: bool                       # ReduceLROnPlateau followed a metric (else a flat one)
    steps_source: str = ""                   # where steps_per_epoch comes from (per-batch schedules)

    def document(self) -> dict:
        """schedule --json (schema fitdoctor.schedule/1)."""
        return {"schema": "fitdoctor.schedule/1", "lr_per_epoch": self.lr_per_epoch,
                **({"lr_per_step": self.lr_per_step} if self.lr_per_step is not None else {})}


def steps_per_epoch(cfg: RunConfig, given: Optional[int] = None) -> tuple[int, str]:
    """Optimizer steps per epoch for a per-batch schedule, and where the number comes from: the
    one ``given``, else the task's own training batches on one device (the task is built, as
    training builds it; accumulated batches make one step), as training counts them; else
    STEPS_PER_EPOCH when the task cannot be built (said)."""
    t = cfg.training
    if given:
        return given, "given"
    if t.step_per != "batch":
        return 1, ""
    from .tasks import build_task

    try:
        train = build_task(cfg).train
    except Exception as exc:     # noqa: BLE001 - a preview without the data still previews
        return STEPS_PER_EPOCH, f"assumed: the task could not be built ({type(exc).__name__})"
    batches = len(train)
    if t.devices > 1 and getattr(train, "batch_size", None):   # DDP: each rank its share
        batches = math.ceil(math.ceil(len(train.dataset) / t.devices) / train.batch_size)
    steps = max(1, math.ceil(batches / t.accumulate_grad_batches))
    return steps, (f"the task's {batches} training batches" + (f" per device of {t.devices}" if t.devices > 1 else "")
                   + (f" / {t.accumulate_grad_batches} accumulated" if t.accumulate_grad_batches > 1 else ""))


def preview_schedule(t: TrainingConfig, epochs: int, spe: int,
                     metric: Optional[Sequence[float]] = None, steps_source: str = "") -> SchedulePreview:
    """The LR per epoch (and per step) of ``t``'s schedule over ``epochs`` of ``spe`` batches.
    ReduceLROnPlateau follows the monitor as in training; without building the task, its
    validation metric is taken as accuracy-like (every built-in task's is)."""
    spec = ScheduleSpec.from_training(t, spe, monitor_mode=resolve_monitor(t).mode)
    lr = preview(spec, t.learning_rate, epochs, spe, metric)
    return SchedulePreview(spec, epochs, spe, lr["lr_per_epoch"], lr.get("lr_per_step"), metric is not None,
                           steps_source)

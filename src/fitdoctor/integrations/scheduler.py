"""``fitdoctor.build_scheduler``: the composed schedule for any training loop."""

from __future__ import annotations

from typing import Optional

import torch

from ..schedules import Schedule, ScheduleSpec, build_schedule


def build_scheduler(optimizer: torch.optim.Optimizer, name: Optional[str] = None,
                    params: Optional[dict] = None, *, epochs: int, steps_per_epoch: int = 1,
                    step_per: str = "epoch", warmup: int = 0, warmup_start_factor: float = 0.1,
                    lr_floor: Optional[float] = None, monitor_mode: str = "min") -> Schedule:
    """A torch scheduler by name (``"ReduceLROnPlateau"``, ``"CosineAnnealingLR"``, ...) with a
    linear warmup of ``warmup`` steps of the schedule in front and an optional LR floor.

    Call ``sched.after_batch()`` after every optimizer step and ``sched.after_epoch(metric)``
    after every epoch (the metric feeds ReduceLROnPlateau); ``state_dict()`` /
    ``load_state_dict()`` save and restore all of it."""
    spec = ScheduleSpec(name, dict(params or {}), step_per, int(warmup), warmup_start_factor,
                        lr_floor, monitor_mode)
    return build_schedule(optimizer, spec, epochs, steps_per_epoch)

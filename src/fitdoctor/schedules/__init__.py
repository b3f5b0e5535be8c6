"""Schedules: torch.optim.lr_scheduler composed with warmup and an LR floor (compose.py), and their preview."""

from .compose import (
    SCHEDULERS, ScheduleSpec, Schedule, units_for, build_schedule, check_schedule, preview)

__all__ = [
    "SCHEDULERS", "ScheduleSpec", "Schedule", "units_for", "build_schedule", "check_schedule",
    "preview"]

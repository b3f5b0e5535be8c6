"""The schedule preview rendered: its one-line description, the ASCII curve and the PNG."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from .ascii import ascii_plot

if TYPE_CHECKING:
    from ..training.preview import SchedulePreview


def describe(p: SchedulePreview) -> str:
    s = p.spec
    return (f"{s.name or 'constant LR'}"
            + (f", warmup {s.warmup} {s.step_per}(s)" if s.warmup else "")
            + (f", stepped per batch ({p.steps_per_epoch} per epoch"
               + (f": {p.steps_source})" if p.steps_source and p.steps_source != "given" else ")")
               if s.step_per == "batch" else "")
            + (", flat metric for ReduceLROnPlateau" if s.name == "ReduceLROnPlateau"
               and not p.metric_given else ""))


def plot_schedule(p: SchedulePreview, path: str) -> str:
    from .plots import plot_lr
    return plot_lr(p.lr_per_epoch, path, p.lr_per_step,
                   title=f"{p.spec.name or 'constant'}" + (f" + warmup {p.spec.warmup}" if p.spec.warmup else ""))


def render_schedule_terminal(p: SchedulePreview, console: Console) -> None:
    console.print(describe(p), highlight=False)
    console.print(ascii_plot(p.lr_per_step or p.lr_per_epoch,
                             xlabel="step" if p.spec.step_per == "batch" else "epoch"),
                  highlight=False, markup=False)
    lr = p.lr_per_epoch
    peak = max(p.lr_per_step or lr)           # a per-batch schedule peaks between epoch starts
    console.print(f"epoch 0: {lr[0]:.3g}   max: {peak:.3g}   last (epoch {p.epochs - 1}): {lr[-1]:.3g}",
                  highlight=False)

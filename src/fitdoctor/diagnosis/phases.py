"""Phases of a run found from the data (not fixed windows): contiguous segments labelled
underfit / fit / overfit / plateau / no_learning / diverged, with the mean LR, metrics and gap
in each."""

from __future__ import annotations

import numpy as np

from .curves import Context
from .fitting import reach_index
from .types import Finding, Overfitting, Phase


def _index(ctx: Context, epoch: float) -> int:
    return int(np.argmin(np.abs(ctx.epochs - epoch)))


def _mean(x: np.ndarray | None, a: int, b: int) -> float | None:
    if x is None:
        return None
    seg = x[a:b]
    seg = seg[np.isfinite(seg)]
    return float(seg.mean()) if len(seg) else None


def find_phases(ctx: Context, overfit: Overfitting, findings: list[Finding]) -> tuple[Phase, ...]:
    v = ctx.val
    if not v.known:
        return ()
    labels = np.array(["fit"] * v.n, dtype=object)
    reach = reach_index(v, ctx.options.z)
    labels[:reach] = "underfit"
    codes = {f.code: f for f in findings}
    if "plateau" in codes:
        labels[max(reach, _index(ctx, codes["plateau"].evidence["start"])):] = "plateau"
    if overfit.detected:
        labels[_index(ctx, overfit.onset_epoch):] = "overfit"
    if "no_learning" in codes:
        # the stretch it judged; before it the run never fit (a collapse fit, then fell back)
        nl = codes["no_learning"].evidence
        start = _index(ctx, nl["from_epoch"])
        if not nl.get("nl_collapse"):
            labels[:start] = "underfit"
        labels[start:] = "no_learning"
    for code in ("divergence", "non_finite"):
        if code in codes:
            labels[_index(ctx, codes[code].evidence["epoch"]):] = "diverged"
    train = ctx.train.raw if ctx.train is not None else None
    gap = ctx.gap.raw if ctx.gap is not None else None
    out, start = [], 0
    for i in range(1, v.n + 1):
        if i == v.n or labels[i] != labels[start]:
            out.append(Phase(str(labels[start]), float(ctx.epochs[start]), float(ctx.epochs[i - 1]),
                             _mean(ctx.lr, start, i), _mean(train, start, i),
                             _mean(v.raw, start, i), _mean(gap, start, i)))
            start = i
    return tuple(out)

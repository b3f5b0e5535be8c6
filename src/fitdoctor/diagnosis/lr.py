"""The LR at the moments that matter (best epoch, overfitting onset) and whether this history
can say anything about the LR's effect at all."""

from __future__ import annotations

import numpy as np

from ..i18n import message
from .curves import Context
from .types import Best, Finding, LRSummary


def _at(ctx: Context, epoch: float | None) -> float | None:
    """The LR logged nearest to ``epoch`` (a row that logged none, such as an evaluation before
    training, takes its neighbour's), or None without a finite LR, or where ``epoch`` lies
    outside the rows that logged one and more than a row away from them (an LR logged only at
    the start says nothing of the LR at epoch 30)."""
    if epoch is None or ctx.lr is None:
        return None
    ok = np.flatnonzero(np.isfinite(ctx.lr))
    if not len(ok):
        return None
    row = int(np.argmin(np.abs(ctx.epochs - epoch)))
    i = ok[int(np.argmin(np.abs(ctx.epochs[ok] - epoch)))]
    if not (ok[0] <= row <= ok[-1] or abs(int(i) - row) <= 1):
        return None
    return float(ctx.lr[i])


# The LR at the end below this fraction of its peak: the schedule has run out, and advice to
# train longer at that LR would be advice to do nothing.
SCHEDULE_ENDED = 0.01


def lr_at_end(ctx: Context) -> tuple[float, float] | None:
    """(the last finite LR, the peak LR), or None without an LR column or a positive peak."""
    if ctx.lr is None:
        return None
    lr = ctx.lr[np.isfinite(ctx.lr)]
    if len(lr) < 2 or not lr.max() > 0:
        return None
    return float(lr[-1]), float(lr.max())


# An LR that jumps up by at least this factor after it had fallen below its running peak is a
# restart (warm restarts, a cyclic schedule), not a warmup.
RESTART_JUMP = 1.5


def last_restart(ctx: Context) -> int | None:
    """The index of the last LR restart: an upward jump (x RESTART_JUMP) from an LR below its
    running peak; None without an LR column or a restart."""
    if ctx.lr is None:
        return None
    lr = np.asarray(ctx.lr, dtype=float)
    if len(lr) < 2:
        return None
    prev, cur = lr[:-1], lr[1:]
    peak = np.fmax.accumulate(np.where(np.isfinite(prev), prev, -np.inf))     # up to i - 1
    with np.errstate(invalid="ignore"):
        jump = np.isfinite(cur) & np.isfinite(prev) & (prev > 0) & (cur >= RESTART_JUMP * prev) \
            & (prev < peak)
    hits = np.flatnonzero(jump)
    return int(hits[-1]) + 1 if len(hits) else None


def analyse_lr(ctx: Context, best: Best,
               onset: float | None) -> tuple[LRSummary | None, list[Finding]]:
    lr = ctx.lr
    if lr is None:
        return None, []
    ok = np.isfinite(lr)
    if ok.sum() < 2:
        return None, []
    peak = float(np.max(lr[ok]))
    at_best, at_onset = _at(ctx, best.epoch), _at(ctx, onset)
    end = lr_at_end(ctx)
    final = end[0] if end else None

    def frac(x: float | None) -> float | None:
        return (x / peak) if x is not None and peak > 0 else None

    varies = np.ptp(lr[ok]) > 1e-3 * peak
    r = float(np.corrcoef(lr[ok], ctx.epochs[ok])[0, 1]) if varies and ok.sum() >= 3 else 0.0
    info = LRSummary(peak=peak, at_best=at_best, at_onset=at_onset, final=final,
                     at_best_frac=frac(at_best), at_onset_frac=frac(at_onset),
                     final_frac=frac(final), corr_with_epoch=r)
    findings = []
    if abs(r) > ctx.options.lr_confound_r:
        # the LR fell (r < 0) or rose (a long warmup, r > 0) with the epochs; without an onset
        # there is no overfitting whose cause is in question
        ev = {"r": r, "lr_at_onset": at_onset, "lr_at_best": at_best,
              "lr_lower": True if r < 0 else None, "lr_higher": True if r > 0 else None}
        if onset is None:
            ev["kind"] = "no_onset"
        severity = "warning" if onset is not None else "info"
        key = "lr_epoch_confounded" + (".no_onset" if onset is None else "")
        findings.append(Finding("lr_epoch_confounded", severity, message(key, ev), ev))
    return info, findings

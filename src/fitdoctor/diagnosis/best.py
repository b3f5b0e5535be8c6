"""The best epoch, how sure we are of it, and whether it was luck."""

from __future__ import annotations

import numpy as np

from ..history.names import is_proportion
from ..i18n import message
from .curves import Context
from .stats import MIN_POINTS
from .types import Best, Finding


# Calibrated on the truth corpus's calibration half (bench/diagnosis_real.py; PROTOCOL.md):
# how far the true level of a checkpoint strays from the local level of the curve around it,
# in units of the epoch-to-epoch noise (each epoch's model really is a little better or worse).
# The level itself is the local median: carrying any part of the best epoch's excess over it
# to new data only added bias there (mean test - estimate -0.0013 with none, -0.0115 with 3/4).
EPOCH_SPREAD = 1.75


def level_window(n: int) -> int:
    """Half-width of the neighbourhood whose median is the level at an epoch: 2 epochs, more on
    long runs (a fortieth of the run)."""
    return max(2, int(round(n / 40)))


def level_at(ctx: Context, i: int, stop: int) -> tuple[float, float]:
    """The level of the curve at point ``i`` (oriented) and its standard error from the
    epoch-to-epoch noise alone.

    The median of the observed points within ``level_window`` of ``i`` (the best point among
    them): a median of observations never leaves their range, so it cannot overshoot at a knee
    (a jump, then a plateau) the way a local quadratic does, never exceeds the best value seen and
    never leaves [0, 1] for an accuracy; and it shrinks the selected maximum toward its neighbours,
    which is the correction for having picked the best of many noisy epochs. Its error: the
    median's own (about 1.25 sigma / sqrt(k)) plus the checkpoint's real deviation from the local
    level (``EPOCH_SPREAD`` sigma)."""
    v = ctx.val
    h = level_window(stop)
    lo, hi = max(0, i - h), min(stop, i + h + 1)
    window = v.g[lo:hi][np.isfinite(v.raw[lo:hi])]
    centre = float(np.median(window)) if len(window) else float(v.g[i])
    k = max(len(window), 1)
    se = v.sigma * float(np.sqrt(EPOCH_SPREAD ** 2 + 1.57 / k))
    return centre, se


def best_estimate(ctx: Context, stop: int | None = None) -> Best:
    """The best epoch; the true level of the checkpoint chosen there (what it scores on new
    data) with a 95 % interval; the epochs tied with it. The interval's standard error is the
    epoch-to-epoch part (``level_at``) and, when the validation-set size N is known, the
    sampling error sqrt(p(1-p)/N) that every epoch of a fixed validation set shares, in
    quadrature. Checked on real runs against a large test split (bench/diagnosis_real.py)."""
    v, z = ctx.val, ctx.options.z
    # after a breakdown the best is sought among the ``stop`` points before it only; the level's
    # neighbourhood may reach to MIN_POINTS points when the breakdown comes earlier than that
    stop = ctx.n if stop is None else max(1, min(stop, ctx.n))
    finite = np.isfinite(v.raw)
    g = np.where(finite, v.g, -np.inf)
    if not np.isfinite(g[:stop]).any():          # nothing finite before it: the whole run
        stop = ctx.n
    i = int(np.argmax(g[:stop]))
    value = float(v.raw[i])
    if not v.known:                      # too short for a noise estimate: the value itself
        se = ctx.sampling_se(value)
        ci = None if se is None else _clip(ctx, value - z * se, value + z * se)
        return Best(float(ctx.epochs[i]), value, i, ci, None, (), None, se, se)
    centre, noise_se = level_at(ctx, i, max(stop, min(MIN_POINTS, ctx.n)))
    expected = v.value(centre)
    se = ctx.sampling_se(expected)
    total = float(np.hypot(noise_se, se or 0.0))
    bounds = sorted((v.value(centre - z * total), v.value(centre + z * total)))
    # Epochs tied with the best: the paired difference on the same validation set is within
    # the epoch-to-epoch noise of a difference of two points.
    tie = z * np.sqrt(2.0) * v.sigma
    tied = tuple(float(e) for j, e in enumerate(ctx.epochs[:stop])
                 if j != i and finite[j] and v.g[i] - v.g[j] <= tie)
    return Best(float(ctx.epochs[i]), value, i, _clip(ctx, *bounds), expected,
                tied, float(v.sigma), se, total)


def _clip(ctx: Context, lo: float, hi: float) -> tuple[float, float]:
    """A proportion's interval stays inside [0, 1]."""
    if is_proportion(ctx.val.name):
        return max(lo, 0.0), min(hi, 1.0)
    return lo, hi


def best_findings(ctx: Context, best: Best) -> list[Finding]:
    v = ctx.val
    if best.ci95 is None or best.expected is None:
        return []
    ev = {"monitor": v.name, "value": best.value, "epoch": best.epoch, "expected": best.expected,
          "lo": best.ci95[0], "hi": best.ci95[1], "n_tied": len(best.tied_epochs),
          "sigma": v.sigma, "sampling_se": best.sampling_se}
    out = [Finding("best", "info", message("best", ev), ev)]
    level = best.expected if v.mode == "max" else -best.expected
    excess = float(v.g[best.index] - level)
    if excess > v.sigma > 0 and len(best.tied_epochs) >= 1:
        lev = {"monitor": v.name, "value": best.value, "epoch": best.epoch, "excess": excess,
               "trend": best.expected, "sigma": v.sigma,
               "n_tied": len(best.tied_epochs)}
        out.append(Finding("lucky_best", "warning", message("lucky_best", lev), lev))
    return out

"""The best epoch, how sure we are of it, and whether it was luck."""

from __future__ import annotations

import numpy as np

from ..i18n import message
from .curves import Context
from .stats import MIN_POINTS, smooth, smoothing_gain, window_for
from .types import Best, Finding


def _bootstrap_max(ctx: Context, stop: int) -> tuple[float, float, float]:
    """Bias-corrected estimate and 95 % interval of max(true curve), oriented, from the points
    before ``stop`` (a breakdown ends the curve whose best we estimate).

    Parametric bootstrap: redraw the noise around the fitted trend, re-smooth, take the max.
    The spread of those maxima around the trend's max covers the noise and the upward bias of
    picking a maximum; the trend's own error at its peak is added in quadrature, because the
    bootstrap takes the (already noisy) trend as the truth. Calibrated on simulated curves
    (bench/diagnosis_accuracy.py prints the coverage)."""
    v, z = ctx.val, ctx.options.z
    g = v.g[:stop]
    w = min(v.window, window_for(len(g)))
    trend = smooth(g, w)
    rng = np.random.default_rng(ctx.options.seed)
    draws = trend + v.sigma * rng.standard_normal((ctx.options.bootstrap, len(g)))
    err = smooth(draws, w).max(axis=1) - float(trend.max())
    centre = float(trend.max()) - float(err.mean())
    lo_q, hi_q = np.quantile(err - err.mean(), [0.025, 0.975])
    own = z * v.sigma * np.sqrt(smoothing_gain(w))
    return centre, centre - float(np.hypot(hi_q, own)), centre + float(np.hypot(lo_q, own))


def best_estimate(ctx: Context, stop: int | None = None) -> Best:
    v, z = ctx.val, ctx.options.z
    finite = np.isfinite(v.raw)
    g = np.where(finite, v.g, -np.inf)
    i = int(np.argmax(g))
    value = float(v.raw[i])
    se = ctx.sampling_se(value)
    if not v.known:
        ci = None if se is None else (value - z * se, value + z * se)
        return Best(float(ctx.epochs[i]), value, i, ci, None, (), None, se)
    stop = ctx.n if stop is None or stop < MIN_POINTS else stop
    expected, lo, hi = _bootstrap_max(ctx, stop)
    if se is not None:                   # add the finite-validation-set error in quadrature
        half_lo, half_hi = expected - lo, hi - expected
        lo = expected - float(np.hypot(half_lo, z * se))
        hi = expected + float(np.hypot(half_hi, z * se))
    bounds = sorted((v.value(lo), v.value(hi)))
    # Epochs tied with the best: the paired difference on the same validation set is within
    # the epoch-to-epoch noise of a difference of two points.
    tie = z * np.sqrt(2.0) * v.sigma
    tied = tuple(float(e) for j, e in enumerate(ctx.epochs)
                 if j != i and finite[j] and v.g[i] - v.g[j] <= tie)
    return Best(float(ctx.epochs[i]), value, i, (bounds[0], bounds[1]), v.value(expected),
                tied, float(v.sigma), se)


def best_findings(ctx: Context, best: Best) -> list[Finding]:
    v = ctx.val
    if best.ci95 is None or best.expected is None:
        return []
    ev = {"monitor": v.name, "value": best.value, "epoch": best.epoch, "expected": best.expected,
          "lo": best.ci95[0], "hi": best.ci95[1], "n_tied": len(best.tied_epochs),
          "sigma": v.sigma, "sampling_se": best.sampling_se}
    out = [Finding("best", "info", message("best", ev), ev)]
    excess = float(v.g[best.index] - v.trend[best.index])
    if excess > v.sigma and len(best.tied_epochs) >= 1:
        lev = {"monitor": v.name, "value": best.value, "epoch": best.epoch, "excess": excess,
               "trend": v.value(float(v.trend[best.index])), "sigma": v.sigma,
               "n_tied": len(best.tied_epochs)}
        out.append(Finding("lucky_best", "warning", message("lucky_best", lev), lev))
    return out

"""The best epoch, how sure we are of it, and whether it was luck."""

from __future__ import annotations

import numpy as np

from ..i18n import message
from .curves import Context
from .stats import smooth
from .types import Best, Finding


def _bootstrap_max(ctx: Context) -> tuple[float, float, float]:
    """Bias-corrected estimate and basic-bootstrap 95 % interval of max(true curve), oriented.

    Parametric bootstrap: redraw the noise around the fitted trend, re-smooth, take the max.
    The spread of those maxima around the trend's own max is the estimator's error, which
    covers both the noise and the upward bias of picking a maximum."""
    v = ctx.val
    rng = np.random.default_rng(ctx.options.seed)
    draws = v.trend + v.sigma * rng.standard_normal((ctx.options.bootstrap, v.n))
    maxima = smooth(draws, v.window).max(axis=1)
    est = float(v.trend.max())
    err = maxima - est
    lo_q, hi_q = np.quantile(err, [0.025, 0.975])
    return est - float(err.mean()), est - float(hi_q), est - float(lo_q)


def best_estimate(ctx: Context) -> Best:
    v, z = ctx.val, ctx.options.z
    finite = np.isfinite(v.raw)
    g = np.where(finite, v.g, -np.inf)
    i = int(np.argmax(g))
    value = float(v.raw[i])
    se = ctx.sampling_se(value)
    if not v.known:
        ci = None if se is None else (value - z * se, value + z * se)
        return Best(float(ctx.epochs[i]), value, i, ci, None, (), None, se)
    expected, lo, hi = _bootstrap_max(ctx)
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

"""Small statistical helpers over one series: fill gaps, smooth, estimate epoch-to-epoch noise,
test a trend. Pure numpy/scipy, no I/O."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import savgol_coeffs, savgol_filter

Z95 = 1.959963984540054
MIN_POINTS = 5          # below this, noise and trends are not estimated (documented)


def fill_gaps(y: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN (edges held constant); all-NaN stays all-NaN."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    if ok.all() or not ok.any():
        return y.copy()
    idx = np.arange(len(y))
    return np.interp(idx, idx[ok], y[ok])


def window_for(n: int) -> int:
    """Smoothing window: about a sixth of the run, odd, at least 5 (or n when shorter)."""
    w = max(5, int(round(n / 6)) | 1)
    return w if w <= n else (n if n % 2 else n - 1)


def smooth(y: np.ndarray, window: int | None = None) -> np.ndarray:
    """Local quadratic (Savitzky-Golay) trend; keeps peaks where a moving average flattens
    them. Works along the last axis (a (B, n) batch smooths at once)."""
    n = y.shape[-1]
    w = window or window_for(n)
    if n < MIN_POINTS or w < 3:
        return np.array(y, dtype=float)
    if n <= _OPERATOR_MAX_N:
        return y @ _smoothing_operator(n, w).T
    return savgol_filter(y, w, polyorder=min(2, w - 1), mode="interp", axis=-1)


_OPERATOR_MAX_N = 400


@lru_cache(maxsize=32)
def _smoothing_operator(n: int, w: int) -> np.ndarray:
    """The Savitzky-Golay filter is linear: its n x n matrix (scipy's filter applied to the
    identity) smooths a whole batch in one product, edges included."""
    return savgol_filter(np.eye(n), w, polyorder=min(2, w - 1), mode="interp", axis=0)


@lru_cache(maxsize=256)
def smoothing_gain(window: int) -> float:
    """Variance of a smoothed point relative to one raw point (centre of the window)."""
    if window < 3:
        return 1.0
    c = savgol_coeffs(window, min(2, window - 1))
    return float(np.sum(c ** 2))


# The central 80 % of the second differences (their absolute deviations from the median) give
# the noise: a trimmed standard deviation, rescaled to a normal's. Trimming keeps the estimate
# robust to the steep start of a curve and to spikes, and uses far more of the data than a
# median absolute deviation, which on 10-20 epochs often landed at a third of the real noise.
TRIM_KEEP = 0.8


@lru_cache(maxsize=512)
def _trimmed_variance(kept: int, n: int) -> float:
    """E[x^2 | |x| < z] for a standard normal, with z the quantile that keeps kept/n of it: the
    mean square of the kept values relative to the variance (1 when nothing is cut)."""
    from scipy.special import ndtri

    p = kept / n
    if p >= 1.0:
        return 1.0
    z = float(ndtri((1.0 + p) / 2.0))
    return 1.0 - 2.0 * z * float(np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)) / p


def noise_sigma(y: np.ndarray) -> float:
    """Epoch-to-epoch noise around a locally linear trend, from second differences:
    Var(y[t-1] - 2y[t] + y[t+1]) = 6 sigma^2 for independent noise; the deviations of the
    second differences from their median, trimmed to their central 80 % (at least 3 kept) and
    rescaled by the share actually kept, make it robust to the early steep part of a curve and
    to spikes."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if len(y) < MIN_POINTS:
        return float("nan")
    d2 = y[:-2] - 2 * y[1:-1] + y[2:]
    dev = np.sort(np.abs(d2 - np.median(d2)))
    kept = dev[:min(len(dev), max(3, int(np.ceil(TRIM_KEEP * len(dev)))))]
    var = _trimmed_variance(len(kept), len(dev))
    sigma = float(np.sqrt(np.mean(kept ** 2) / var) / np.sqrt(6.0))
    if sigma == 0.0:                       # quantised or constant series
        sigma = float(np.std(d2) / np.sqrt(6.0))
    return float(sigma)


def slope_test(y: np.ndarray, sigma: float) -> tuple[float, float]:
    """OLS slope per point of ``y`` and its t statistic, with the noise ``sigma`` known."""
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    y = y[ok]
    if len(y) < 3 or not np.isfinite(sigma) or sigma <= 0:
        return float("nan"), float("nan")
    x = np.arange(len(y), dtype=float)[: len(y)]
    xc = x - x.mean()
    sxx = float(np.sum(xc ** 2))
    slope = float(np.sum(xc * (y - y.mean())) / sxx)
    return slope, slope / (sigma / np.sqrt(sxx))


def robust_z(residuals: np.ndarray, sigma: float) -> np.ndarray:
    if not np.isfinite(sigma) or sigma <= 0:
        return np.zeros_like(residuals)
    return residuals / sigma


def decimals(values: np.ndarray) -> int | None:
    """The fewest decimals (1-9) that write every finite value exactly; None if more are needed
    (full float precision)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return next((d for d in range(1, 10) if np.all(np.abs(v - np.round(v, d)) < 1e-10)), None)


def infer_denominator(values: np.ndarray, max_n: int = 20_000,
                      written: int | None = None) -> int | None:
    """The validation-set size N that a logged proportion gives away: every value a multiple of
    1/N (within the resolution the values were written with). The smallest such N is returned
    only when chance cannot explain the fit: the probability that the distinct values in (0, 1)
    all land that close to a multiple of 1/N by accident must be below 1e-6. Else None.

    ``written``: the decimals the file's writer keeps (its other columns show them). Values of at
    most 4 decimals from a writer that keeps more are exact (0.578 from a writer of 6 decimals
    is 0.578000, 289/500), not rounded to their own last digit."""
    v = np.unique(np.asarray(values, dtype=float))
    v = v[np.isfinite(v) & (v > 0) & (v < 1)]
    if len(v) < 4:
        return None
    digits = own = decimals(v)
    lifted = digits is not None and digits <= 4 and written is not None and written > digits
    if lifted:
        digits = min(written, 9)       # short values from a precise writer: exact
    resolution = 0.5 * 10.0 ** -digits if digits is not None else 6e-8   # float32 otherwise
    # values written with d decimals sit on a 10^-d grid: only N up to 10^d / 2 can be told
    # apart from it (every 3-decimal value lies within 0.4 of a multiple of 1/800, whatever N)
    limit = max_n if digits is None else min(max_n, int(0.5 * 10 ** digits))
    # every candidate N against one value at a time: the candidates thin out at once, so a
    # history of values that fit nothing costs a few vector operations, not max_n x len(v)
    n = np.arange(2, limit + 1, dtype=float)
    for x in v:
        scaled = x * n
        n = n[np.abs(scaled - np.round(scaled)) <= n * resolution + 1e-9]
        if not len(n):
            return None
    # the true N fits (nearly) exactly; a neighbour fits only within the rounding (k/500 values
    # all above 0.75 are within it of multiples of 1/499): the smallest of the best fitting
    scaled = np.outer(v, n)
    misfit = np.max(np.abs(scaled - np.round(scaled)), axis=0) / (n * resolution + 1e-9)
    found = float(n[misfit <= misfit.min() + 0.5][0])
    chance = min(1.0, 2 * found * resolution + 1e-9) ** len(v)
    if lifted and found == 10 ** own:  # k/1000 from 3-decimal values is rounding's signature too
        return None
    return int(found) if chance < 1e-6 else None

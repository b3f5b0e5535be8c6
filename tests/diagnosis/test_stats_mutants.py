"""The small statistics helpers in ``fitdoctor.diagnosis.stats`` against their textbook
definitions. Every expected value is worked out by hand (in the comments) or computed here from
the definition with numpy/scipy -- a Savitzky-Golay smooth with ``scipy.signal.savgol_filter``,
an OLS slope with ``scipy.stats.linregress`` -- never by calling the helper under test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter
from scipy.stats import linregress

from fitdoctor.diagnosis.stats import (fill_gaps, infer_denominator, robust_z, slope_test,
                                       smooth, window_for)

NOISY = np.array([0.31, 0.52, 0.47, 0.66, 0.61, 0.74, 0.70, 0.79, 0.73, 0.81, 0.77, 0.80])


def _savgol(y, w, axis=-1):
    """The textbook smoother: a local quadratic (a line for a 2-point window) least-squares fit
    in a window of w points, the edges fitted by one polynomial over the first/last window."""
    return savgol_filter(np.asarray(y, dtype=float), w, polyorder=min(2, w - 1), mode="interp",
                         axis=axis)


# --------------------------------------------------------------------------- fill_gaps

def test_fill_gaps_interpolates_inside_and_holds_the_edges():
    # rule: NaN inside the series -> linear interpolation between its finite neighbours;
    # NaN at either edge -> the nearest finite value held constant.
    # by hand: [nan, 1, nan, nan, 4, nan] -> [1, 1, 2, 3, 4, 4]
    got = fill_gaps(np.array([np.nan, 1.0, np.nan, np.nan, 4.0, np.nan]))
    assert got == pytest.approx([1.0, 1.0, 2.0, 3.0, 4.0, 4.0])


def test_fill_gaps_all_finite_returns_a_float_copy():
    # rule: nothing to fill -> the same values, as floats, in a new array (the caller may write
    # into the result without touching its input).
    y = np.array([3, 1, 2])                     # integers in
    got = fill_gaps(y)
    assert got.dtype == np.float64 and got.tolist() == [3.0, 1.0, 2.0]
    got[0] = 99.0
    assert y[0] == 3


def test_fill_gaps_all_nan_stays_all_nan():
    # rule: with no finite value there is nothing to interpolate from: all-NaN stays all-NaN
    got = fill_gaps(np.full(4, np.nan))
    assert got.shape == (4,) and np.isnan(got).all()


def test_fill_gaps_treats_none_as_a_gap():
    # rule: a Python list with None (a missing row from JSON) reads None as NaN: [1, None, 3]
    # -> [1, 2, 3]
    assert fill_gaps([1.0, None, 3.0]) == pytest.approx([1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- window_for

# rule: a sixth of the run rounded (half to even, as Python's round), made odd with "| 1", at
# least 5; when that is longer than the run, the run's length made odd (n, or n - 1).
WINDOWS = [
    (1, 1),        # 5 > 1: n itself (odd)
    (2, 1),        # 5 > 2: n - 1
    (3, 3),        # 5 > 3: n (odd)
    (4, 3),        # 5 > 4: n - 1
    (5, 5),        # exactly 5: 5 <= n, kept
    (6, 5),        # round(1.0) | 1 = 1 -> 5
    (30, 5),       # round(5.0) | 1 = 5
    (33, 7),       # round(5.5) = 6 (half to even), 6 | 1 = 7
    (36, 7),       # round(6.0) | 1 = 7 (n / 7 would give 5)
    (45, 9),       # round(7.5) = 8, 8 | 1 = 9
    (60, 11),      # round(10.0) | 1 = 11 (| 2 would give 10)
    (100, 17),     # round(16.67) = 17
    (401, 67),     # round(66.8) = 67
]


@pytest.mark.parametrize("n, w", WINDOWS)
def test_window_for_is_a_sixth_odd_at_least_5_or_the_run(n, w):
    assert window_for(n) == w
    assert w % 2 == 1 and w <= n


# --------------------------------------------------------------------------- smooth

@pytest.mark.parametrize("n", [5, 6, 12, 37, 400, 401, 450])
def test_smooth_default_window_is_savitzky_golay(n):
    # rule: without a window, a local-quadratic Savitzky-Golay smooth over window_for(n) points
    # (n = 5: the minimum length, one quadratic over all five points; n = 400/401: both sides
    # of the switch from the precomputed operator to scipy's filter give the same answer)
    rng = np.random.default_rng(n)
    y = np.linspace(0.2, 0.8, n) + 0.05 * rng.standard_normal(n)
    w = window_for(n)                          # checked by hand above
    assert smooth(y) == pytest.approx(_savgol(y, w), abs=1e-10)


def test_smooth_of_five_points_is_one_quadratic_fit():
    # rule: n = 5 (MIN_POINTS) is smoothed, not returned raw. By hand for y = [0, 1, 0, 1, 0]
    # at x = -2..2: the least-squares quadratic a + c x^2 (b = 0 by symmetry) solves
    # 5a + 10c = sum y = 2 and 10a + 34c = sum x^2 y = 2: c = -1/7, a = 24/35, so the smooth
    # is 24/35 - x^2/7 = [4/35, 19/35, 24/35, 19/35, 4/35].
    got = smooth(np.array([0.0, 1.0, 0.0, 1.0, 0.0]))
    assert got == pytest.approx(np.array([4, 19, 24, 19, 4]) / 35, abs=1e-12)


def test_smooth_uses_the_window_it_is_given():
    # rule: an explicit window wins over window_for(n) (12 points -> 5 by default; 7 asked)
    assert smooth(NOISY, 7) == pytest.approx(_savgol(NOISY, 7), abs=1e-10)
    assert not np.allclose(_savgol(NOISY, 7), _savgol(NOISY, 5))


@pytest.mark.parametrize("n", [30, 401])
def test_smooth_window_of_3_is_a_quadratic_through_3_points(n):
    # rule: the polynomial order is min(2, w - 1): a 3-point window is fitted by a quadratic,
    # which passes through all three points -- the series comes back unchanged (a line, order
    # 1, would average it). Checked on both code paths (n <= 400 and n > 400).
    y = np.random.default_rng(1).standard_normal(n)
    assert smooth(y, 3) == pytest.approx(y, abs=1e-9)


@pytest.mark.parametrize("n", [12, 450])
def test_smooth_is_quadratic_not_cubic(n):
    # rule: local QUADRATIC: with a 7-point window, order 2 and order 3 differ on a noisy curve
    y = np.random.default_rng(2).standard_normal(n)
    assert smooth(y, 7) == pytest.approx(savgol_filter(y, 7, 2, mode="interp"), abs=1e-10)
    assert not np.allclose(savgol_filter(y, 7, 2, mode="interp"),
                           savgol_filter(y, 7, 3, mode="interp"))


@pytest.mark.parametrize("n", [20, 450])
def test_smooth_a_batch_row_by_row(n):
    # rule: a (B, n) batch is smoothed along its last axis, each row as on its own
    rng = np.random.default_rng(3)
    batch = rng.standard_normal((3, n))
    got = smooth(batch, 9)
    assert got.shape == (3, n)
    for row_in, row_out in zip(batch, got):
        assert row_out == pytest.approx(_savgol(row_in, 9), abs=1e-10)


def test_smooth_long_single_series():
    # rule: a 1-D series longer than the operator limit (n > 400) is smoothed along its only axis
    y = np.random.default_rng(4).standard_normal(500)
    assert smooth(y, 11) == pytest.approx(_savgol(y, 11), abs=1e-10)


def test_smooth_below_five_points_returns_the_raw_values_as_floats():
    # rule: fewer than MIN_POINTS = 5 points are returned unchanged (as floats), even when a
    # window longer than the series is asked for (scipy would refuse a 5-point window on 4)
    y = np.array([1, 4, 2, 3])
    for window in (None, 5):
        got = smooth(y, window)
        assert got.dtype == np.float64 and got.tolist() == [1.0, 4.0, 2.0, 3.0]


def test_smooth_window_below_3_returns_the_raw_values():
    # rule: a window of 1 or 2 points is no smoothing: the values come back as they are
    assert np.array_equal(smooth(NOISY, 1), NOISY)
    assert np.array_equal(smooth(NOISY, 2), NOISY)


# --------------------------------------------------------------------------- slope_test

def _t_known_sigma(y, sigma):
    """OLS slope from scipy and its t statistic with the noise known: se = sigma / sqrt(Sxx),
    Sxx = n (n^2 - 1) / 12 for x = 0..n-1."""
    n = len(y)
    slope = linregress(np.arange(n), y).slope
    return slope, slope / (sigma / np.sqrt(n * (n * n - 1) / 12))


@pytest.mark.parametrize("y, sigma", [
    (NOISY, 0.05),
    (NOISY[:3], 0.02),                  # 3 points: the shortest series that gets a slope
    (NOISY[::-1], 1.0),                 # falling
    (np.array([5.0, 5.0, 5.0, 5.0]), 0.3),   # flat: slope 0, t 0
])
def test_slope_and_t_with_known_sigma(y, sigma):
    slope, t = slope_test(y, sigma)
    want_slope, want_t = _t_known_sigma(y, sigma)
    assert slope == pytest.approx(want_slope, rel=1e-12, abs=1e-15)
    assert t == pytest.approx(want_t, rel=1e-12, abs=1e-12)


def test_slope_by_hand():
    # y = [1, 2, 4]: x - mean = [-1, 0, 1], Sxx = 2, slope = (-1 * -4/3 + 1 * 5/3) / 2 = 1.5;
    # with sigma = 0.5: t = 1.5 / (0.5 / sqrt(2)) = 3 sqrt(2)
    slope, t = slope_test(np.array([1.0, 2.0, 4.0]), 0.5)
    assert slope == pytest.approx(1.5) and t == pytest.approx(3 * np.sqrt(2))


def test_slope_skips_missing_points():
    # rule: NaN/inf (and None in a list) are dropped and the remaining points are taken as
    # consecutive: [1, nan, 2, inf, 4] is the slope of [1, 2, 4] = 1.5 (see above)
    assert slope_test(np.array([1.0, np.nan, 2.0, np.inf, 4.0]), 0.5)[0] == pytest.approx(1.5)
    assert slope_test([1.0, None, 2.0, 4.0], 0.5)[0] == pytest.approx(1.5)


@pytest.mark.parametrize("y, sigma", [
    (np.array([1.0, 2.0]), 1.0),                   # two points: no test
    (np.array([1.0, np.nan, 2.0, np.nan]), 1.0),   # two finite points
    (NOISY, 0.0),                                  # sigma exactly at the limit 0
    (NOISY, -0.1),
    (NOISY, float("nan")),
    (NOISY, float("inf")),
])
def test_slope_undefined_without_three_points_or_a_positive_finite_sigma(y, sigma):
    # rule: fewer than 3 finite points, or a sigma that is not finite and > 0 -> (nan, nan):
    # the slope itself is withheld too, not only its t
    slope, t = slope_test(y, sigma)
    assert np.isnan(slope) and np.isnan(t)


# --------------------------------------------------------------------------- robust_z

def test_robust_z_divides_by_the_noise():
    # rule: z = residual / sigma. Here sigma is the MAD estimate of the residuals' scale,
    # 1.4826 * median|r - median r|, worked out by hand: r = [-2, -1, 0, 1, 8] has median 0,
    # |r| = [2, 1, 0, 1, 8], MAD = 1, sigma = 1.4826 -> z = r / 1.4826
    r = np.array([-2.0, -1.0, 0.0, 1.0, 8.0])
    sigma = 1.4826 * np.median(np.abs(r - np.median(r)))
    assert sigma == pytest.approx(1.4826)
    assert robust_z(r, sigma) == pytest.approx(r / 1.4826)
    # sigma below 1 scales up: 0.5 -> twice the residual
    assert robust_z(r, 0.5) == pytest.approx(2 * r)


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), float("inf")])
def test_robust_z_is_zero_without_a_usable_noise(sigma):
    # rule: sigma not finite or <= 0 (0 exactly included) -> every z is 0, not inf/nan
    got = robust_z(np.array([-2.0, 0.5, 3.0]), sigma)
    assert got.tolist() == [0.0, 0.0, 0.0]


# --------------------------------------------------------------------------- infer_denominator

K1101 = np.arange(400, 441) / 1101          # 41 exact proportions of the SST dev set


def test_denominator_needs_four_distinct_proportions():
    # rule: fewer than 4 distinct values strictly inside (0, 1) -> None; 4 are enough.
    # 1/7, 2/7, 3/7 (and 4/7): exact k/7, written at full precision (no decimals limit), so
    # the chance of a fit is (2 * 7 * 6e-8)^4, far below 1e-6.
    assert infer_denominator(np.array([1, 2, 3]) / 7) is None
    assert infer_denominator(np.array([1, 2, 3, 4]) / 7) == 7
    # 0 and 1 are not proportions in (0, 1): they do not make up the fourth value
    assert infer_denominator(np.r_[np.array([1, 2, 3]) / 7, 0.0]) is None
    assert infer_denominator(np.r_[np.array([1, 2, 3]) / 7, 1.0]) is None
    # nor do repeats of the same value
    assert infer_denominator(np.array([1, 2, 3, 3, 2]) / 7) is None


def test_denominator_ignores_values_outside_the_open_unit_interval():
    # rule: only finite values in (0, 1) are used; 1.37 or -0.37 (not multiples of 1/1101)
    # and inf/nan must not spoil the N that the proportions give away
    junk = [0.0, 1.0, 1.37, -0.37, np.nan, np.inf, -np.inf]
    assert infer_denominator(np.r_[K1101, junk]) == 1101
    # None in a list is a missing value, not an error
    assert infer_denominator([None, *K1101]) == 1101


def test_denominator_smallest_candidate_is_2():
    # rule: candidates start at N = 2. Four copies of 1/2 that differ only by float noise
    # (1e-8 / 3 apart: no decimal resolution, so float32's 6e-8 applies) fit 1/2
    half = np.array([0.5, 0.5 + 1e-8 / 3, 0.5 + 2e-8 / 3, 0.5 - 1e-8 / 3])
    assert infer_denominator(half) == 2


def test_denominator_search_stops_at_max_n():
    # rule: N is searched up to max_n = 20,000 by default (inclusive). 60 exact k/20001 fit no
    # N <= 20,000 (each would have to land within 20,000 * 6e-8 of a multiple by chance), so
    # None; with max_n = 20,001 the true N is found.
    k = np.random.default_rng(3).integers(10000, 20001, 60)
    assert infer_denominator(k / 20001) is None
    assert infer_denominator(k / 20001, max_n=20_001) == 20001


def test_denominator_one_decimal_cannot_tell_n_apart():
    # rule: values written with d decimals only tell apart N up to 10^d / 2: with 1 decimal,
    # 0.1 .. 0.9 would fit N = 10 exactly, but 10 > 5: None (no guess)
    assert infer_denominator(np.arange(1, 10) / 10) is None


def test_denominator_three_decimals_limit_is_500_inclusive():
    # rule: 3 decimals -> N <= 10^3 / 2 = 500. k/501 rounded to 3 decimals fit 1/501 within
    # the rounding (501 * 0.0005 = 0.25 of a unit), and with 200 of them the chance 0.501^200
    # is negligible -- but 501 is beyond what 3 decimals can tell: None.
    k = np.arange(int(0.55 * 501), int(0.95 * 501))
    assert infer_denominator(np.round(k / 501, 3)) is None


def test_denominator_rounded_half_way_values_still_fit():
    # rule: a value may sit exactly half a decimal away from k/N (the tolerance is inclusive).
    # k/16 written with 3 decimals: 1/16 = 0.0625 -> 0.062 (round half to even), exactly
    # 0.0005 = half the last decimal off, i.e. 16 * 0.0005 = 0.008 of a unit; still N = 16.
    v = np.round(np.arange(1, 16) / 16, 3)
    assert v[0] == 0.062
    assert infer_denominator(v) == 16


def test_denominator_float32_values_printed_with_ten_decimals():
    # rule: values that fit no grid of 1..9 decimals are read at float32 resolution (6e-8),
    # whatever number of digits they were printed with: float32 accuracies k/1101 printed with
    # 10 decimals (0.3633060753 ...) are off k/1101 by float32 rounding (~1e-8), far more than
    # a 10-decimal resolution would allow, but well within float32's: N = 1101.
    v = np.round(np.float32(K1101).astype(float), 10)
    assert np.abs(v - K1101).max() > 1e-9
    assert infer_denominator(v) == 1101

"""The LR helpers (``diagnosis.lr``) and the smooth-family fit of the schedule audit
(``diagnosis.schedule_audit``) against expectations worked out by hand or built from the
definitions: LR curves stepped with torch's own schedulers (as ``test_schedule_audit.py`` does)
or written down from their closed forms, least-squares fits recomputed with numpy."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import pearsonr
from torch.optim import lr_scheduler as S

from fitdoctor.diagnosis.lr import analyse_lr, last_restart, lr_at_end
from fitdoctor.diagnosis.schedule_audit import (_best_over, _cosine_fit, _poly_fit,
                                                _smooth_families, fit_schedule)
from fitdoctor.diagnosis.types import DiagnoseOptions

from .test_schedule_audit import lr_per_epoch   # torch's LR per epoch: read, then stepped


def ctx_for(lr, epochs=None, **options):
    """The parts of a diagnosis Context that the LR helpers read."""
    lr = None if lr is None else np.asarray(lr, dtype=float)
    if epochs is None:
        epochs = np.arange(0 if lr is None else len(lr), dtype=float)
    return SimpleNamespace(lr=lr, epochs=np.asarray(epochs, dtype=float),
                           options=replace(DiagnoseOptions(), **options))


def best_at(epoch):
    return SimpleNamespace(epoch=epoch)


# =========================================================================== lr_at_end

@pytest.mark.parametrize("lr, want", [
    ([0.1, 0.05, 0.02], (0.02, 0.1)),               # last value and the peak
    ([0.1, 0.05, np.nan], (0.05, 0.1)),             # the last FINITE value
    ([0.02, 0.1], (0.1, 0.1)),                      # two finite values are enough
    ([np.nan, 0.3, np.nan, 0.2, np.nan], (0.2, 0.3)),
])
def test_lr_at_end_is_last_finite_and_peak(lr, want):
    assert lr_at_end(ctx_for(lr)) == pytest.approx(want)


@pytest.mark.parametrize("lr", [
    None,                                  # no LR column
    [0.1],                                 # one value
    [np.nan, 0.1, np.nan],                 # one finite value
    [0.0, 0.0, 0.0],                       # peak exactly 0: not positive
    [-0.1, -0.2],                          # negative peak
])
def test_lr_at_end_none_without_two_finite_values_and_a_positive_peak(lr):
    assert lr_at_end(ctx_for(lr)) is None


# =========================================================================== last_restart

def test_last_restart_of_warm_restarts_is_the_last_cycle_start():
    # CosineAnnealingWarmRestarts(T_0=5): the LR returns to its peak at epochs 5 and 10
    # (from 0.1 * (1 + cos(4 pi / 5)) / 2 = 0.0095 to 0.1, far beyond x1.5): last restart = 10
    lr = lr_per_epoch(lambda o: S.CosineAnnealingWarmRestarts(o, 5), epochs=13)
    assert lr[10] == pytest.approx(0.1) and lr[9] < 0.1 / 1.5
    assert last_restart(ctx_for(lr)) == 10


@pytest.mark.parametrize("lr, want", [
    ([1.0, 0.5, 0.75, 0.5], 2),      # exactly x1.5 (0.5 -> 0.75) from below the peak counts
    ([1.0, 0.5, 0.74, 0.5], None),   # x1.48: not a restart
    ([1.0, 0.5, 0.8, 0.4, 0.7, 0.3], 4),   # two restarts: the index of the LAST one
])
def test_last_restart_threshold_and_index_by_hand(lr, want):
    assert last_restart(ctx_for(lr)) == want


@pytest.mark.parametrize("name, lr", [
    # a warmup doubles the LR every epoch, but each value is the running peak: no restart
    ("warmup", [0.1, 0.2, 0.4, 0.8]),
    # the same after a missing first value (a NaN does not count as a peak of +inf)
    ("warmup after NaN", [np.nan, 0.1, 0.2, 0.4]),
    # plain decays: below the peak, but never up
    ("cosine", lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 20), epochs=20)),
    ("step", lr_per_epoch(lambda o: S.StepLR(o, 5, 0.5), epochs=20)),
    # PolynomialLR(total_iters=5, power=1) falls to exactly 0 and stays there: 0 -> 0 is no
    # jump "by x1.5" (the factor is undefined from 0)
    ("decay to zero", lr_per_epoch(lambda o: S.PolynomialLR(o, 5, 1.0), epochs=9)),
])
def test_no_restart_without_an_upward_jump_from_below_the_peak(name, lr):
    lr = np.asarray(lr)
    if name == "decay to zero":
        assert lr[5:].tolist() == [0.0] * 4
    assert last_restart(ctx_for(lr)) is None


@pytest.mark.parametrize("lr", [None, [0.1], [0.1, 0.2]])
def test_no_restart_without_an_lr_or_with_too_few_values(lr):
    # a restart needs an earlier peak, a fall and a jump: not possible in fewer than 3 values
    assert last_restart(ctx_for(lr)) is None


# =========================================================================== analyse_lr

def test_analyse_lr_values_at_best_onset_and_end():
    # StepLR(step 4, x0.5) from 0.2 over 12 epochs: 0.2 x4, 0.1 x4, 0.05 x4 (by hand).
    # best at epoch 6.4 -> the nearest logged epoch 6 (LR 0.1); onset at 9 -> 0.05
    lr = lr_per_epoch(lambda o: S.StepLR(o, 4, 0.5), epochs=12, lr=0.2)
    assert lr.tolist() == pytest.approx([0.2] * 4 + [0.1] * 4 + [0.05] * 4)
    info, _ = analyse_lr(ctx_for(lr), best_at(6.4), 9.0)
    assert info.peak == pytest.approx(0.2)
    assert info.at_best == pytest.approx(0.1) and info.at_best_frac == pytest.approx(0.5)
    assert info.at_onset == pytest.approx(0.05)
    assert info.at_onset_frac == pytest.approx(0.25)
    assert info.final == pytest.approx(0.05) and info.final_frac == pytest.approx(0.25)


def test_analyse_lr_nearest_epoch_with_epochs_not_starting_at_zero():
    # epochs 10..19 (a resumed run): best at 13 -> index 3, not index 0
    lr = np.linspace(0.1, 0.01, 10)
    info, _ = analyse_lr(ctx_for(lr, epochs=np.arange(10.0, 20.0)), best_at(13.0), None)
    assert info.at_best == pytest.approx(lr[3])
    assert info.at_onset is None and info.at_onset_frac is None


def test_analyse_lr_missing_lr_at_the_best_epoch_is_the_nearest_logged():
    # the LR at the best epoch is NaN (not logged there): the nearest logged one (the earlier of
    # two as near), never NaN; None only without any finite LR
    lr = [0.1, 0.09, np.nan, 0.07, 0.06]
    info, _ = analyse_lr(ctx_for(lr), best_at(2.0), 2.0)
    assert info.at_best == pytest.approx(0.09) and info.at_best_frac == pytest.approx(0.9)
    assert info.at_onset == pytest.approx(0.09)
    assert info.final == pytest.approx(0.06)
    lr = [np.nan, 0.09, 0.08, 0.07, 0.06]           # an evaluation row before training
    assert analyse_lr(ctx_for(lr), best_at(0.0), None)[0].at_best == pytest.approx(0.09)


def test_analyse_lr_correlation_with_epoch_is_pearsons_r():
    # cosine over 30 epochs: r is Pearson's correlation of LR and epoch (computed by scipy),
    # negative for a decaying LR, beyond 0.9 in size: a confound; with an onset it is a warning
    lr = lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 30), epochs=30)
    want = pearsonr(lr, np.arange(30.0)).statistic
    assert want < -0.9
    info, findings = analyse_lr(ctx_for(lr), best_at(20.0), 25.0)
    assert info.corr_with_epoch == pytest.approx(want, rel=1e-9)
    (f,) = findings
    assert f.code == "lr_epoch_confounded" and f.severity == "warning"
    assert f.evidence["r"] == pytest.approx(want, rel=1e-9)
    assert f.evidence["lr_at_onset"] == pytest.approx(lr[25])
    assert f.evidence["lr_at_best"] == pytest.approx(lr[20])


def test_analyse_lr_confound_without_onset_is_only_info():
    lr = lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 30), epochs=30)
    _, (f,) = analyse_lr(ctx_for(lr), best_at(20.0), None)
    assert f.severity == "info" and f.evidence["lr_at_onset"] is None


def test_analyse_lr_three_points_are_enough_for_a_correlation():
    # LR 0.75, 0.5, 0.25 at epochs 0, 1, 2: an exact line, r = -1 (by hand)
    info, findings = analyse_lr(ctx_for([0.75, 0.5, 0.25]), best_at(0.0), None)
    assert info.corr_with_epoch == pytest.approx(-1.0)
    assert [f.code for f in findings] == ["lr_epoch_confounded"]


def test_analyse_lr_confound_needs_r_strictly_beyond_the_threshold():
    # r = -1 exactly (above), with the threshold set to 1.0: |r| > 1 is false, no finding
    info, findings = analyse_lr(ctx_for([0.75, 0.5, 0.25], lr_confound_r=1.0), best_at(0.0),
                                None)
    assert info.corr_with_epoch == -1.0 and findings == []


def test_analyse_lr_two_finite_values():
    # two finite LRs: reported, but two points always lie on a line: no correlation (0.0)
    info, findings = analyse_lr(ctx_for([0.1, np.nan, 0.05]), best_at(0.0), None)
    assert info is not None
    assert info.peak == pytest.approx(0.1) and info.final == pytest.approx(0.05)
    assert info.corr_with_epoch == 0.0 and findings == []


@pytest.mark.parametrize("lr", [[0.1, np.nan, np.nan], [np.nan] * 4])
def test_analyse_lr_needs_two_finite_values(lr):
    assert analyse_lr(ctx_for(lr), best_at(0.0), None) == (None, [])


def test_analyse_lr_without_an_lr_column():
    ctx = ctx_for(None, epochs=np.arange(5.0))
    assert analyse_lr(ctx, best_at(0.0), None) == (None, [])


def test_analyse_lr_constant_lr_has_no_correlation():
    # a constant LR does not vary: r = 0.0 (not NaN, not 1), and no finding
    info, findings = analyse_lr(ctx_for([0.01] * 6), best_at(2.0), None)
    assert info.corr_with_epoch == 0.0 and findings == []


def test_analyse_lr_variation_of_exactly_a_thousandth_of_the_peak_is_constant():
    # rule: the LR "varies" only if its range exceeds 1e-3 x peak. 1000, 999.5, 999: range
    # 1 = 1e-3 x 1000 exactly: treated as constant, r = 0 (otherwise it would be -1)
    info, findings = analyse_lr(ctx_for([1000.0, 999.5, 999.0]), best_at(0.0), None)
    assert info.corr_with_epoch == 0.0 and findings == []


# =========================================================================== _best_over

def _quadratic_err(target, a_scale=10.0):
    """A one-parameter family whose error is (T - target)^2, with a = a_scale T and b = 1."""
    return lambda T: (a_scale * T, np.ones_like(T), (T - target) ** 2)


def test_best_over_coarse_then_one_finer_grid():
    # rule: two passes. Coarse grid 1, 1.5, ..., 5 (step 0.5), error minimal at 3.34:
    # pass 1 picks 3.5 (0.16 away; 3.0 is 0.34 away); pass 2 searches 41 points over
    # 3.5 +- 2 x 0.5 = [2.5, 4.5] (step 0.05) and picks 3.35. There is no third pass (which
    # would reach 3.34). Returned: (T, a, b, err) = (3.35, 33.5, 1, 0.01^2).
    got = _best_over(np.arange(1.0, 5.01, 0.5), _quadratic_err(3.34))
    assert got == pytest.approx((3.35, 33.5, 1.0, 1e-4), abs=1e-9)


def test_best_over_two_point_grid_uses_its_spacing():
    # grid [2, 4], minimum at 3.35: pass 1 -> 4; pass 2: 41 points over 4 +- 2 x 2 = [0, 8],
    # step 0.2, only T > 0 kept -> 3.4 (0.05 away; 3.2 is 0.15 away)
    got = _best_over(np.array([2.0, 4.0]), _quadratic_err(3.35))
    assert got[0] == pytest.approx(3.4, abs=1e-9)


def test_best_over_single_point_grid_refines_by_a_tenth_of_it():
    # a one-point grid [2] has no spacing: the step is 10 % of the point, 0.2; pass 2 covers
    # [1.6, 2.4] in steps of 0.02 and picks 2.14 for a minimum at 2.135
    got = _best_over(np.array([2.0]), _quadratic_err(2.135))
    assert got == pytest.approx((2.14, 21.4, 1.0, 0.005 ** 2), abs=1e-9)


def test_best_over_keeps_only_positive_parameters():
    # error = T (smallest at the lower edge): pass 1 picks 1.0; the finer grid spans
    # [0, 2] in steps of 0.05 but T = 0 is not admissible: 0.05
    got = _best_over(np.arange(1.0, 5.01, 0.5), lambda T: (T, np.ones_like(T), T))
    assert got[0] == pytest.approx(0.05, abs=1e-12)


def test_best_over_requires_b_strictly_positive():
    # b = 0 everywhere: nothing admissible -> None (not a fit with b = 0)
    flat = lambda T: (T, np.zeros_like(T), (T - 3.0) ** 2)        # noqa: E731
    assert _best_over(np.arange(1.0, 5.01, 0.5), flat) is None
    # b = 0.5 is admissible (any positive b is, not only b > 1)
    half = lambda T: (T, np.full_like(T, 0.5), (T - 3.0) ** 2)    # noqa: E731
    assert _best_over(np.arange(1.0, 5.01, 0.5), half)[0] == pytest.approx(3.0)


# =========================================================================== _cosine_fit

def test_cosine_fit_recovers_floor_and_amplitude():
    # y = 0.1 + 0.9 (1 + cos(pi t / 8)) / 2 on t = 0..5: at T = 8 the fit is exact with
    # a = 0.1 (the floor) and b = 0.9 (peak - floor); at another T it is the least-squares
    # line of y on c(t) = (1 + cos(pi t / T)) / 2, recomputed here with numpy's lstsq.
    t = np.arange(6.0)
    y = 0.1 + 0.9 * (1 + np.cos(np.pi * t / 8)) / 2
    a, b, err = _cosine_fit(t, y)(np.array([8.0, 20.0]))
    assert (a[0], b[0], err[0]) == pytest.approx((0.1, 0.9, 0.0), abs=1e-12)
    c = (1 + np.cos(np.pi * t / 20)) / 2
    (a20, b20), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(t), c]), y, rcond=None)
    rmse = np.sqrt(np.mean((a20 + b20 * c - y) ** 2))
    assert (a[1], b[1], err[1]) == pytest.approx((a20, b20, rmse), rel=1e-9)


def test_cosine_fit_without_time_spread_has_no_slope():
    # all points at t = 0: c is constant, the regression has no slope (b = 0) and the fit
    # is the mean: a = 7/3, error = rms of y - 7/3 for y = [1, 2, 4]
    a, b, err = _cosine_fit(np.zeros(3), np.array([1.0, 2.0, 4.0]))(np.array([5.0]))
    assert b[0] == 0.0 and a[0] == pytest.approx(7 / 3)
    assert err[0] == pytest.approx(np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2
                                             + (4 - 7 / 3) ** 2) / 3))


# =========================================================================== _poly_fit

def test_poly_fit_power_by_log_least_squares():
    # y = (1 - t / 12)^1.5 on t = 0..5: at T = 12 the power is exactly 1.5 and the error 0;
    # at T = 30 it is the least-squares slope through 0 of log y on log(1 - t / 30)
    t = np.arange(6.0)
    y = (1 - t / 12) ** 1.5
    a, power, err = _poly_fit(t, y)(np.array([12.0, 30.0]))
    assert a.tolist() == [0.0, 0.0]
    assert (power[0], err[0]) == pytest.approx((1.5, 0.0), abs=1e-12)
    base = np.log(1 - t / 30)
    p30 = np.sum(base * np.log(y)) / np.sum(base ** 2)
    assert power[1] == pytest.approx(p30, rel=1e-12)
    assert err[1] == pytest.approx(np.sqrt(np.mean(((1 - t / 30) ** p30 - y) ** 2)), rel=1e-9)


def test_poly_fit_end_before_the_last_epoch_is_finite():
    # T = 4 < last t = 5: the base 1 - t/T is negative there; it is clipped (to 0 for the
    # prediction), so the error is a finite number, not NaN
    t = np.arange(6.0)
    _, power, err = _poly_fit(t, (1 - t / 12) ** 1.5)(np.array([4.0]))
    assert np.isfinite(power[0]) and np.isfinite(err[0])


# =========================================================================== _smooth_families

def test_linear_decay_end_epoch_by_hand():
    # 1 - t/80 on t = 0..19 is a line reaching 0 at t = 80, fitted exactly
    t = np.arange(20.0)
    fit = _smooth_families(t, 1 - t / 80)
    assert fit.family == "linear" and fit.warmup == 0.0
    assert fit.params["end_epoch"] == pytest.approx(80.0)
    assert fit.rmse == pytest.approx(0.0, abs=1e-12)
    assert fit.description == "linear decay reaching 0 at epoch 80"


def test_exponential_from_torch_gamma_to_five_decimals():
    # ExponentialLR(gamma = 0.9123456): an exact exponential; gamma reported rounded to 5
    # decimals (0.91235), the fit error ~0, the description with 4 significant digits
    lr = lr_per_epoch(lambda o: S.ExponentialLR(o, 0.9123456), epochs=30)
    fit = fit_schedule(np.arange(30.0), lr)
    assert fit.family == "exponential"
    assert fit.params["gamma"] == 0.91235
    assert fit.rmse < 1e-9
    assert fit.description == "exponential decay x0.9123 per epoch"
    direct = _smooth_families(np.arange(30.0), lr / lr[0])
    assert direct.family == "exponential" and direct.warmup == 0.0


@pytest.mark.parametrize("y", [
    0.5 + 0.02 * np.arange(20.0),          # rising line
    0.5 * 1.03 ** np.arange(20.0),         # rising exponential
])
def test_rising_lr_is_not_a_decay(y):
    # rule: "linear" and "exponential" are decays: a rising series gets neither
    fit = _smooth_families(np.arange(20.0), y)
    assert fit is None or fit.family not in ("linear", "exponential")


def test_cosine_with_floor_and_fractional_t_max():
    # 0.1 + 0.9 (1 + cos(pi t / 37.3)) / 2 over t = 0..40: cosine, T_max 37.3 (reported to
    # 1 decimal), eta_min 0.1 of the peak
    t = np.arange(41.0)
    fit = _smooth_families(t, 0.1 + 0.9 * (1 + np.cos(np.pi * t / 37.3)) / 2)
    assert fit.family == "cosine" and fit.warmup == 0.0
    assert fit.params["T_max"] == pytest.approx(37.3, abs=0.06)
    assert round(fit.params["T_max"], 1) == fit.params["T_max"]
    assert fit.params["eta_min_frac"] == pytest.approx(0.1, abs=0.005)
    assert fit.description.startswith("cosine annealing (T_max~")
    assert fit.description.endswith("eta_min~0.1 of peak)")


def test_cosine_to_zero_has_floor_zero():
    # CosineAnnealingLR(T_max = 60) over 60 epochs anneals to eta_min = 0: the floor is
    # reported as 0 (never below, never the 1.0 of a peak)
    lr = lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 60), epochs=60)
    fit = fit_schedule(np.arange(60.0), lr)
    assert fit.family == "cosine"
    assert fit.params["eta_min_frac"] == pytest.approx(0.0, abs=0.005)


def test_polynomial_power_one_and_a_half():
    # PolynomialLR(total_iters = 80, power = 1.5) stopped at epoch 60: polynomial, reaching 0 at
    # epoch 80 (reported to 1 decimal), power 1.5 (reported to 2 decimals)
    lr = lr_per_epoch(lambda o: S.PolynomialLR(o, 80, 1.5), epochs=60)
    fit = fit_schedule(np.arange(60.0), lr)
    assert fit.family == "polynomial"
    assert fit.params["total_epochs"] == pytest.approx(80.0, abs=0.5)
    assert round(fit.params["total_epochs"], 1) == fit.params["total_epochs"]
    assert fit.params["power"] == pytest.approx(1.5, abs=0.011)
    assert round(fit.params["power"], 2) == fit.params["power"]
    assert fit.description == "polynomial decay (power 1.5) reaching 0 at epoch 80"
    direct = _smooth_families(np.arange(60.0), lr / lr[0])
    assert direct.family == "polynomial" and direct.warmup == 0.0


def test_polynomial_over_fractional_epochs():
    # the LR logged over half an epoch (t = 0, 0.02, ..., 0.5), (1 - t/0.6)^2: the search for
    # the end is scaled to the run's length (0.5), not to one epoch: total 0.6, power 2
    t = np.linspace(0.0, 0.5, 26)
    fit = _smooth_families(t, (1 - t / 0.6) ** 2)
    assert fit.family == "polynomial"
    assert fit.params["total_epochs"] == pytest.approx(0.6, abs=0.01)
    assert fit.params["power"] == pytest.approx(2.0, abs=0.02)


def test_polynomial_with_a_late_last_epoch():
    # epochs 0..8 and then 20 (the last logged much later): the run's length is the LAST
    # epoch, 20; (1 - t/30)^2 is found with its end at 30
    t = np.r_[np.arange(9.0), 20.0]
    fit = _smooth_families(t, (1 - t / 30) ** 2)
    assert fit.family == "polynomial"
    assert fit.params["total_epochs"] == pytest.approx(30.0, abs=0.2)


def test_polynomial_tried_when_the_lr_holds_for_its_first_step():
    # (1 - t/60)^2 whose first step holds the peak (LR 1, 1, then the decay): the run still
    # ends lower than it starts, so the polynomial is tried and fits best
    t = np.arange(30.0)
    y = (1 - t / 60) ** 2
    y[1] = y[0]
    assert _smooth_families(t, y).family == "polynomial"


def test_polynomial_logged_several_times_per_epoch():
    # four rows per epoch with the integer epoch (0, 0, 0, 0, 1, ...): the run's length is still
    # its last epoch, 7 -- not 1 because the second row repeats epoch 0; (1 - t/10)^2 -> 10, 2
    t = np.repeat(np.arange(8.0), 4)
    fit = _smooth_families(t, (1 - t / 10) ** 2)
    assert fit.family == "polynomial"
    assert fit.params["total_epochs"] == pytest.approx(10.0, abs=0.1)
    assert fit.params["power"] == pytest.approx(2.0, abs=0.02)


def test_linear_decay_to_exactly_zero():
    # 1 - t/10 on t = 0..10 ends at exactly 0: the line is found (end 10); the log-based
    # families (exponential, polynomial) are not tried on a series with a zero in it
    t = np.arange(11.0)
    fit = _smooth_families(t, 1 - t / 10)
    assert fit.family == "linear" and fit.params["end_epoch"] == pytest.approx(10.0)


def test_drop_to_zero_after_one_step_fits_no_family():
    # 1, 0, 0, 0, 0: no line or cosine comes within the 0.03 limit, and the log-based families
    # are not tried with zeros in the series (a polynomial of infinite power would "fit" it)
    assert _smooth_families(np.arange(5.0), np.array([1.0, 0.0, 0.0, 0.0, 0.0])) is None


def test_epochs_that_never_advance_fit_no_family():
    # a decaying LR logged 10 times at the same epoch: no time axis, no family -> "unknown"
    fit = fit_schedule(np.zeros(10), 0.1 * 0.9 ** np.arange(10))
    assert fit.family == "unknown"


def test_analyse_lr_takes_no_lr_from_far_outside_the_logged_span():
    # the LR logged on the first three rows only (a callback that stopped writing it): the LR at
    # a best epoch 15 is unknown, not the 0.1 of epoch 2; a row next to the logged span still
    # takes its neighbour's, and one inside the span its nearest
    lr = [0.1, 0.1, 0.1] + [np.nan] * 17
    info, _ = analyse_lr(ctx_for(lr), best_at(15.0), 15.0)
    assert info.at_best is None and info.at_best_frac is None
    assert info.at_onset is None
    assert analyse_lr(ctx_for(lr), best_at(3.0), None)[0].at_best == pytest.approx(0.1)
    lr = [0.1] + [np.nan] * 8 + [0.05]
    assert analyse_lr(ctx_for(lr), best_at(7.0), None)[0].at_best == pytest.approx(0.05)

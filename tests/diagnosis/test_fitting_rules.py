"""diagnosis/fitting.py's detectors at their thresholds, on hand-built curves.

Each curve here is given its smoothed trend and its noise directly (a ``Curve`` is plain data), so
every threshold is a number worked out by hand: ``tol = z * sqrt(2) * sigma_trend`` and the OLS
slope t = slope * sqrt(Sxx) / sigma (Sxx = k(k^2 - 1)/12 for k consecutive points). The smoothing
and noise estimation that produce these inputs from a log are tested in test_stats*; the
detectors on real runs in test_truth_corpus.py and test_by_hand.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from fitdoctor.diagnosis import fitting
from fitdoctor.diagnosis.types import Finding

from .handmade import TOL, Z, best_at, context, curve, sigma_for_t


# -- still improving: tail of max(5, n // 4) points, t > z, ending at its best ---------------------

RISE = 0.5 + 0.01 * np.arange(20)          # n 20: the tail is 5 points, Sxx 10


@pytest.mark.parametrize("t, found", [(2.0, True), (Z + 1e-6, True), (1.9, False)])
def test_still_improving_needs_t_above_z(t, found):
    f = fitting.still_improving(context(curve("val_acc", RISE, sigma=sigma_for_t(0.01, 5, t))))
    assert (f is not None) is found
    if found:
        assert f.evidence["t"] == pytest.approx(t)
        assert f.evidence["k"] == 5 and f.evidence["slope"] == pytest.approx(0.01)
        assert "kind" not in f.evidence


def test_still_improving_tail_is_a_quarter_of_a_long_run():
    g = 0.5 + 0.001 * np.arange(40)        # tail 10 points: Sxx 82.5
    f = fitting.still_improving(context(curve("val_acc", g, sigma=sigma_for_t(0.001, 10, 3.0))))
    assert f.evidence["k"] == 10 and f.evidence["t"] == pytest.approx(3.0)


@pytest.mark.parametrize("slope, found", [(0.0011, True), (0.0009, False)])
def test_still_improving_needs_a_rise_worth_a_point(slope, found):
    """Significant (t 3 over the 10-point tail of 40) is not enough for an accuracy: kept for
    another 10 epochs the slope must gain a point (fitting.MIN_RISE). A loss has no such scale:
    its significant fall is enough (mnist/overfit_long/s0: val_acc 0.953 -> 0.957 over the last
    30 of 60 epochs, t 4.1, was called still improving; the test accuracy stayed at 0.92)."""
    g = 0.5 + slope * np.arange(40)
    f = fitting.still_improving(context(curve("val_acc", g, sigma=sigma_for_t(slope, 10, 3.0))))
    assert (f is not None) is found
    loss = curve("val_loss", g, mode="min", sigma=sigma_for_t(slope, 10, 3.0))
    assert fitting.still_improving(context(loss)) is not None


def test_still_improving_slope_is_per_epoch():
    f = fitting.still_improving(context(curve("val_acc", RISE, sigma=0.001),
                                        epochs=2.0 * np.arange(20)))
    assert f.evidence["slope"] == pytest.approx(0.005)


@pytest.mark.parametrize("above, found", [(0.9 * TOL, True), (1.1 * TOL, False)])
def test_still_improving_must_end_within_noise_of_its_best(above, found):
    trend = RISE.copy()
    trend[6] = trend[-1] + above                 # an earlier smoothed level this much higher
    f = fitting.still_improving(context(curve("val_acc", RISE, trend=trend, sigma=0.001)))
    assert (f is not None) is found


def test_still_improving_after_a_restart_must_end_above_the_earlier_cycles():
    lr = [0.1] * 10 + [0.01] * 5 + [0.1] * 5            # restart at index 15
    trend = RISE.copy()
    f = fitting.still_improving(context(curve("val_acc", RISE, trend=trend, sigma=0.001), lr=lr))
    assert f is not None                                 # 0.69 is far above 0.64 before it
    trend[3] = trend[-1] - 0.5 * TOL                     # an earlier cycle as high, within noise
    assert fitting.still_improving(context(curve("val_acc", RISE, trend=trend, sigma=0.001),
                                           lr=lr)) is None
    # the same level reached before a warmup-like rise (no fall below the running peak first)
    lr = [0.01] * 15 + [0.1] * 5
    assert fitting.still_improving(context(curve("val_acc", RISE, trend=trend, sigma=0.001),
                                           lr=lr)) is not None


@pytest.mark.parametrize("lr_end, ended", [(0.0009, True), (0.001, False), (0.05, False)])
def test_still_improving_as_the_schedule_ended_below_1_percent_of_the_peak(lr_end, ended):
    lr = np.r_[np.linspace(0.1, lr_end, 19), lr_end]
    f = fitting.still_improving(context(curve("val_acc", RISE, sigma=0.001), lr=lr))
    assert (f.evidence.get("kind") == "schedule_ended") is ended
    if ended:
        assert f.evidence["lr_end"] == lr_end and f.evidence["lr_peak"] == 0.1
        assert f.evidence["lr_end_frac"] == pytest.approx(lr_end / 0.1)
        assert "schedule" in f.message


# -- underfitting: a training proportion below 0.9 and still rising ------------------------------

@pytest.mark.parametrize("end, t, found", [
    (0.69, 2.5, True), (0.8999, 2.5, True), (0.9, 2.5, False), (0.69, 1.9, False)])
def test_underfitting(end, t, found):
    g = end - 0.01 * np.arange(20)[::-1]
    tr = curve("train_acc", g, sigma=sigma_for_t(0.01, 5, t))
    f = fitting.underfitting(context(curve("val_acc", g), train=tr))
    assert (f is not None) is found
    if found:
        assert f.evidence["train_end"] == pytest.approx(end)
        assert f.evidence["train_col"] == "train_acc" and f.evidence["t"] == pytest.approx(t)
        assert "kind" not in f.evidence


def test_underfitting_needs_a_training_proportion():
    g = 0.69 - 0.01 * np.arange(20)[::-1]
    for tr in (curve("train_loss", g), curve("train_acc", g, mode="min"), None):
        assert fitting.underfitting(context(curve("val_acc", g), train=tr)) is None


def test_underfitting_beside_overfitting_names_both():
    g = 0.69 - 0.01 * np.arange(20)[::-1]
    over = Finding("overfitting", "warning", "", {"onset": 9.0})
    f = fitting.underfitting(context(curve("val_acc", g), train=curve("train_acc", g, sigma=0.001)),
                             over)
    assert f.evidence["kind"] == "with_overfitting"
    assert f.evidence["onset"] == 9.0 and "stopped" not in f.evidence
    assert "validation stopped improving at epoch 9" in f.message


# -- plateau: at least 8 points, a flat tail (|t| <= z) for validation and training ---------------

LEARNED_THEN_FLAT = np.r_[0.5, 0.6, 0.7, 0.75, np.full(6, 0.8)]       # n 10: tail of 5


def test_plateau_found_with_its_tail():
    f = fitting.plateau(context(curve("val_acc", LEARNED_THEN_FLAT)))
    assert f.evidence == {"start": 5.0, "end": 9.0, "k": 5}


@pytest.mark.parametrize("lr, lowered", [
    ([1e-3] * 10, None),                                 # constant: lowering it is the advice
    ([1e-3] * 5 + [1e-3, 1e-3, 5e-4, 5e-4, 5e-4], True),  # halved inside the plateau
    ([1e-3] * 5 + [1e-3, 1e-3, 6e-4, 6e-4, 6e-4], None),  # 0.6x: not yet
    ([1e-2] * 5 + [1e-3] * 5, True),                     # flat, but a tenth of the peak
    ([1e-2] * 5 + [1.1e-3] * 5, None),                   # flat at 11 % of the peak
    ([1e-2] * 5 + [1e-5, 3e-5, 1e-4, 3e-4, 9e-4], None),  # rising again (a restart): not lowered
])
def test_plateau_says_whether_the_lr_was_already_lowered_there(lr, lowered):
    f = fitting.plateau(context(curve("val_acc", LEARNED_THEN_FLAT), lr=lr))
    assert f.evidence["lr_lowered"] is lowered
    assert (f.evidence["lr_from"], f.evidence["lr_to"]) == (lr[5], lr[9])


def test_plateau_without_a_logged_lr_says_nothing_of_it():
    lr = [np.nan] * 9 + [1e-3]                           # one logged value in the tail
    for ctx in (context(curve("val_acc", LEARNED_THEN_FLAT)),
                context(curve("val_acc", LEARNED_THEN_FLAT), lr=lr)):
        assert fitting.plateau(ctx).evidence == {"start": 5.0, "end": 9.0, "k": 5}


def test_plateau_needs_eight_points():
    g = np.r_[0.5, 0.7, np.full(6, 0.8)]
    assert fitting.plateau(context(curve("val_acc", g))) is not None
    assert fitting.plateau(context(curve("val_acc", g[1:]))) is None


@pytest.mark.parametrize("t, flat", [(Z - 1e-6, True), (Z + 1e-3, False), (-(Z + 1e-3), False)])
def test_plateau_tail_slope_within_z_both_ways(t, flat):
    g = LEARNED_THEN_FLAT.copy()
    g[-5:] = 0.8 + 0.01 * np.arange(5) * np.sign(t)
    v = curve("val_acc", g, sigma=sigma_for_t(0.01, 5, abs(t)))
    assert (fitting.plateau(context(v)) is not None) is flat


def test_plateau_not_while_training_still_moves():
    v = curve("val_acc", LEARNED_THEN_FLAT)
    moving = curve("train_loss", -np.linspace(1.0, 0.1, 10), mode="min", sigma=0.01)
    assert fitting.plateau(context(v, train_loss=moving)) is None
    still = curve("train_loss", -np.r_[np.linspace(1.0, 0.2, 5), np.full(5, 0.2)], mode="min")
    assert fitting.plateau(context(v, train_loss=still)) is not None


def test_plateau_only_after_learning():
    flat = np.full(10, 0.8)
    trend = flat.copy()
    trend[4:] += TOL                       # improved by exactly the tolerance: not beyond it
    assert fitting.plateau(context(curve("val_acc", flat, trend=trend))) is None
    trend[4:] += 0.001
    assert fitting.plateau(context(curve("val_acc", flat, trend=trend))) is not None


# -- noisy validation: noise above 10 % of the range the trend covers ----------------------------

@pytest.mark.parametrize("sigma, found", [(0.03, False), (0.0301, True)])
def test_noisy_validation_ratio(sigma, found):
    v = curve("val_acc", np.linspace(0.5, 0.8, 10), sigma=sigma)      # spread 0.3
    f = fitting.noisy_validation(context(v, val_size=400), best_at(9, sampling_se=0.02))
    assert (f is not None) is found
    if found:
        assert f.evidence["ratio"] == pytest.approx(sigma / 0.3)
        assert f.evidence["mdd"] == pytest.approx(Z * np.sqrt(2) * sigma)
        assert f.evidence["sampling"] == 0.02 and f.evidence["val_size"] == 400
        assert f.evidence["sigma"] == sigma


@pytest.mark.parametrize("g", [np.full(10, 0.8), np.linspace(0.5, 0.51, 10)])
def test_noisy_validation_ratio_is_capped(g):
    f = fitting.noisy_validation(context(curve("val_acc", g, sigma=0.5)), best_at(9))
    assert f.evidence["ratio"] == 9.99


# -- spikes: |second difference| beyond spike_z noise, the middle of the three -----------------

@pytest.mark.parametrize("height, found", [(0.05, True), (0.048, False)])
def test_spike_score_against_the_noise(height, found):
    # a spike of height A on a line: second differences A, -2A, A; its score 2A / (sqrt(6) sigma)
    g = np.linspace(0.5, 0.7, 20)
    g[10] += height
    idx, scores = fitting._spikes(g, 0.01, 4.0)
    assert list(idx) == ([10] if found else [])
    if found:
        assert scores[0] == pytest.approx(2 * height / (np.sqrt(6) * 0.01))


def test_spike_noise_is_the_local_second_difference_spread_where_it_is_larger():
    # the same spike next to a noisy stretch: judged against the local noise, not the sigma
    rng = np.random.default_rng(0)
    g = np.linspace(0.5, 0.7, 20) + rng.normal(0, 0.05, 20)
    g[10] += 0.05
    assert 10 not in fitting._spikes(g, 0.01, 4.0)[0]


def test_instability_lists_spikes_after_the_first_two_epochs():
    g = np.linspace(0.5, 0.7, 20)
    g[[1, 8, 14]] += 0.2                 # epoch 1 moves too fast to judge
    f, = fitting.instability(context(curve("val_acc", g, sigma=0.01)))
    assert f.evidence["column"] == "val_acc"
    assert f.evidence["epoch_list"] == [8.0, 14.0] and f.evidence["epochs"] == "8, 14"
    assert f.evidence["max_z"] == pytest.approx(0.4 / (np.sqrt(6) * 0.01))


def test_instability_needs_eight_points_and_reads_a_loss_on_a_log_scale():
    g = np.linspace(0.5, 0.7, 7)
    g[4] += 0.3
    assert fitting.instability(context(curve("val_acc", g, sigma=0.01))) == []
    # a loss falling 2.0 -> 0.02 geometrically is a straight line on a log scale: no spike there,
    # though its linear second differences are large at the start
    loss = 2.0 * 0.01 ** (np.arange(20) / 19)
    tl = curve("train_loss", -loss, mode="min", sigma=1e-4)
    assert fitting.instability(context(curve("val_acc", np.linspace(0.5, 0.7, 20)),
                                       train_loss=tl)) == []


# -- non-finite values: the earliest one --------------------------------------------------------

def test_non_finite_names_the_earliest_loss_or_metric():
    v = curve("val_acc", np.linspace(0.5, 0.7, 10))
    assert fitting.non_finite(context(v)) is None
    f = fitting.non_finite(context(v, non_finite={"val_loss": 5.0, "train_loss": 3.0,
                                                  "lr": 1.0, "train_grad_norm": 2.0}))
    assert f.severity == "critical"
    assert f.evidence == {"column": "train_loss", "epoch": 3.0,
                          "columns": ["train_loss", "val_loss"]}
    # an infinite gradient norm (a skipped mixed-precision step), an LR, a loss scale or a
    # timer is no breakdown of the model
    for col in ("train_grad_norm", "lr", "loss_scale", "train_time", "memory"):
        assert fitting.non_finite(context(v, non_finite={col: 2.0})) is None


# -- metric disagreement: val loss bottoms out before the accuracy peaks -----------------------

def _disagree(acc_peak=12, loss_low=5, gain=0.05, rise=0.05, mode="max", loss_name="val_loss"):
    n = 20
    acc = np.full(n, 0.7)
    acc[acc_peak:] = 0.7 + gain
    loss = np.full(n, -0.5 - rise)                 # oriented: higher is lower loss
    loss[loss_low] = -0.5
    loss[loss_low + 1:] = -0.5 - rise
    v = curve("val_acc", acc, mode=mode)
    vl = curve(loss_name, loss, mode="min")
    return fitting.metric_disagreement(context(v, val_loss=vl))


def test_metric_disagreement():
    f = _disagree()
    assert f.evidence["loss_epoch"] == 5.0 and f.evidence["acc_epoch"] == 12.0
    assert f.evidence["gain"] == pytest.approx(0.05) and f.evidence["loss_rise"] == pytest.approx(0.05)
    assert f.evidence["monitor"] == "val_acc"


@pytest.mark.parametrize("kw", [
    {"acc_peak": 5, "loss_low": 5},          # both at the same epoch
    {"acc_peak": 4, "loss_low": 5},          # the accuracy peaked first
    {"gain": TOL},                           # the accuracy gained only the tolerance
    {"rise": TOL},                           # the loss rose only the tolerance
    {"mode": "min"},                         # a monitor to minimise is a loss itself
    {"loss_name": "val_acc"},                # the same column
])
def test_metric_disagreement_needs_all_of_it(kw):
    assert _disagree(**kw) is None


# -- overfitting in the monitored metric: the gap path ------------------------------------------

def _gap_run(train_slope=0.003, val_trend_peak=8, val_g=None, train_end_gain=None, best=5,
             tied=(), val_decline=0.0, val_loss=None):
    """Validation reaches 0.8 at index 5 and stays there (its trend bumps to 0.805 at
    ``val_trend_peak``); training 0.85 at index 5 then up ``train_slope`` a point."""
    n = 20
    v = np.r_[0.4, 0.5, 0.6, 0.7, 0.75, np.full(n - 5, 0.8)]
    v_trend = v.copy()
    if val_trend_peak is not None:
        v_trend[val_trend_peak] = 0.805
    if val_decline:
        v_trend[-4:] -= val_decline
    t = np.r_[np.linspace(0.5, 0.85, 6), 0.85 + train_slope * np.arange(1, n - 5)]
    val = curve("val_acc", v if val_g is None else val_g, trend=v_trend)
    train = curve("train_acc", t)
    gap = curve("gap", t - v, trend=t - v_trend)
    vl = None if val_loss is None else curve("val_loss", -np.asarray(val_loss), mode="min",
                                              raw=np.asarray(val_loss))
    ctx = context(val, train=train, gap=gap, val_loss=vl)
    return fitting.overfitting(ctx, best_at(best, tied=tied))


def _val_loss_after_5(end):
    """1.0 down to 0.5 at index 5 (and the point after it), then in a straight line to ``end``
    at index 15, held there for the last five points: its lowest level after the reach is 0.5,
    its level at the end (the median of the last five) ``end``."""
    return np.r_[np.linspace(1.0, 0.5, 6), np.linspace(0.5, end, 10), np.full(4, end)]


@pytest.mark.parametrize("end, decline, judged", [
    (0.5 - 2 * TOL, 0.0, False),     # validation loss kept falling: the gap alone is not harm
    (0.5 + 0.9 * TOL, 0.0, False),   # it rose, within noise
    (0.5 + 1.1 * TOL, 0.0, True),    # it rose beyond noise above its lowest level after the reach
    (0.5 - 2 * TOL, 1.1 * TOL, False),  # the monitor fell beyond noise, its loss kept falling
    (0.5 + 0.9 * TOL, 1.1 * TOL, False),  # ... and its loss held within noise of its lowest
    (0.5 + 1.1 * TOL, 1.1 * TOL, True),   # the monitor fell and its loss rose beyond noise
    ("dip", 0.0, False),             # lower before the reach (0.45 at 1-3), falling after it
])
def test_a_growing_gap_needs_validation_to_get_worse(end, decline, judged):
    """The same growing gap (the run of test_gap_onset_is_where_validation_stopped); with a
    validation loss logged beside the accuracy, validation must have got worse too: that loss
    rose beyond noise. Only the rise after the reach counts: a lower loss before it is no
    baseline. An accuracy that falls while its loss holds is not enough (it once was: two real
    runs at an LR near 0, whose test accuracy held, were called overfitting; without a
    validation loss the gap alone decides, test_gap_onset_is_where_validation_stopped)."""
    if end == "dip":
        vl = _val_loss_after_5(0.5 - 2 * TOL)
        vl[1:4] = 0.45
    else:
        vl = _val_loss_after_5(end)
    out, findings = _gap_run(val_loss=vl, val_decline=decline)
    assert out.detected is judged
    assert [f.code for f in findings] == (["overfitting"] if judged else ["stable_gap"])
    if not judged:         # the gap did grow: the sentence says validation held, with the loss
        f = findings[0]
        assert f.evidence["kind"] == "val_holds"
        assert f.evidence["loss_end"] - f.evidence["loss_low"] <= TOL
        assert f.message.startswith("The smoothed train-val gap grew to ")
        assert "validation did not get worse" in f.message


def test_gap_onset_is_where_validation_stopped():
    # the gap passes the tolerance 5 points after index 5 (0.003 x 5 > 0.01386): index 10; the
    # smoothed validation peaked at 8 (still within noise). Validation stopped improving at its
    # reach, 5, which is the best epoch: overfitting from 5, wherever the gap became visible
    out, (f,) = _gap_run()
    assert out.detected and out.reach_epoch == 5.0 and out.onset_epoch == 5.0
    assert f.code == "overfitting" and f.severity == "warning"
    assert (f.evidence["onset"], f.evidence["reach"]) == (5.0, 5.0)
    assert f.evidence["gap_growth"] == pytest.approx(f.evidence["gap_end"] - f.evidence["gap_start"])
    assert f.evidence["train_column"] == "train_acc" and f.evidence["decline"] is None
    assert out.gap_trend.t > Z
    out, _ = _gap_run(val_trend_peak=15)
    assert out.onset_epoch == 5.0


def test_gap_must_grow_twice_the_tolerance():
    # growth by the end: 14 x slope; needed 2 x 0.01386 = 0.0277 (a quarter of the gap at the
    # reach is 0.0125, smaller)
    out, findings = _gap_run(train_slope=0.0277 / 14 * 1.02)
    assert out.detected
    out, findings = _gap_run(train_slope=0.0277 / 14 * 0.98)
    assert not out.detected and [f.code for f in findings] == ["stable_gap"]
    assert findings[0].evidence["reach"] == 5.0
    assert "kind" not in findings[0].evidence and "not growing" in findings[0].message


def test_a_severe_decline_is_critical():
    out, (f,) = _gap_run(val_decline=1.5 * TOL)
    assert f.severity == "critical" and f.evidence["decline"] == pytest.approx(0.005 + 1.5 * TOL)


def test_no_overfitting_while_validation_still_rises_after_its_reach():
    g = np.r_[0.4, 0.5, 0.6, 0.7, 0.75, 0.8 + 0.001 * np.arange(15)]   # +0.001 a point, sigma 0.01
    # t = 0.001 * sqrt(280) / 0.01 = 1.67 > 1: may still be rising
    out, findings = _gap_run(val_g=g)
    assert not out.detected and findings == []


def test_no_overfitting_with_too_few_points_after_the_reach():
    # at least max(5, 15 % of n) points after the reach: reach 15 of 20 leaves 4
    t = np.linspace(0.5, 1.0, 20)
    for reach, judged in ((15, False), (14, True)):
        v = np.r_[np.linspace(0.4, 0.8, reach + 1), np.full(19 - reach, 0.8)]
        ctx = context(curve("val_acc", v), train=curve("train_acc", t), gap=curve("gap", t - v))
        out, findings = fitting.overfitting(ctx, best_at(reach))
        assert out.reach_epoch == reach
        assert out.detected is judged and (findings != []) is judged


def test_without_a_training_metric_validation_must_fall():
    # training loss only (no same-metric gap): overfitting where the smoothed validation falls
    # beyond noise below its peak
    n = 20
    v = np.r_[0.4, 0.5, 0.6, 0.7, 0.75, np.full(n - 5, 0.8)]
    trend = v.copy()
    trend[12:] = 0.8 - 1.2 * TOL
    tl = curve("train_loss", -np.linspace(1.0, 0.1, n), mode="min")
    out, (f,) = fitting.overfitting(context(curve("val_acc", v, trend=trend), train_loss=tl),
                                    best_at(5))
    # overfitting (validation fell from index 12), from where validation stopped: 5
    assert out.onset_epoch == 5.0 and f.evidence["train_column"] == "train_loss"
    assert f.evidence["gap_growth"] is None and f.evidence["gap_start"] is None
    trend[12:] = 0.8 - 0.9 * TOL
    out, _ = fitting.overfitting(context(curve("val_acc", v, trend=trend), train_loss=tl),
                                 best_at(5))
    assert not out.detected


# -- overfitting read off the losses (accuracy levelled off, val loss up >= 20 %) -----------------

def _loss_run(end=0.6, bottom=6, train_fall=True, acc_tail_t=0.0, raw_zero=False, mode="max",
              acc_tail_slope=0.01):
    """Validation loss 1.0 down to 0.5 at ``bottom`` (and the point after it), up to ``end`` by
    index 15 and held there
    for the last five points (the end level is the median of the last quarter, 5 points);
    training loss falling 1.0 -> 0.1 (``train_fall`` "little": 1.0 -> 0.7, or False: flat);
    accuracy levelled at 0.8."""
    n = 20
    vl = np.empty(n)
    vl[:bottom + 1] = np.linspace(1.0, 0.5, bottom + 1)
    top = max(bottom + 2, n - 5)
    vl[bottom + 1:top + 1] = np.linspace(0.5, end, top - bottom)
    vl[top:] = end
    if raw_zero:
        vl[0] = 0.0
    tl = (np.linspace(1.0, 0.7, n) if train_fall == "little"
          else np.linspace(1.0, 0.1, n) if train_fall else np.full(n, 0.3))
    acc = np.r_[0.4, 0.5, 0.6, 0.7, 0.75, np.full(n - 5, 0.8)]
    if acc_tail_t:
        acc[-5:] = 0.8 + acc_tail_slope * np.arange(5)
    sigma = sigma_for_t(acc_tail_slope, 5, acc_tail_t) if acc_tail_t else 0.01
    v = curve("val_acc", acc, mode=mode, sigma=sigma, trend=np.r_[acc[:5], np.full(n - 5, 0.8)])
    ctx = context(v, train_loss=curve("train_loss", -tl, mode="min", raw=tl),
                  val_loss=curve("val_loss", -vl, mode="min", raw=vl))
    return ctx, vl, tl


def test_loss_rise_evidence():
    ctx, vl, tl = _loss_run()
    out, (f,) = fitting.overfitting(ctx, best_at(5))
    # running median of 3 (n // 20 = 1 on each side): the bottom at 6; the level at the end the
    # median of the last 5 points (0.6 each), the training loss's the median of its last 5: tl[17]
    assert f.evidence["kind"] == "loss" and f.evidence["loss_epoch"] == 6.0
    assert f.evidence["loss_min"] == 0.5 and f.evidence["loss_end"] == pytest.approx(0.6)
    assert f.evidence["loss_rise"] == pytest.approx(0.2)
    assert f.evidence["train_loss_from"] == tl[6] and f.evidence["train_loss_to"] == tl[17]
    assert out.onset_epoch == 5.0 == f.evidence["onset"]     # where the monitor stopped
    assert "loss" in f.message


@pytest.mark.parametrize("kw", [
    {"end": 0.599},                     # 19.8 % above the minimum
    {"bottom": 16},                     # 3 points after the minimum (at least 4)
    {"train_fall": False},              # training loss flat: not memorising
    {"train_fall": "little"},           # 0.9053 at the bottom (6) -> 0.7316 (median of the last
                                        # five, tl[17]): 19.2 % down, beyond noise, under a fifth
    {"acc_tail_t": 2.5},                # the monitor still rises at the end
    {"raw_zero": True},                 # a zero loss cannot be a ratio's denominator
    {"mode": "min"},                    # the monitor is itself a loss
])
def test_loss_rise_needs_all_of_it(kw):
    ctx, _, _ = _loss_run(**kw)
    assert fitting._loss_rise(ctx) is None


@pytest.mark.parametrize("slope, vetoed", [(0.0021, True), (0.0019, False)])
def test_only_a_rise_worth_a_point_vetoes_the_loss_path(slope, vetoed):
    """The monitor's rise at the end vetoes overfitting read off the losses only when it would
    gain a point over another tail (5 points here), as still_improving asks: the same rule."""
    ctx, _, _ = _loss_run(acc_tail_t=2.5, acc_tail_slope=slope)
    assert (fitting._loss_rise(ctx) is None) is vetoed


def test_loss_rise_with_the_least_room_after_the_minimum():
    ctx, _, _ = _loss_run(bottom=15)              # 4 points after it
    assert fitting._loss_rise(ctx)["loss_epoch"] == 15.0


# -- where the report says validation stopped improving (fitting._stopped) -----------------------

@pytest.mark.parametrize("best, tied, expected", [
    (5, (), (5, False)),                  # no tie: the best epoch itself
    (7, (5,), (5, True)),                 # a tie before the best: the first such
    (8, (6, 7), (6, True)),
    (12, (3, 14), (3, True)),             # ties on both sides: the first of all
    (12, (13, 15), (12, False)),          # ties only after the best: the best
    (0, (1,), (0, False)),
])
def test_stopped_is_the_first_epoch_at_the_best_level(best, tied, expected):
    ctx = SimpleNamespace(epochs=np.arange(20, dtype=float))
    assert fitting._stopped(ctx, best_at(best, tied=tied)) == expected


def test_stopped_reads_epoch_numbers_not_indices():
    # epochs logged from 1 (or every other epoch): ties are epoch numbers, the result an index
    ctx = SimpleNamespace(epochs=np.arange(1, 40, 2, dtype=float))
    assert fitting._stopped(ctx, best_at(11, tied=(7, 15))) == (3, True)


# -- divergence: the loss climbs back (on a log scale) x2 and a quarter of the way up ----------

def _diverging(low=0.1, end=0.25, start=2.0, n=20, low_at=8):
    loss = np.r_[np.geomspace(start, low, low_at + 1), np.geomspace(low, end, n - low_at)[1:]]
    return context(curve("val_acc", np.linspace(0.5, 0.7, n)),
                   train_loss=curve("train_loss", -loss, mode="min", raw=loss))


@pytest.mark.parametrize("end, found", [
    (0.6, True),      # x6 and (0.6 - 0.1) / (2.0 - 0.1) = 0.26 of the way back
    (0.45, False),    # x4.5 but 0.18 of the way back: noise at the floor
])
def test_divergence_climb(end, found):
    f = fitting.divergence(_diverging(end=end))
    assert (f is not None) is found
    if found:
        assert f.severity == "critical" and f.evidence["column"] == "train_loss"
        assert 8.0 < f.evidence["epoch"] < 19.0 and f.evidence["end"] == pytest.approx(end)


@pytest.mark.parametrize("end, found", [(0.19, False), (0.22, True)])
def test_divergence_factor_two(end, found):
    # start 0.3: a quarter of the way back is 0.15; the factor from 0.1 decides
    assert (fitting.divergence(_diverging(start=0.3, end=end)) is not None) is found


# -- divergence on a loss read on its own scale (one that touches 0 has no log) ----------------

def _touching_zero(end=0.5, low_at=8, n=20, val=None):
    """A loss 1.0 -> 0.0 at ``low_at``, then linearly back up to ``end``: hand-built, so its trend
    is itself and tol 0.01386."""
    raw = np.r_[np.linspace(1.0, 0.0, low_at + 1), np.linspace(0.0, end, n - low_at)[1:]]
    tl = curve("train_loss", -raw, mode="min", raw=raw)
    v = curve("val_acc", np.full(n, 0.8) if val is None else val)
    return context(v, train_loss=tl), raw


def test_divergence_evidence_on_the_loss_scale():
    ctx, raw = _touching_zero()
    f = fitting.divergence(ctx)
    # onset: the first point after the minimum more than tol above it (0.05 at index 9)
    assert f.evidence == {"column": "train_loss", "epoch": 9.0, "best": 0.0, "end": 0.5,
                          "collapse": None}
    assert f.severity == "critical" and "9" in f.message


@pytest.mark.parametrize("end, found", [(0.25, True), (0.2499, False)])
def test_divergence_climbs_back_a_quarter_at_equality(end, found):
    # (0 - -end) / (0 - -1.0): a quarter of the way back to the start
    assert (fitting.divergence(_touching_zero(end=end)[0]) is not None) is found


@pytest.mark.parametrize("low_at, found", [(16, True), (17, False)])
def test_divergence_needs_its_minimum_before_the_last_three_points(low_at, found):
    assert (fitting.divergence(_touching_zero(low_at=low_at, end=0.9)[0]) is not None) is found


@pytest.mark.parametrize("drop, collapse", [(1.1 * TOL, True), (TOL, None)])
def test_divergence_says_when_validation_fell_too(drop, collapse):
    val = np.r_[np.full(15, 0.8), np.full(5, 0.8 - drop)]
    f = fitting.divergence(_touching_zero(val=val)[0])
    assert f.evidence["collapse"] is collapse


def test_divergence_of_a_validation_loss_when_there_is_no_training_loss():
    raw = np.r_[np.linspace(1.0, 0.0, 9), np.linspace(0.0, 0.5, 12)[1:]]
    vl = curve("val_loss", -raw, mode="min", raw=raw)
    f = fitting.divergence(context(vl))
    assert f.evidence["column"] == "val_loss" and f.evidence["collapse"] is None
    # an accuracy is not a loss: nothing to diverge without a training loss
    assert fitting.divergence(context(curve("val_acc", -raw))) is None


# -- the overfitting block and the finding's evidence, whole ---------------------------------

def test_overfitting_block_and_evidence_in_full():
    out, (f,) = _gap_run(best=7, tied=(5,))
    n = 20
    v = np.r_[0.4, 0.5, 0.6, 0.7, 0.75, np.full(n - 5, 0.8)]
    t = np.r_[np.linspace(0.5, 0.85, 6), 0.85 + 0.003 * np.arange(1, n - 5)]
    v_trend = v.copy()
    v_trend[8] = 0.805
    gap_trend = t - v_trend
    assert set(out.to_dict()) == {"detected", "onset_epoch", "reach_epoch", "gap_at_best", "gap_at_end",
                        "gap_trend"}
    assert out.gap_at_best == pytest.approx(t[7] - v[7])       # raw gap at the best epoch
    assert out.gap_at_end == pytest.approx(t[-1] - v[-1])
    ev = f.evidence
    assert ev["onset"] == 5.0 and ev["best_tied"] is True
    assert (ev["best_epoch"], ev["best_value"], ev["monitor"]) == (7.0, 0.8, "val_acc")
    assert ev["train_from"] == pytest.approx(t[5]) and ev["train_to"] == pytest.approx(t[-1])
    assert ev["gap_start"] == pytest.approx(gap_trend[5])
    assert ev["gap_end"] == pytest.approx(gap_trend[-1])
    assert ev["gap_growth"] == pytest.approx(gap_trend[-1] - gap_trend[5])
    assert "kind" not in ev
    assert "within noise" in f.message


def test_overfitting_from_the_best_epoch_itself_says_no_tie():
    out, (f,) = _gap_run(best=15, tied=(16,))
    assert out.onset_epoch == 15.0 and f.evidence["onset"] == 15.0
    assert f.evidence["best_tied"] is None and "within noise" not in f.message


def test_no_validation_noise_no_overfitting_block_beyond_the_gap():
    v = curve("val_acc", np.linspace(0.5, 0.8, 20), sigma=float("nan"))
    t = curve("train_acc", np.linspace(0.5, 1.0, 20))
    gap = curve("gap", t.g - v.g)
    out, findings = fitting.overfitting(context(v, train=t, gap=gap), best_at(19))
    assert findings == [] and out.reach_epoch is None and not out.detected
    assert out.gap_at_best == pytest.approx(0.2) and out.gap_at_end == pytest.approx(0.2)

"""no_learning's parts on hand-built curves (handmade.py): where the run is split, the flatness
margin max(2 points, 2 sigma) at equality, "not rising materially", the collapse's margins, which
accuracy-like curve is read, the constant-prediction share, and the LR ranges at their ends."""

from __future__ import annotations

import numpy as np
import pytest

from fitdoctor.diagnosis import learning
from fitdoctor.diagnosis.learning import _cause, _flat_accuracy, no_learning

from .handmade import context, curve

S6 = 2.0 ** -6                # a noise whose multiples are exact in binary: 2 sigma = 0.03125


def test_the_split_reads_the_first_quarter_and_the_rest():
    # 8 points, q = 2: early = median of points 0-2 (0.2), late = median of 3-7 (0.6)
    c = curve("train_acc", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], sigma=0.001)
    flat, early, late = _flat_accuracy(c, learning._split(8))
    assert (early, late) == (0.2, 0.6) and not flat
    assert learning._split(7) == 1 and learning._split(3) == 1 and learning._split(20) == 5


@pytest.mark.parametrize("late, flat", [
    (0.25 + 2 * S6, True),          # exactly the margin: flat
    (0.25 + 2 * S6 + 1e-9, False),  # beyond it
    (0.25 + 0.04, False),           # between 2 and 3 sigma: beyond
    (0.25 - 2 * S6, True),          # a fall of the margin: flat too
])
def test_flat_within_two_sigma_at_equality(late, flat):
    c = curve("train_acc", [0.25] * 3 + [late] * 5, sigma=S6)
    assert _flat_accuracy(c, 2)[0] is flat


def test_flat_margin_is_two_points_when_the_noise_is_smaller_or_unknown():
    for sigma in (0.001, float("nan")):
        c = curve("train_acc", [0.25] * 3 + [0.265] * 5, sigma=sigma)
        assert _flat_accuracy(c, 2)[0] is True
        c = curve("train_acc", [0.25] * 3 + [0.275] * 5, sigma=sigma)
        assert _flat_accuracy(c, 2)[0] is False


@pytest.mark.parametrize("early, late, flat", [(0.88, 0.89, True), (0.88, 0.9, False),
                                               (0.9, 0.89, False)])
def test_flat_only_below_0_9(early, late, flat):
    c = curve("train_acc", [early] * 3 + [late] * 5, sigma=S6)
    assert _flat_accuracy(c, 2)[0] is flat


@pytest.mark.parametrize("slope, flat", [(0.0013, True), (0.002, False)])
def test_a_material_rise_over_the_late_part_is_not_flat(slope, flat):
    # 20 points, q 5: the late 14 rise by slope a point. Their median moves 6.5 slopes (within
    # 2 points either way) but the rise over the late part is 14 slopes: 0.018 (not material)
    # or 0.028 (beyond the 2-point margin) with t far above 1.96
    g = np.r_[np.full(6, 0.3), 0.3 + slope * np.arange(14)]
    assert _flat_accuracy(curve("train_acc", g, sigma=0.001), 5)[0] is flat


def _stuck_loss(n=20):
    return curve("train_loss", -np.full(n, 2.3), mode="min", raw=np.full(n, 2.3))


def test_the_metric_read_is_the_training_accuracy_else_the_validation_accuracy():
    flat_val = curve("val_acc", np.full(20, 0.1))
    # no training accuracy: the validation accuracy is read
    f = no_learning(context(flat_val))
    assert f.evidence["metric"] == "val_acc" and f.evidence["nl_loss"] is None
    assert f.evidence["nl_metric"] is True and f.evidence["level"] == 0.1
    # a training curve that is not a proportion is not read
    f = no_learning(context(flat_val, train=curve("train_loss", np.full(20, 2.0))))
    assert f.evidence["metric"] == "val_acc"
    # a monitor to minimise is no accuracy: with no training loss either, nothing to judge
    val_loss = curve("val_loss", -np.full(20, 2.3), mode="min")
    assert no_learning(context(val_loss)) is None
    # ... with a training loss kept, the loss alone says it
    f = no_learning(context(val_loss, train_loss=_stuck_loss()))
    assert f.evidence["metric"] is None and f.evidence["level"] is None
    assert f.evidence["nl_loss"] is True and f.evidence["nl_metric"] is None
    assert f.evidence["loss_start"] == 2.3 == f.evidence["loss_end"]


@pytest.mark.parametrize("late_loss, found", [(1.9, True), (1.8999, False)])
def test_the_loss_keeps_95_percent_at_equality(late_loss, found):
    raw = np.r_[np.full(6, 2.0), np.full(14, late_loss)]      # 0.95 x 2.0 = 1.9
    tl = curve("train_loss", -raw, mode="min", raw=raw)
    assert (no_learning(context(curve("val_acc", np.full(20, 0.1)), train_loss=tl))
            is not None) is found


@pytest.mark.parametrize("finite, found", [(4, False), (5, True)])
def test_a_loss_needs_five_finite_points(finite, found):
    # 8 epochs (q 2), the loss logged on the first ``finite`` of them: 4 are too few to judge
    raw = np.full(8, np.nan)
    raw[:finite] = 2.3
    tl = curve("train_loss", -np.nan_to_num(raw), mode="min", raw=raw)
    f = no_learning(context(curve("val_acc", np.full(8, 0.1)), train_loss=tl))
    assert (f is not None) is found


@pytest.mark.parametrize("n_equal, constant", [(7, True), (6, False)])
def test_constant_predictions_are_half_the_late_values(n_equal, constant):
    # 20 points, late part 14: n_equal of them at 0.578, the median
    late = [0.578] * n_equal + [0.5, 0.51, 0.52] + [0.6, 0.61, 0.62, 0.63, 0.64][: 11 - n_equal]
    late = late + [0.578 + 0.001 * k for k in range(1, 15 - len(late))]
    vals = np.r_[np.full(6, 0.578), late]
    v = curve("val_acc", vals, sigma=0.5)        # noisy enough to be flat
    f = no_learning(context(v, train_loss=_stuck_loss()))
    assert float(np.median(vals[6:])) == 0.578
    assert (f.evidence["nl_constant"] is True) is constant


def _collapse(early, late, sigma=S6, val_spread=0.0):
    acc = np.r_[np.full(6, early), np.full(14, late)]
    val = np.full(20, 0.1) + val_spread * (np.arange(20) % 2)
    return no_learning(context(curve("val_acc", val, sigma=1.0), train=curve("train_acc", acc, sigma=sigma),
                               train_loss=_stuck_loss()))


@pytest.mark.parametrize("early, late, collapsed", [
    (0.5, 0.5 - 0.04, True),        # beyond 2 sigma (0.03125)
    (0.5, 0.5 - 0.03, None),        # within: flat, not a collapse
    (0.9, 0.8, "none"),             # from 0.9: not below the ceiling, no finding at all
    (0.89, 0.8, True),
])
def test_a_collapse_falls_beyond_the_margin_from_below_0_9(early, late, collapsed):
    f = _collapse(early, late)
    if collapsed == "none":
        assert f is None
        return
    assert f.evidence["nl_collapse"] is collapsed
    assert f.evidence["nl_metric"] is (None if collapsed else True)
    assert f.evidence["early_level"] == (early if collapsed else None)


def test_a_collapse_margin_is_two_points_without_a_noise_estimate():
    f = _collapse(0.5, 0.47, sigma=float("nan"))      # 3 points down, margin 2 points
    assert f.evidence["nl_collapse"] is True


def test_a_collapse_needs_validation_stuck_within_two_points():
    assert _collapse(0.5, 0.4, val_spread=0.04) is None      # validation moves 4 points
    assert _collapse(0.5, 0.4, val_spread=0.02).evidence["nl_collapse"] is True


# -- the likely cause: the LR against its optimizer's usual range ------------------------------

@pytest.mark.parametrize("config, lr, cause", [
    ({"learning_rate": 3e-3}, None, "unknown"),           # Adam's upper end itself
    ({"learning_rate": 3.01e-3}, None, "lr_high"),
    ({"lr": 1e-6}, None, "unknown"),                      # the lower end itself
    ({"lr": 0.99e-6}, None, "lr_low"),
    ({"training.optimizer": "SGD"}, [0.3, 0.1], "unknown"),    # SGD's upper end, logged
    ({"training.optimizer": "SGD"}, [0.31, np.nan], "lr_high"),
    ({"training.optimizer": "sgd"}, [1e-4], "unknown"),
    ({"training.optimizer": "sgd"}, [0.9e-4], "lr_low"),
    ({}, [0.1], "lr_high"),                               # no optimizer declared: Adam's range
    ({"learning_rate": 0.1}, [np.nan, np.nan], "lr_high"),   # no finite logged LR: the config's
    ({}, None, "unknown"),
])
def test_cause_from_the_lr_range(config, lr, cause):
    ctx = context(curve("val_acc", np.full(20, 0.1)), config=config,
                  lr=None if lr is None else lr)
    got, value = _cause(ctx)
    assert got == cause
    expected = (config.get("learning_rate") or config.get("lr")) if lr is None or \
        not np.isfinite(lr).any() else float(np.nanmax(lr))
    assert value == expected

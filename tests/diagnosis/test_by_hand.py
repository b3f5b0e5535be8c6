"""Small constructed histories whose answers are worked out by hand (in the docstrings), not by
re-running fitdoctor's own code: the level and interval of the best epoch, when a best is called
lucky, and where an overfitting onset may lie."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.history.core import make_history

Z95 = 1.959963984540054


def _history(**cols):
    n = len(next(iter(cols.values())))
    return make_history(pd.DataFrame({"epoch": np.arange(n, dtype=float), **cols}),
                        source="constructed", format="test")


# best 0.74 at epoch 5; its neighbours within 2 epochs are 0.70 0.72 [0.74] 0.73 0.72
NEAR_LEVEL = [0.50, 0.60, 0.66, 0.70, 0.72, 0.74, 0.73, 0.72, 0.71]
# its epoch-to-epoch noise, from the second differences -0.04 -0.02 -0.02 0 -0.03 0 0 (median
# -0.02): their absolute deviations 0 0 0.01 0.02 0.02 0.02 0.02, the central 80 % kept (the 6
# smallest of 7), a trimmed standard deviation rescaled to a normal's (the mean square of a
# normal cut to its central 6/7 is 0.533772 of its variance) and divided by sqrt(6):
#   sqrt((0.01^2 + 3 * 0.02^2) / 6 / 0.533772) / sqrt(6) = 0.008225
SIGMA = math.sqrt((0.01 ** 2 + 3 * 0.02 ** 2) / 6 / 0.533772) / math.sqrt(6)
# a plateau at 0.717/0.723 with a two-epoch bump 0.77, 0.765 at epochs 12-13 and a training loss
# that keeps falling (a run that learns); the bump's second differences are trimmed away
LUCKY = ([0.50, 0.60, 0.66, 0.70, 0.72] + [0.717, 0.723] * 3 + [0.717, 0.77, 0.765]
         + [0.723, 0.717] * 5)
LUCKY_LOSS = [round(math.exp(-t / 6), 4) for t in range(len(LUCKY))]


def test_best_level_and_interval_worked_out_by_hand():
    """catches: the epoch-noise error term dropped from the interval (``level_at``'s se replaced
    by 0), and a level that is not the local median (the best value itself, or a centre pulled
    toward it).

    By hand, NEAR_LEVEL with a validation set of N = 1000 (numbers for the calibrated constant
    EPOCH_SPREAD = 1.75; the test takes it from best.py, so a recalibration does not break it):
    - level: median(0.70, 0.72, 0.74, 0.73, 0.72) = 0.72 (level window 2 epochs each side), below
      the best value seen, 0.74;
    - epoch-noise error: sigma * sqrt(EPOCH_SPREAD^2 + 1.57/5) = 0.008225 * 1.83753 = 0.015114;
    - sampling error: sqrt(0.72 * 0.28 / 1000) = 0.014199;
    - 95 % interval: 0.72 +- 1.96 * hypot(0.015114, 0.014199) = 0.72 +- 0.040644."""
    from fitdoctor.diagnosis.best import EPOCH_SPREAD
    from fitdoctor.diagnosis.stats import noise_sigma

    d = diagnose(_history(val_acc=NEAR_LEVEL).with_options(val_size=1000))
    b = d.best
    assert (b.epoch, b.value) == (5.0, 0.74)
    sigma = noise_sigma(np.array(NEAR_LEVEL))        # the noise estimate is an input here
    assert b.noise == pytest.approx(sigma, rel=1e-9)
    level = 0.72
    assert b.expected == pytest.approx(level, abs=1e-12)
    noise_se = sigma * math.sqrt(EPOCH_SPREAD ** 2 + 1.57 / 5)
    sampling_se = math.sqrt(level * (1 - level) / 1000)
    assert b.sampling_se == pytest.approx(sampling_se, rel=1e-9)
    half = Z95 * math.hypot(noise_se, sampling_se)
    assert b.ci95 == pytest.approx((level - half, level + half), abs=1e-12)
    # without a validation size the interval is the epoch noise alone
    alone = diagnose(_history(val_acc=NEAR_LEVEL)).best
    assert alone.sampling_se is None
    assert alone.ci95 == pytest.approx((level - Z95 * noise_se, level + Z95 * noise_se), abs=1e-12)
    # the docstring's numbers, unconditionally: a recalibration must re-derive them by hand
    assert EPOCH_SPREAD == 1.75 and sigma == pytest.approx(SIGMA, rel=1e-6)
    assert half == pytest.approx(0.040644, abs=2e-6)
    # epochs within z * sqrt(2) * sigma = 0.0228 of 0.74: 0.72, 0.73, 0.72 (not 0.71, 0.70)
    assert b.tied_epochs == (4.0, 6.0, 7.0)


# best 0.725 at epoch 5 with 0.70 0.72 [0.725] 0.72 0.715 around it: 0.005 above its level 0.72;
# noise from the second differences -0.04 -0.02 -0.02 -0.015 -0.01 0 0.01 (median -0.015),
# |deviations| 0 0.005 0.005 0.005 0.015 0.025 [0.025 cut]:
#   sqrt((3 * 0.005^2 + 0.015^2 + 0.025^2) / 6 / 0.533772) / sqrt(6) = 0.006938
WITHIN_NOISE = [0.50, 0.60, 0.66, 0.70, 0.72, 0.725, 0.72, 0.715, 0.72]


def test_lucky_best_only_beyond_the_noise():
    """catches: lucky_best firing on any excess (``excess > 0``) instead of an excess beyond the
    epoch-to-epoch noise (``excess > sigma``).

    WITHIN_NOISE: the best 0.725 is 0.005 above its level (the local median 0.72), less than the
    noise 0.0069: not luck, although 4 epochs tie with it (within 2.77 sigma = 0.0192: 0.72,
    0.72, 0.715, 0.72). LUCKY: the best 0.77 at epoch 12 has the local median 0.723 (0.717 0.723
    [0.77] 0.765 0.723), an excess of 0.047; the noise, the trimmed second differences (the
    bump's four are cut), is about 0.0097, and 0.765 at epoch 13 is tied with it: a lucky peak."""
    from fitdoctor.diagnosis.stats import noise_sigma

    sigma = noise_sigma(np.array(WITHIN_NOISE))
    assert sigma == pytest.approx(0.006938, abs=1e-5)
    near = diagnose(_history(val_acc=WITHIN_NOISE))
    assert near.best.expected == pytest.approx(0.72, abs=1e-12)
    assert near.best.tied_epochs == (4.0, 6.0, 7.0, 8.0)   # ties alone do not make it lucky
    assert "lucky_best" not in near.codes

    sigma = noise_sigma(np.array(LUCKY))
    assert sigma == pytest.approx(0.0097, abs=2e-4)
    lucky = diagnose(_history(val_acc=LUCKY, train_loss=LUCKY_LOSS))
    assert lucky.best.epoch == 12.0 and 13.0 in lucky.best.tied_epochs
    f = lucky.finding("lucky_best")
    assert f is not None
    assert f.evidence["excess"] == pytest.approx(0.77 - 0.723, abs=1e-9)
    assert f.evidence["sigma"] == pytest.approx(sigma, rel=1e-9)


def test_overfitting_onset_is_where_validation_stopped_improving():
    """catches: the onset put where the growing gap became visible (epoch 23 here) instead of
    where validation stopped improving.

    40 epochs. Validation accuracy climbs fast to 0.80 at epoch 10, creeps up 0.002 an epoch to
    its peak 0.82 at epoch 20 and falls 0.002 an epoch after it; training accuracy runs 0.05
    above it up to epoch 20 and keeps rising 0.001 an epoch after it. The train-val gap starts to
    grow at epoch 20 but grows beyond its noise only a few epochs later. Overfitting began where
    validation stopped improving: where it came within noise of its peak (the truth protocol's
    onset). The 0.002 an epoch before the peak is within noise from epoch 18 on (the noise
    threshold is z*sqrt2*sigma of the trend, larger than 2 x 0.002), so the onset is 18, and the
    report says the best (epoch 20) is within noise of it."""
    e = np.arange(40, dtype=float)
    val = np.where(e <= 10, 0.5 + 0.03 * e,
                   np.where(e <= 20, 0.80 + 0.002 * (e - 10), 0.82 - 0.002 * (e - 20)))
    train = np.where(e <= 20, val + 0.05, 0.87 + 0.001 * (e - 20))
    wiggle = np.tile([0.001, -0.001], 20)             # a little epoch-to-epoch noise
    d = diagnose(_history(train_acc=train - wiggle, val_acc=val + wiggle))
    assert d.verdict == "overfitting"
    assert d.best.epoch == 20.0
    assert d.overfitting.onset_epoch == 18.0
    assert "within noise of epoch 18" in d.finding("overfitting").message
    f = d.finding("overfitting")
    assert f.evidence["onset"] == 18.0 and f.evidence.get("kind") != "loss"


def test_a_run_that_converged_in_two_epochs_is_not_no_learning():
    """catches: the collapse rule without an effect size or the 0.9 ceiling (a run at 0.98 whose
    first-quarter median includes its first epochs' 0.85-0.96 'fell' to 0.98 +- 0.002 and was
    called no_learning in 63 of 200 seeds)."""
    n = 40
    for seed in range(20):
        rng = np.random.default_rng(seed)
        d = diagnose(make_history(pd.DataFrame({
            "epoch": np.arange(n, dtype=float),
            "train_loss": np.r_[0.6, 0.12, np.full(n - 2, 0.06)] * (1 + 0.05 * rng.standard_normal(n)),
            "train_acc": np.r_[0.85, 0.96, 0.98 + 0.002 * rng.standard_normal(n - 2)],
            "val_acc": 0.97 + 0.004 * rng.standard_normal(n)}), source="constructed", format="test"))
        assert "no_learning" not in d.codes, seed

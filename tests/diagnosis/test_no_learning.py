"""no_learning's rules at their thresholds, on constructed histories worked out by hand
(diagnosis/learning.py: MIN_EPOCHS 8, LOSS_KEPT 0.95, FLAT_POINTS 0.02, LOW_LEVEL 0.9, LR_RANGE).
The real runs are in test_truth_corpus.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.history.core import make_history

# a tiny alternating wobble, so that the noise estimate is small but not zero
WOBBLE = 0.001


def _stuck(n=20, loss_end=2.30, acc=0.10, acc_end=None, config=None, lr=None):
    """Training loss 2.30 for the first quarter then loss_end; train and val accuracy at acc
    (acc_end after the first quarter, when given)."""
    q = n // 4
    w = WOBBLE * (-1) ** np.arange(n)
    loss = np.r_[np.full(q + 1, 2.30), np.full(n - q - 1, loss_end)] + w
    a = np.r_[np.full(q + 1, acc), np.full(n - q - 1, acc if acc_end is None else acc_end)] + w
    cols = {"epoch": np.arange(n, dtype=float), "train_loss": loss, "train_acc": a, "val_acc": a}
    if lr is not None:
        cols["lr"] = np.full(n, lr)
    return make_history(pd.DataFrame(cols), source="constructed", format="test", config=config or {})


def _finding(h):
    return diagnose(h).finding("no_learning")


def test_minimum_length_is_eight_epochs():
    assert _finding(_stuck(n=7)) is None
    f = _finding(_stuck(n=8))
    assert f is not None and f.evidence["from_epoch"] == 2.0 and f.evidence["to_epoch"] == 7.0


def test_the_loss_must_keep_95_percent_of_its_early_level():
    # early median 2.30: 0.96 x 2.30 = 2.208 kept (stuck); 0.94 x 2.30 = 2.162 fell (learning)
    f = _finding(_stuck(loss_end=0.96 * 2.30))
    assert f is not None
    assert f.evidence["loss_start"] == pytest.approx(2.30, abs=2 * WOBBLE)
    assert f.evidence["loss_end"] == pytest.approx(0.96 * 2.30, abs=2 * WOBBLE)
    assert _finding(_stuck(loss_end=0.94 * 2.30)) is None


def test_flat_within_two_points_and_below_0_9():
    assert _finding(_stuck(acc=0.30, acc_end=0.315)) is not None       # +1.5 points: flat
    assert _finding(_stuck(acc=0.30, acc_end=0.33)) is None            # +3 points: learning
    assert _finding(_stuck(acc=0.88)) is not None
    assert _finding(_stuck(acc=0.91)) is None                          # stays at 0.91: not stuck
    f = _finding(_stuck(acc=0.30, acc_end=0.315))
    assert f.evidence["level"] == pytest.approx(0.315, abs=2 * WOBBLE)
    assert f.evidence["metric"] == "train_acc"


def test_a_collapse_needs_a_fall_beyond_the_margin():
    # the accuracy falls 0.30 -> 0.10 and the validation accuracy sits at 0.10: a collapse
    f = _finding(_stuck(acc=0.30, acc_end=0.10))
    assert f is not None and f.evidence["nl_collapse"] and f.evidence["early_level"] > 0.29
    assert "fell from" in f.message
    # a fall of 2.5 points from 0.95 (above 0.9): not a collapse
    assert _finding(_stuck(acc=0.95, acc_end=0.925)) is None


@pytest.mark.parametrize("optimizer, lr, cause", [
    ("adamw", 5e-3, "lr_high"), ("adamw", 1e-4, "unknown"), ("adamw", 1e-7, "lr_low"),
    ("sgd", 0.5, "lr_high"), ("sgd", 0.1, "unknown"), ("sgd", 5e-5, "lr_low"),
])
def test_the_cause_from_the_lr_and_the_optimizer(optimizer, lr, cause):
    f = _finding(_stuck(config={"training.optimizer": optimizer}, lr=lr))
    assert f.evidence["cause"] == cause and f.evidence["lr"] == pytest.approx(lr)
    assert bool(f.evidence["nl_lr_high"]) is (cause == "lr_high")
    assert bool(f.evidence["nl_lr_low"]) is (cause == "lr_low")


def test_the_declared_lr_when_none_is_logged_and_the_patch():
    h = _stuck(config={"learning_rate": 0.05})            # no optimizer declared: Adam's range
    d = diagnose(h)
    f = d.finding("no_learning")
    assert f.evidence["cause"] == "lr_high" and f.evidence["lr"] == 0.05
    rec = next(r for r in d.recommendations if r.code == "fix_no_learning")
    assert rec.patch == {"training": {"learning_rate": 0.005}}
    low = diagnose(_stuck(lr=1e-8))
    rec = next(r for r in low.recommendations if r.code == "fix_no_learning")
    assert rec.patch == {"training": {"learning_rate": 1e-7}}


def test_constant_validation_values_are_said():
    n = 20
    h = make_history(pd.DataFrame({"epoch": np.arange(n, dtype=float),
                                   "train_loss": 0.693 + WOBBLE * (-1) ** np.arange(n),
                                   "val_acc": np.full(n, 0.578)}), source="c", format="t")
    f = _finding(h)
    assert f is not None and f.evidence["nl_constant"] is True
    assert "predicts one class" in f.message

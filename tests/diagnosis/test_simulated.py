"""Detectors against simulated curves with a known truth (the full measurement, over 700
curves, is bench/diagnosis_accuracy.py)."""

import numpy as np
import pandas as pd
import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.history.core import make_history
from fitdoctor.testing.simulate import ACCEPTED, KINDS, OVERFITTING_KINDS, simulate


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_labelled_right_most_of_the_time(kind):
    sims = [simulate(kind, n=80, noise=0.01, seed=s) for s in range(12)]
    verdicts = [diagnose(s.history).verdict for s in sims]
    assert np.mean([v in ACCEPTED[kind] for v in verdicts]) >= 0.75, verdicts


def test_no_overfitting_alarm_without_overfitting():
    alarms = [diagnose(simulate(k, n=70, noise=0.012, seed=s).history).overfitting["detected"]
              for k in KINDS if k not in OVERFITTING_KINDS for s in range(8)]
    assert np.mean(alarms) <= 0.05


def test_onset_is_found_near_the_truth():
    errors = []
    for s in range(12):
        sim = simulate("overfit", n=90, noise=0.008, seed=s)
        d = diagnose(sim.history)
        assert d.overfitting["detected"]
        errors.append(abs(d.overfitting["onset_epoch"] - sim.onset))
    assert np.median(errors) <= 6


def test_interval_covers_the_true_best_most_of_the_time():
    hits = []
    for s in range(40):
        sim = simulate(KINDS[s % len(KINDS)], n=60, noise=0.01, seed=100 + s)
        lo, hi = diagnose(sim.history).best.ci95
        hits.append(lo <= sim.true_best <= hi)
    assert np.mean(hits) >= 0.8


def _history(**cols):
    n = len(next(iter(cols.values())))
    return make_history(pd.DataFrame({"epoch": np.arange(n, dtype=float), **cols}),
                        source="constructed", format="test")


def test_metric_disagreement_loss_bottoms_early_accuracy_keeps_rising():
    t = np.arange(40.0)
    rng = np.random.default_rng(1)
    h = _history(train_loss=1.5 * np.exp(-t / 6) + 0.01,
                 val_loss=0.5 + 0.5 * np.exp(-t / 3) + 0.012 * np.clip(t - 10, 0, None) + rng.normal(0, 0.005, 40),
                 val_acc=0.5 + 0.4 * (1 - np.exp(-t / 12)) + rng.normal(0, 0.004, 40))
    d = diagnose(h)
    f = d.finding("metric_disagreement")
    assert f is not None and f.evidence["loss_epoch"] < f.evidence["acc_epoch"]


def test_collapse_is_divergence_not_overfitting():
    sim = simulate("divergence", n=60, noise=0.01, seed=3)
    d = diagnose(sim.history)
    assert d.verdict == "divergence" and not d.overfitting["detected"]
    assert d.phases[-1].label == "diverged"


def test_short_and_flat_histories_do_not_crash():
    d = diagnose(_history(val_acc=np.array([0.5, 0.6, 0.55])))
    assert d.verdict == "too_short" and "short_history" in d.codes and d.best.ci95 is None
    flat = diagnose(_history(val_acc=np.full(20, 0.5), train_acc=np.full(20, 0.6)))
    assert flat.best.value == 0.5 and not flat.overfitting["detected"]
    gaps = diagnose(_history(val_loss=np.array([1.0, np.nan, 0.8, 0.7, np.nan, 0.65, 0.6, 0.62])))
    assert gaps.best.epoch == 6


def test_instability_spike_is_flagged():
    t = np.arange(40.0)
    val = 0.8 - 0.3 * np.exp(-t / 5) + np.random.default_rng(0).normal(0, 0.003, 40)
    val[25] -= 0.15
    d = diagnose(_history(val_acc=val))
    f = d.finding("instability")
    assert f is not None and 25.0 in f.evidence["epoch_list"]

"""diagnose()'s own rules, around the detectors: what a breakdown cuts off, what a short or
learning-free run drops, which finding suppresses which, and the error for an empty monitor.
Constructed histories whose outcome is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fitdoctor.diagnosis import diagnose, fitting
from fitdoctor.diagnosis.curves import build_context
from fitdoctor.diagnosis.types import DiagnoseOptions
from fitdoctor.errors import FitDoctorError
from fitdoctor.history import read_history
from fitdoctor.history.core import make_history

from ..conftest import ROOT, public

TRUTH = ROOT / "bench" / "truth" / "corpus"

WOBBLE = 0.002 * (-1) ** np.arange(40)


def hist(n=20, **cols):
    return make_history(pd.DataFrame({"epoch": np.arange(n, dtype=float),
                                      **{k: np.asarray(v, dtype=float)[:n] for k, v in cols.items()}}),
                        source="constructed.csv", format="test")


def test_a_monitor_without_finite_values_is_a_clear_error():
    h = make_history(pd.DataFrame({"epoch": np.arange(10.0), "val_acc": [np.nan] * 9 + [np.inf]}),
                     source="constructed.csv", format="test")
    with pytest.raises(FitDoctorError) as e:
        diagnose(h)
    assert str(e.value) == ("constructed.csv: the monitored metric 'val_acc' has no finite value; "
                            "nothing to diagnose. Pick another with monitor=NAME (History.with_options).")
    assert e.value.cli_message(lambda name: {"monitor": "--metric"}[name]).endswith(
        "Pick another with --metric.")


@pytest.mark.parametrize("n, short", [(4, True), (5, False)])
def test_fewer_than_five_points_is_too_short(n, short):
    d = diagnose(hist(n, val_acc=np.linspace(0.5, 0.7, n) + WOBBLE[:n]))
    f = d.finding("short_history")
    assert (f is not None) is short
    assert (d.verdict == "too_short") is short
    if short:
        assert f.evidence == {"n": 4} and f.severity == "info" and "4" in f.message


def _broken(n, val, nan_from, column="train_loss"):
    loss = np.r_[np.linspace(1.0, 0.5, n)]
    cols = {"epoch": np.arange(n, dtype=float), "val_acc": val, "train_loss": loss}
    if column == "train_loss":
        cols["train_loss"] = np.where(np.arange(n) >= nan_from, np.nan, loss)
    else:
        cols[column] = np.where(np.arange(n) >= nan_from, np.inf, 1.0)
    return make_history(pd.DataFrame(cols), source="constructed.csv", format="test",
                        non_finite={column: float(nan_from)})


@pytest.mark.parametrize("nan_from", [8, 3])
def test_the_best_is_taken_before_a_breakdown(nan_from):
    # the training loss turns NaN at epoch nan_from; validation is highest after it (a broken
    # model predicting one class can score anything): the best reported is from the epochs
    # before the NaN only (the epoch of the NaN is broken too), however early it comes
    n = 20
    val = np.r_[np.linspace(0.50, 0.58, nan_from), np.full(n - nan_from, 0.9)]
    d = diagnose(_broken(n, val, nan_from))
    assert d.verdict == "non_finite"
    assert d.best.epoch == nan_from - 1 and d.best.value == pytest.approx(val[nan_from - 1])
    assert all(e < nan_from for e in d.best.tied_epochs)


def test_an_infinite_gradient_norm_is_no_breakdown():
    # mixed precision logs grad_norm inf on the steps its loss scaler skips: not a breakdown,
    # and the best is the run's
    n = 20
    val = np.linspace(0.5, 0.8, n) + WOBBLE[:n] * 0.1
    d = diagnose(_broken(n, val, 6, column="train_grad_norm"))
    assert "non_finite" not in d.codes and d.best.epoch == 19.0


def test_learning_nothing_drops_what_needs_learning_and_keeps_the_rest():
    # train loss at ln 10 throughout, accuracies at chance, with one spike in validation: the
    # spike (instability) is still reported; plateau, noise, over/underfitting are not
    n = 24
    acc = np.full(n, 0.10) + WOBBLE[:n] * 0.5
    val = acc.copy()
    val[12] = 0.30
    d = diagnose(hist(n, train_loss=np.full(n, 2.30) + WOBBLE[:n], train_acc=acc, val_acc=val))
    assert d.verdict == "no_learning"
    assert "no_learning" in d.codes and "instability" in d.codes
    assert not {"plateau", "noisy_validation", "overfitting", "lucky_best", "underfitting",
                "stable_gap", "metric_disagreement"} & set(d.codes)


def test_overfitting_is_dropped_after_a_breakdown_and_its_onset_with_it():
    # the training loss diverges from epoch 14 while validation falls: a collapse, not
    # overfitting; the overfitting block says so too
    n = 24
    train_acc = np.r_[np.linspace(0.5, 0.99, 14), np.full(n - 14, 0.99)] + WOBBLE[:n] * 0.1
    val = np.r_[np.linspace(0.5, 0.8, 8), np.linspace(0.8, 0.6, n - 8)] + WOBBLE[:n] * 0.1
    loss = np.r_[np.geomspace(2.0, 0.05, 14), np.geomspace(0.05, 5.0, n - 14)]
    d = diagnose(hist(n, train_acc=train_acc, val_acc=val, train_loss=loss))
    assert d.verdict == "divergence"
    assert "overfitting" not in d.codes
    assert d.overfitting.detected is False and d.overfitting.onset_epoch is None
    assert not any(r.code == "early_stop_at_onset" for r in d.recommendations)


def test_noisy_validation_is_reported():
    rng = np.random.default_rng(3)
    n = 30
    val = 0.5 + 0.3 * (1 - np.exp(-np.arange(n) / 3)) + rng.normal(0, 0.04, n)
    d = diagnose(hist(n, val_acc=val))
    f = d.finding("noisy_validation")
    assert f is not None and f.evidence["sigma"] == pytest.approx(d.best.noise)
    assert any(r.code == "smooth_selection" for r in d.recommendations)


# -- which finding informs which, on real logs ------------------------------------------------

def test_the_onset_is_the_first_epoch_at_the_best_level(seed_log):
    # SST Try1: the best (0.419 at epoch 13) is a lucky peak, and no epoch before it is tied
    # with it: validation stopped improving at epoch 13 itself (the first epoch at the best's
    # level; the smoothed curve's first point near its peak, 11, is not tied with it). SST Try3:
    # the best comes late and an earlier epoch is tied with it; the onset is the first such
    d = diagnose(read_history(seed_log("sst-try1")))
    assert "lucky_best" in d.codes
    of = d.finding("overfitting")
    assert d.overfitting.onset_epoch == of.evidence["onset"] == d.best.epoch == 13.0
    assert of.evidence["best_tied"] is None and "within noise" not in of.message
    d = diagnose(read_history(seed_log("sst-try4")))
    of = d.finding("overfitting")
    assert (d.best.epoch, min(d.best.tied_epochs)) == (10.0, 9.0)
    assert d.overfitting.onset_epoch == of.evidence["onset"] == 9.0
    assert of.evidence["best_tied"] is True and "within noise of epoch 9" in of.message


def test_warm_restarts_count_the_epochs_to_where_validation_stopped(seed_log):
    """catches: "validation stopped improving at epoch 13" in the overfitting finding beside
    "Validation converged after about 12 epochs" in the warm-restarts advice (SST Try1, epochs
    from 0: the advice counted to the smoothed curve's reach, 11); on the truth corpus's
    sentiment/overfit/s3 it was epoch 4 beside "about 9 epochs"."""
    for path in (seed_log("sst-try1"), TRUTH / "sentiment" / "overfit" / "s3" / "history.csv"):
        d = diagnose(read_history(path))
        stopped = d.finding("overfitting").evidence["onset"]
        n = int(stopped - d.phases[0].start + 1)
        wr = next(r for r in d.recommendations if r.code == "warm_restarts")
        assert f"stopped improving at epoch {stopped:g}" in d.finding("overfitting").message
        assert wr.patch["training"]["scheduler_params"]["T_0"] == n
        assert f"converged after about {n} epochs" in wr.rationale


def test_the_constant_lr_control_survives_an_onset_on_a_row_without_an_lr():
    """catches: an overfitting run (LR and epoch confounded, warning) told no constant-LR control
    because its onset's row logged no LR (an evaluation row before training, as the public
    multigroup-30ep log has at epoch 0): the control reads only the LR at the onset now, which
    was None there. The nearest logged LR stands in."""
    df = pd.read_csv(TRUTH / "sentiment" / "cosine_long" / "s0" / "history.csv")
    onset = diagnose(make_history(df, source="s0.csv", format="csv")).overfitting.onset_epoch
    df.loc[df["epoch"] == onset, "lr"] = np.nan
    d = diagnose(make_history(df, source="hole.csv", format="csv"))
    assert d.overfitting.onset_epoch == onset and d.lr.at_onset is not None
    assert d.finding("lr_epoch_confounded").evidence["lr_at_onset"] == d.lr.at_onset
    assert "constant_lr_control" in [r.code for r in d.recommendations]


def test_overfitting_read_off_the_losses_stands_in_for_metric_disagreement():
    # MiniLM on Rotten Tomatoes, trained on a small set: validation loss climbs while the
    # accuracy levels off. metric_disagreement alone would fire; beside overfitting of kind
    # "loss" it would say the same thing twice
    h = read_history(TRUTH / "sentiment" / "overfit" / "s1" / "history.csv")
    d = diagnose(h)
    assert d.finding("overfitting").evidence["kind"] == "loss"
    assert fitting.metric_disagreement(build_context(h, DiagnoseOptions())) is not None
    assert "metric_disagreement" not in d.codes


def test_underfitting_beside_overfitting_says_how_they_hold_together():
    d = diagnose(read_history(public("imagebind-meld-v23")))
    assert "overfitting" in d.codes
    assert d.finding("underfitting").evidence["kind"] == "with_overfitting"


def test_no_learning_is_not_judged_after_a_breakdown():
    # the loss stays at ln 10 and turns NaN at epoch 16; the accuracy sits at chance: the
    # breakdown is the finding, "learned nothing" is not added beside it
    n = 24
    loss = np.r_[np.full(16, 2.30) + WOBBLE[:16], np.full(n - 16, np.nan)]
    acc = np.full(n, 0.10) + WOBBLE[:n] * 0.5
    h = make_history(pd.DataFrame({"epoch": np.arange(n, dtype=float), "train_loss": loss,
                                   "train_acc": acc, "val_acc": acc}),
                     source="constructed.csv", format="test", non_finite={"train_loss": 16.0})
    d = diagnose(h)
    assert d.verdict == "non_finite" and "no_learning" not in d.codes

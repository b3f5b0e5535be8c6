"""diagnosis.recommend: each finding's rule, written out by hand as the config patch it must give.

Every expected patch below is worked out from the rule in the comment beside it, not read off
the code's output: the patience of the early-stopping advice, the LR factors, the epochs to train,
the schedule lengths, and which advice a combination of findings suppresses. The rationale is
checked where it carries a number the user acts on.
"""

from __future__ import annotations

import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.diagnosis.recommend import recommend
from fitdoctor.diagnosis.types import Finding, ScheduleFit
from fitdoctor.history.readers import read_history
from fitdoctor.i18n import recommendation

from ..conftest import ROOT, public

CORPUS = ROOT / "bench" / "truth" / "corpus"

COSINE = ScheduleFit("cosine", {"T_max": 30}, 0.0, 0.01, "cosine")
LINEAR = ScheduleFit("linear", {"end_epoch": 40}, 0.0, 0.01, "linear")
STEP = ScheduleFit("step", {"step_size": 10}, 0.0, 0.01, "step")


def run(*findings: Finding, monitor="val_acc", mode="max", epochs_run=30.0, first_epoch=1.0,
        peak_lr=None, config=None, schedule=None, window=4):
    return recommend(list(findings), monitor=monitor, mode=mode, epochs_run=epochs_run,
                     first_epoch=first_epoch, peak_lr=peak_lr, config=config or {},
                     schedule=schedule, window=window)


def by_code(recs):
    out = {r.code: r for r in recs}
    assert len(out) == len(recs), [r.code for r in recs]       # one piece of advice per rule
    return out


def finding(code, **evidence):
    return Finding(code, "warning", code, evidence)


def overfit(onset=12.0, reach=20.0, **more):
    return finding("overfitting", onset=onset, reach=reach, **more)


def test_no_findings_no_advice():
    assert run() == ()


# -- a run that broke: LR x0.3 (3 significant digits), clipping at 1, 2 warmup epochs ----------

@pytest.mark.parametrize("peak_lr, config, lr_patch", [
    (1e-3, {}, {"learning_rate": 3e-4}),
    (None, {"training.learning_rate": 0.0123}, {"learning_rate": 0.00369}),  # dotted key
    (None, {"lr": 0.5}, {"learning_rate": 0.15}),                # the other spelling of the key
    (None, {}, {}),                                              # no LR known: none proposed
])
def test_stabilise_patch(peak_lr, config, lr_patch):
    recs = run(finding("divergence", epoch=7.0, column="train_loss"), peak_lr=peak_lr,
               config=config)
    assert [r.code for r in recs] == ["stabilise"]
    (rec,) = recs
    assert rec.patch == {"training": {"max_grad_norm": 1.0, "warmup_epochs": 2, **lr_patch}}
    assert rec.because == ("divergence",)
    assert "epoch 7 (train_loss)" in rec.rationale


def test_non_finite_is_the_evidence_when_both_broke_and_no_learning_advice_beside_it():
    recs = run(finding("divergence", epoch=9.0, column="val_loss"),
               finding("non_finite", epoch=4.0, column="train_loss"),
               finding("no_learning", cause="lr_high", lr=1.0), peak_lr=1.0)
    assert [r.code for r in recs] == ["stabilise"]
    assert recs[0].because == ("non_finite",)
    assert "epoch 4 (train_loss)" in recs[0].rationale
    assert recs[0].patch["training"]["learning_rate"] == 0.3


# -- no learning: 10x toward the usual range (2 significant digits) ----------------------------

@pytest.mark.parametrize("cause, lr, new_lr, lr_text", [
    ("lr_high", 0.37, 0.037, "0.37"),      # LR far too high: 10x lower
    ("constant", 0.37, 0.037, "0.37"),     # any cause but "lr_low" lowers it
    ("lr_low", 2.3e-7, 2.3e-6, "2.3e-07"),  # known far too low: 10x higher
])
def test_fix_no_learning_lr(cause, lr, new_lr, lr_text):
    (rec,) = run(finding("no_learning", cause=cause, lr=lr), peak_lr=lr)
    assert rec.code == "fix_no_learning" and rec.because == ("no_learning",)
    assert rec.patch == {"training": {"learning_rate": new_lr}}
    assert f"at LR {lr_text}. Train again at the LR in this patch" in rec.rationale


def test_fix_no_learning_without_any_lr_warms_up_and_clips():
    """catches: "learned nothing at LR ?. Train again at the LR in this patch" beside a patch with
    no LR (islp-nyse's val_r2 log)."""
    (rec,) = run(finding("no_learning", cause="flat", lr=None))
    assert rec.patch == {"training": {"warmup_epochs": 2, "max_grad_norm": 1.0}}
    assert rec.rationale.startswith("The run learned nothing. No LR is known to correct")
    assert "LR in this patch" not in rec.rationale and "?" not in rec.rationale
    # the LR from the config serves when the log has none, and names the text
    (rec,) = run(finding("no_learning", cause="lr_high", lr=None), config={"learning_rate": 0.8})
    assert rec.patch == {"training": {"learning_rate": 0.08}}
    assert "learned nothing at LR 0.8. Train again at the LR in this patch" in rec.rationale


# -- overfitting: stop at the onset, regularize, warm restarts ---------------------------------

# patience = clip(round(n/4) + 2, 3, 20) with n the epochs up to the convergence reach (counted
# from the first epoch); stop = onset's epoch count + patience; the restart period is the onset's
# epoch count (>= 2): "validation converged after about T_0 epochs" counts to where the
# overfitting finding says validation stopped improving, not to the smoothed curve's reach
@pytest.mark.parametrize("first, reach, onset, patience, stop, t0", [
    (1.0, 20.0, 12.0, 7, 19, 12),      # n 20: 5 + 2
    (0.0, 19.0, 12.0, 7, 20, 13),      # counted from epoch 0: n 20, onset is the 13th epoch
    (1.0, 100.0, 60.0, 20, 80, 60),    # n 100: 27, capped at 20
    (1.0, 1.0, 3.0, 3, 6, 3),          # n 1: round(0.25) + 2 = 2, raised to 3
    (1.0, 0.0, 3.0, 3, 6, 3),          # reach before the first epoch: n is 1, not 0
    (1.0, 13.0, 12.5, 5, 18, 12),      # n 13: round(3.25) + 2; stop rounds 12.5 + 5 up
    (1.0, 30.0, 12.0, 10, 22, 12),     # n 30: round(7.5) = 8 (half to even) + 2
    (1.0, 5.0, 1.0, 3, 4, 2),          # onset at the first epoch: T_0 at least 2
])
def test_early_stop_at_onset(first, reach, onset, patience, stop, t0):
    recs = by_code(run(overfit(onset=onset, reach=reach), first_epoch=first, epochs_run=100.0))
    es = recs["early_stop_at_onset"]
    assert es.patch == {"training": {"epochs": stop, "early_stopping": {
        "monitor": "val_acc", "mode": "max", "patience": patience, "smoothing": 4}}}
    assert es.because == ("overfitting",)
    wasted = int(round(100.0 - onset))
    assert (f"Overfitting began at epoch {onset:g}; the {wasted} epochs after it bought nothing. "
            f"Early stopping with patience {patience} on the 4-epoch average of val_acc"
            ) in es.rationale
    assert recs["warm_restarts"].because == ("overfitting",)
    assert recs["warm_restarts"].patch == {"training": {
        "scheduler": "CosineAnnealingWarmRestarts", "scheduler_params": {"T_0": t0, "T_mult": 2}}}
    assert f"about {t0} epochs" in recs["warm_restarts"].rationale


def test_early_stop_never_asks_for_more_epochs_than_the_run_had():
    """catches: "Stop at the overfitting onset: epochs 24" for a run of 23 epochs (ImageBind's
    log). Here onset and reach 20 of a 23-epoch run (0-22): patience clip(round(21/4) + 2) = 7,
    20 + 1 + 7 = 28 epochs, more than the 23 it had: 23."""
    recs = by_code(run(overfit(onset=20.0, reach=20.0), first_epoch=0.0, epochs_run=22.0))
    assert recs["early_stop_at_onset"].patch["training"]["epochs"] == 23


@pytest.mark.parametrize("window, smoothing", [(1, 3), (3, 3), (4, 4), (5, 5), (9, 5)])
def test_smoothing_of_the_stop_rule_is_the_window_clipped_to_3_5(window, smoothing):
    recs = by_code(run(overfit(), window=window, monitor="val_loss", mode="min"))
    es = recs["early_stop_at_onset"].patch["training"]["early_stopping"]
    assert es == {"monitor": "val_loss", "mode": "min", "patience": 7, "smoothing": smoothing}


@pytest.mark.parametrize("config, patch, what", [
    # no declaration: 0.05, 5x AdamW's default; no dropout value, so no dropout advice
    ({}, {"training": {"weight_decay": 0.05}}, "training.weight_decay 0.05"),
    # declared decay doubled (2 significant digits); dropout below 0.5 raised by 0.1
    ({"weight_decay": 0.013, "dropout": 0.3},
     {"training": {"weight_decay": 0.026}, "model": {"dropout": 0.4}},
     "training.weight_decay 0.026, model.dropout 0.4"),
    ({"lambda_l2": 0.1, "hidden_dropout_prob": 0.49},
     {"training": {"weight_decay": 0.2}, "model": {"dropout": 0.59}},
     "training.weight_decay 0.2, model.dropout 0.59"),
    ({"dropout": 0.333}, {"training": {"weight_decay": 0.05}, "model": {"dropout": 0.43}},
     "training.weight_decay 0.05, model.dropout 0.43"),          # 2 decimals
    ({"dropout": 0.0}, {"training": {"weight_decay": 0.05}, "model": {"dropout": 0.1}},
     "training.weight_decay 0.05, model.dropout 0.1"),          # 0 is a value, not "unknown"
    # dropout already at 0.5 or more: no room; label smoothing instead
    ({"dropout_rate": 0.5}, {"training": {"weight_decay": 0.05}, "loss": {"label_smoothing": 0.1}},
     "training.weight_decay 0.05, loss.label_smoothing 0.1"),
])
def test_regularize_patch(config, patch, what):
    rec = by_code(run(overfit(), config=config))["regularize"]
    assert rec.patch == patch
    assert rec.because == ("overfitting",)
    assert "After epoch 12 training kept improving while validation did not" in rec.rationale
    assert f"More regularization ({what})" in rec.rationale
    assert "Training (" not in rec.rationale        # no underfitting clause without underfitting


def test_regularize_with_gap_and_underfitting_says_why_regularization_comes_second():
    recs = run(overfit(gap_start=0.01, gap_end=0.2, gap_growth=0.19),
               finding("underfitting", train_col="train_acc", train_end=0.71))
    rec = by_code(recs)["regularize"]
    assert "and the smoothed train-val gap grew from 0.01 to 0.2" in rec.rationale
    assert "Training (train_acc) is, though, only 0.71 and still rising" in rec.rationale
    # with overfitting, no "regularize less, train longer" beside "stop early, regularize more"
    assert "reduce_regularization" not in by_code(recs)


def test_warm_restarts_floor_is_1_percent_of_the_lr():
    rec = by_code(run(overfit(), peak_lr=3e-4))["warm_restarts"]
    assert rec.patch["training"]["scheduler_params"] == {"T_0": 12, "T_mult": 2, "eta_min": 3e-6}
    rec = by_code(run(overfit(), config={"learning_rate": 0.1234}))["warm_restarts"]
    assert rec.patch["training"]["scheduler_params"]["eta_min"] == 0.00123


def test_overfitting_advice_order():
    assert [r.code for r in run(overfit())] == ["early_stop_at_onset", "regularize",
                                                "warm_restarts"]


# -- LR and epoch confounded: one constant-LR control run --------------------------------------

def test_constant_lr_control():
    evidence = {"r": 0.97, "lr_at_onset": 1.234e-3, "lr_at_best": 5e-4}
    (rec,) = run(finding("lr_epoch_confounded", **evidence), peak_lr=1e-2)
    assert rec.code == "constant_lr_control" and rec.because == ("lr_epoch_confounded",)
    assert rec.patch == {"training": {"scheduler": None, "learning_rate": 1.23e-3}}
    assert "(r = 0.97)" in rec.rationale and "constant LR of 0.00123 (the LR at the onset)" in rec.rationale


@pytest.mark.parametrize("evidence", [
    {"r": -0.95, "lr_at_best": 5e-4, "lr_at_onset": None},    # no overfitting onset
    {"r": 0.99},
])
def test_constant_lr_control_only_for_an_overfitting_onset(evidence):
    assert run(finding("lr_epoch_confounded", **evidence), peak_lr=1e-2) == ()


def test_a_run_still_improving_is_not_told_to_run_the_control_first():
    """mT5 (a public Hugging Face log, linear decay, LR and epoch confounded, val_loss still
    falling at the end): the advice is to train longer, not a constant-LR control 'if it
    overfits at the same epoch' (it was the first advice)."""
    d = diagnose(read_history(public("mt5-azsumm")))
    assert d.verdict == "still_improving" and "lr_epoch_confounded" in d.codes
    assert [r.code for r in d.recommendations][0] == "train_longer"
    assert "constant_lr_control" not in [r.code for r in d.recommendations]
    f = d.finding("still_improving")
    assert "val_loss improved by" in f.message and "from epoch 1.72 to 2.23" in f.message


# -- still improving ----------------------------------------------------------------------------

def improving(**more):
    return finding("still_improving", monitor="val_acc", slope=0.002, k=5, t=4.2, from_epoch=26.0,
                   to_epoch=30.0, **more)


@pytest.mark.parametrize("first, epochs_run, schedule, patch", [
    # 1.5x the epochs run, rounded up; a cosine's T_max stretched with it
    (1.0, 30.0, None, {"epochs": 45}),
    (0.0, 30.0, None, {"epochs": 47}),                   # epochs 0..30 are 31: 46.5 -> 47
    (1.0, 30.0, STEP, {"epochs": 45}),
    (1.0, 30.0, COSINE, {"epochs": 45, "scheduler_params": {"T_max": 45}}),
    (1.0, 7.0, None, {"epochs": 11}),                     # 10.5 -> 11
])
def test_train_longer(first, epochs_run, schedule, patch):
    (rec,) = run(improving(), first_epoch=first, epochs_run=epochs_run, schedule=schedule)
    assert rec.code == "train_longer" and rec.because == ("still_improving",)
    assert rec.patch == {"training": patch}
    assert (f"val_acc was still improving by 0.002 per epoch from epoch 26 to 30 (t = 4.2). "
            f"Give it {patch['epochs']} epochs") in rec.rationale


def ended(**more):
    return improving(kind="schedule_ended", lr_peak=0.02, lr_end_frac=0.004, **more)


def test_schedule_ended_cosine_is_stretched_with_a_floor():
    # 30 epochs run -> 45, T_max 45, eta_min 1 % of the peak LR 0.02
    (rec,) = run(ended(), schedule=COSINE)
    assert rec.code == "schedule_ended" and rec.because == ("still_improving",)
    assert rec.patch == {"training": {"epochs": 45, "scheduler": "CosineAnnealingLR",
                                      "scheduler_params": {"T_max": 45, "eta_min": 0.0002}}}
    assert "the LR had fallen to 0.4% of its peak" in rec.rationale
    assert "Stretch the cosine over 45 epochs" in rec.rationale
    assert "Restart it" not in rec.rationale


@pytest.mark.parametrize("schedule", [None, STEP])
def test_schedule_ended_other_schedules_restart(schedule):
    # epochs 0..29 are 30: restart every 30 over 60, down to 1 % of the peak
    (rec,) = run(ended(), schedule=schedule, first_epoch=0.0, epochs_run=29.0)
    assert rec.patch == {"training": {"epochs": 60, "scheduler": "CosineAnnealingWarmRestarts",
                                      "scheduler_params": {"T_0": 30, "T_mult": 1,
                                                           "eta_min": 0.0002}}}
    assert "cosine warm restarts every 30 epochs over 60 epochs" in rec.rationale
    assert "Stretch" not in rec.rationale


# -- underfitting alone: less dropout (0.2 lower, not below 0), twice the epochs ---------------

@pytest.mark.parametrize("config, dropout", [
    ({}, 0.1), ({"dropout": 0.5}, 0.3), ({"dropout": 0.3}, 0.1), ({"dropout": 0.1}, 0.0),
    ({"dropout": 0.333}, 0.13)])
@pytest.mark.parametrize("first, epochs_run, epochs", [(0.0, 14.0, 30), (1.0, 15.0, 30),
                                                       (1.0, 10.5, 21)])
def test_reduce_regularization(config, dropout, first, epochs_run, epochs):
    # twice the epochs run (counted from the first), rounded up
    (rec,) = run(finding("underfitting", train_col="train_acc", train_end=0.62), config=config,
                 first_epoch=first, epochs_run=epochs_run)
    assert rec.code == "reduce_regularization" and rec.because == ("underfitting",)
    assert rec.patch == {"model": {"dropout": dropout}, "training": {"epochs": epochs}}
    if config:
        assert f"Lower the dropout to {dropout:g} and train for {epochs} epochs" in rec.rationale
    else:          # no dropout in the log: "lower" to 0.1 may be a rise
        assert (f"Set the dropout to 0.1 or less (the log does not say what it is now) and train "
                f"for {epochs} epochs") in rec.rationale and "Lower" not in rec.rationale
    assert "train_acc is 0.62" in rec.rationale


def test_reduce_regularization_on_a_log_without_its_dropout(seed_log):
    """SST Try3 (underfitting; the log gives no dropout): it was told to 'lower the dropout to
    0.1', which for a model at 0.05 or none is a rise."""
    d = diagnose(read_history(seed_log("sst-try3")))
    rec = next(r for r in d.recommendations if r.code == "reduce_regularization")
    assert "Set the dropout to 0.1 or less (the log does not say what it is now)" in rec.rationale
    assert "把 dropout 设为 0.1 或更低（记录中没有当前值）" in recommendation(rec.code, rec.evidence, "zh")[1]


# -- the schedule does not fit the run ----------------------------------------------------------

@pytest.mark.parametrize("kind, advised", [
    ("stopped_early", True), ("rises_again", True), ("warmup_missing", False)])
def test_fit_schedule_to_run(kind, advised):
    recs = run(finding("schedule_mismatch", kind=kind, length=50.0),
               finding("schedule_mismatch", kind="rises_again", length=70.0) if advised else
               finding("schedule_mismatch", kind="other"),
               schedule=COSINE, first_epoch=0.0, epochs_run=24.0)
    if not advised:
        assert recs == ()
        return
    (rec,) = recs                                   # one piece of advice for several mismatches
    assert rec.code == "fit_schedule_to_run" and rec.because == ("schedule_mismatch",)
    assert rec.patch == {"training": {"scheduler_params": {"T_max": 25}}}
    assert ("The cosine schedule was fitted to 50 epochs but the run ended at epoch 24."
            in rec.rationale)


def test_fit_schedule_to_run_names_the_length_parameter_of_the_family():
    # torch's names: CosineAnnealingLR's T_max, LinearLR's and PolynomialLR's total_iters; a
    # mismatch without a fitted family (no schedule to stretch) gets no patch
    (rec,) = run(finding("schedule_mismatch", kind="stopped_early", length=40.0),
                 schedule=LINEAR, first_epoch=0.0, epochs_run=24.0)
    assert rec.patch == {"training": {"scheduler_params": {"total_iters": 25}}}
    assert "The linear schedule was fitted to 40 epochs" in rec.rationale
    assert run(finding("schedule_mismatch", kind="stopped_early")) == ()


def test_a_longer_run_that_stretches_the_schedule_is_the_only_length_patch():
    """catches: "train longer: 450 epochs, T_max 450" beside "fit the schedule: T_max 300" in
    one report (a warmup + cosine log of 300 epochs)."""
    recs = run(finding("still_improving", monitor="val_acc", k=5, slope=0.01, t=5.0,
                   from_epoch=16.0, to_epoch=20.0),
               finding("schedule_mismatch", kind="rises_again", length=290.0),
               schedule=COSINE, first_epoch=0.0, epochs_run=299.0)
    assert [r.code for r in recs] == ["train_longer"]
    assert recs[0].patch["training"]["scheduler_params"] == {"T_max": 450}


# -- the rest --------------------------------------------------------------------------------------

def test_select_by_accuracy():
    (rec,) = run(finding("metric_disagreement", loss_epoch=6.0, acc_epoch=14.0, monitor="val_f1"),
                 monitor="val_f1")
    assert rec.code == "select_by_accuracy" and rec.because == ("metric_disagreement",)
    assert rec.patch == {"training": {"early_stopping": {"monitor": "val_f1", "mode": "max"}},
                         "loss": {"label_smoothing": 0.1}}
    assert "bottomed out at epoch 6 while val_f1 improved until 14" in rec.rationale


@pytest.mark.parametrize("code", ["noisy_validation", "lucky_best"])
@pytest.mark.parametrize("window", [1, 4, 9])
def test_smooth_selection_over_5_epochs(code, window):
    # the stop rule's smoothing (3..5) but at least 5 epochs
    (rec,) = run(finding(code, sigma=0.0123), window=window)
    assert rec.code == "smooth_selection" and rec.because == (code,)
    assert rec.patch == {"training": {"early_stopping": {"smoothing": 5}}}
    assert "Epoch-to-epoch noise is 0.0123" in rec.rationale
    assert "the 5-epoch moving average" in rec.rationale


def test_smooth_selection_prefers_noisy_validation_and_tolerates_no_sigma():
    (rec,) = run(finding("lucky_best"), finding("noisy_validation", sigma=0.02))
    assert rec.because == ("noisy_validation",)
    (rec,) = run(finding("lucky_best"))
    assert "noise is nan" in rec.rationale


@pytest.mark.parametrize("k, patience", [(6, 3), (5, 2), (3, 2), (11, 5), (None, 2)])
def test_plateau_schedule(k, patience):
    ev = {"start": 20.0, "end": 30.0} | ({} if k is None else {"k": k})
    (rec,) = run(finding("plateau", **ev), monitor="val_loss", mode="min")
    assert rec.code == "plateau_schedule" and rec.because == ("plateau",)
    assert rec.patch == {"training": {
        "scheduler": "ReduceLROnPlateau",
        "scheduler_params": {"mode": "min", "factor": 0.5, "patience": patience},
        "early_stopping": {"monitor": "val_loss", "mode": "min", "patience": k or 5}}}
    assert "Nothing moved beyond noise over epochs 20-30." in rec.rationale


def test_a_plateau_whose_lr_was_already_lowered_is_told_to_stop_not_to_lower_it():
    (rec,) = run(finding("plateau", start=20.0, end=30.0, k=6, lr_from=1e-3, lr_to=2.5e-4,
                         lr_lowered=True), monitor="val_acc", mode="max")
    assert rec.code == "stop_at_plateau" and rec.because == ("plateau",)
    assert rec.patch == {"training": {"early_stopping": {"monitor": "val_acc", "mode": "max",
                                                         "patience": 6}}}
    assert "already been lowered there (0.001 -> 0.00025)" in rec.rationale


@pytest.mark.parametrize("run_dir, code", [
    # ReduceLROnPlateau already dropped the LR inside the plateau (8.1e-05 -> 2.43e-05)
    ("mnist/plateau/s2", "stop_at_plateau"),
    # a cosine annealed to 2 % of its peak before the plateau's end
    ("animal/cosine_annealed/s4", "stop_at_plateau"),
    # a constant LR 1e-3 all along: lowering it on the plateau is the advice
    ("animal/healthy/s1", "plateau_schedule"),
    # a cosine 3x longer than the run: the LR still at 80-90 % of its peak on the plateau
    ("animal/cosine_long/s0", "plateau_schedule"),
])
def test_plateau_advice_on_real_runs(run_dir, code):
    """The truth corpus's runs that level off: 'drop the LR on the plateau' (ReduceLROnPlateau)
    was advised to runs whose LR had already been dropped or annealed there."""
    d = diagnose(read_history(CORPUS / run_dir / "history.csv"))
    codes = [r.code for r in d.recommendations]
    assert "plateau" in d.codes and code in codes
    assert ("plateau_schedule" in codes) is (code == "plateau_schedule")
    assert ("stop_at_plateau" in codes) is (code == "stop_at_plateau")


def test_plateau_and_underfitting_advice_give_way_to_overfitting():
    codes = [r.code for r in run(overfit(), finding("plateau", start=20.0, end=30.0, k=6),
                                 finding("underfitting", train_col="train_acc", train_end=0.7))]
    assert codes == ["early_stop_at_onset", "regularize", "warm_restarts"]


def test_order_of_the_advice():
    recs = run(finding("no_learning", cause="lr_high", lr=0.1),
               finding("lr_epoch_confounded", r=0.95, lr_at_onset=0.01),
               improving(), finding("underfitting", train_col="train_acc", train_end=0.5),
               finding("schedule_mismatch", kind="stopped_early", length=40.0),
               finding("metric_disagreement", loss_epoch=3.0, acc_epoch=9.0, monitor="val_acc"),
               finding("noisy_validation", sigma=0.01),
               finding("plateau", start=1.0, end=30.0, k=5), peak_lr=0.1, schedule=LINEAR)
    # train longer stretches the linear schedule with the run (total_iters 45): no separate
    # schedule-length patch beside it
    assert [r.code for r in recs] == [
        "fix_no_learning", "constant_lr_control", "train_longer", "reduce_regularization",
        "select_by_accuracy", "smooth_selection", "plateau_schedule"]
    assert recs[2].patch["training"]["scheduler_params"] == {"total_iters": 45}


def test_advice_carrying_other_schedule_params_keeps_the_length_patch():
    """A run that overfits (its advice includes warm restarts, with scheduler_params) and stopped
    long before its linear schedule ended still gets the schedule-length patch (the ConvNeXt EEG
    log lost it when any scheduler_params counted as a stretch)."""
    recs = run(overfit(), finding("schedule_mismatch", kind="stopped_early", length=300.0),
               schedule=LINEAR, first_epoch=0.0, epochs_run=33.0)
    codes = [r.code for r in recs]
    assert "warm_restarts" in codes and "fit_schedule_to_run" in codes
    fit = recs[codes.index("fit_schedule_to_run")]
    assert fit.patch == {"training": {"scheduler_params": {"total_iters": 34}}}

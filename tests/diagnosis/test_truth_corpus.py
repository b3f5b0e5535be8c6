"""The diagnosis on real runs whose truth is known (bench/truth/corpus, PROTOCOL.md there): runs
trained by fitdoctor's own trainer with a large held-out test split as the truth."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.history.readers import read_history

from ..conftest import ROOT

CORPUS = ROOT / "bench" / "truth" / "corpus"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "truth"))


def _diag(run: str, **options):
    return diagnose(read_history(str(CORPUS / run / "history.csv")).with_options(**options))


# (a CSV says nothing of the optimizer: LR 1e-3 is high only for a pretrained encoder, which the
# log does not say, so the cause named there is the constant prediction; LR 0.5 is high for any)
@pytest.mark.parametrize("run, cause, constant", [("sentiment/lr_high/s0", "unknown", True),
                                                  ("mnist/lr_high_sgd/s0", "lr_high", True)])
def test_a_run_that_learned_nothing_is_called_so_with_a_patch(run, cause, constant):
    d = _diag(run)
    assert d.verdict == "no_learning"
    f = d.finding("no_learning")
    assert f.evidence["cause"] == cause
    assert bool(f.evidence["nl_constant"]) is constant
    assert "predicts one class" in f.message
    for code in ("lucky_best", "plateau", "noisy_validation", "overfitting"):
        assert code not in d.codes
    rec = next(r for r in d.recommendations if r.code == "fix_no_learning")
    lr = f.evidence["lr"]
    assert rec.patch["training"]["learning_rate"] == pytest.approx(lr / 10, rel=0.05)


def test_a_run_that_learns_is_not_no_learning():
    for run in ("sentiment/healthy/s2", "mnist/healthy/s2", "digits/lr_low/s2", "animal/overfit/s1"):
        assert "no_learning" not in _diag(run).codes, run


def test_validation_size_inferred_from_granularity_and_said():
    from fitdoctor.diagnosis.document import notes_text

    d = _diag("mnist/healthy/s0")                   # val_acc values are multiples of 1/300
    assert d.val_size == 300 and d.val_size_inferred
    assert any("inferred from the granularity" in n for n in notes_text(d, "en"))
    assert any("由 val_acc 的取值粒度推断" in n for n in notes_text(d, "zh"))
    given = _diag("mnist/healthy/s0", val_size=300)
    assert given.val_size_inferred is False
    assert not any("granularity" in n or "sampling error" in n for n in notes_text(given, "en"))


def test_levels_stay_within_what_the_data_support_on_every_corpus_run():
    from protocol import load_corpus

    for run in load_corpus(str(CORPUS)):
        d = diagnose(read_history(f"{run.folder}/history.csv"))
        b = d.best
        assert b.expected <= b.value + 1e-12, run.name          # never above the best seen
        assert 0.0 <= b.ci95[0] <= b.expected <= b.ci95[1] <= 1.0, run.name


def test_interval_covers_the_test_accuracy_on_the_report_half():
    """The 95 % interval of the chosen checkpoint's level (validation size given) covers its
    accuracy on the held-out test split in >= 90 % of the report half's runs, and is not
    uselessly wide. Dropping the sampling error or the epoch-noise term fails this."""
    from diagnosis_real import score
    from protocol import load_corpus

    rows = [score(r, "given") for r in load_corpus(str(CORPUS)) if r.half == "report"]
    assert len(rows) >= 90
    assert np.mean([r["covered"] for r in rows]) >= 0.90
    assert np.mean([r["width"] for r in rows]) / 2 < 0.06


def test_denominator_from_rounded_values_and_no_guess_from_chance():
    from fitdoctor.diagnosis.stats import infer_denominator

    exact = np.arange(400, 441) / 1101            # the SST dev set's size
    assert infer_denominator(exact) == 1101
    assert infer_denominator(np.round(exact, 4)) == 1101      # 4 decimals still prove it
    assert infer_denominator(np.round(exact, 3)) is None      # 3 decimals fit every N ~ 1000
    assert infer_denominator(np.round(np.random.default_rng(0).random(40), 4)) is None
    # 3 decimals cannot tell N above 500 apart: every such value is within 0.4 of a multiple of
    # 1/800 (800 x 0.0005), which once "inferred" N = 800 for sets of 900-2,000 (bench/simulate.py)
    rng = np.random.default_rng(1)
    for n in (900, 1000, 2000):
        assert infer_denominator(np.round(rng.integers(int(0.6 * n), n, 80) / n, 3)) is None, n
    # exact k/500 values all above 0.75 also fit 1/499 within the rounding, but worse
    assert infer_denominator(np.round(np.arange(376, 420) / 500, 3)) == 500


def test_accuracy_flat_while_validation_loss_climbs_is_overfitting():
    """MiniLM, 25 epochs at LR 5e-5 on 2,000 sentences: val_acc levels off by epoch 4 while the
    validation loss climbs from 0.60 to 1.11 and the training loss falls to 1e-3 (the test loss
    rises 0.53 -> 1.30 in truth). The accuracy alone never falls beyond noise: without the
    loss path this run was 'plateau'."""
    d = _diag("sentiment/overfit/s1")
    assert d.verdict == "overfitting"
    f = d.finding("overfitting")
    assert f.evidence["kind"] == "loss"
    assert f.evidence["loss_epoch"] == 3
    # by hand from history.csv, 3-epoch running medians: lowest at epoch 3, median(0.5127,
    # 0.6752, 0.5961) = 0.5961; at the end the median of the last quarter (6 epochs, 19-24:
    # 1.0321 1.0486 1.06642 1.10542 1.11038 1.11618) = (1.06642 + 1.10542) / 2 = 1.08592
    assert f.evidence["loss_min"] == pytest.approx(0.5961, abs=1e-4)
    assert f.evidence["loss_end"] == pytest.approx(1.08592, abs=1e-5)
    assert f.evidence["loss_rise"] == pytest.approx(1.08592 / 0.5961 - 1, abs=0.001)
    assert "metric_disagreement" not in d.codes      # the loss path says it, consistently
    assert "validation loss rose" in f.message and "stopped improving at epoch" in f.message
    assert "stable_gap" not in d.codes          # "this is not overfitting" would contradict it
    assert 2 <= d.overfitting.onset_epoch <= 8


@pytest.mark.parametrize("run", ["mnist/plateau/s3", "digits/cosine_long/s0"])
def test_a_knee_in_the_validation_loss_is_not_a_rise(run):
    """After a steep drop the local-quadratic trend dips below every observed loss (0.118
    against 0.138 at least on mnist/plateau/s3), which once faked a 25 % rise; the loss path reads
    running medians of the logged values, which never leave them."""
    f = _diag(run).finding("overfitting")
    assert f is None or f.evidence.get("kind") != "loss"


@pytest.mark.parametrize("run", ["digits/lr_high_sgd/s1", "digits/lr_high_sgd/s2"])
def test_a_collapse_to_a_constant_prediction_is_no_learning(run):
    """SGD at LR 0.5: the accuracy reaches 0.2-0.3 in the first epochs, then the model collapses
    to one class (val_acc 0.097-0.103, train loss ln 10) for the rest of the run. The accuracy
    is not flat over the run, so the flat-accuracy rule alone called these healthy/plateau."""
    d = _diag(run)
    assert d.verdict == "no_learning"
    assert d.finding("no_learning").evidence["cause"] == "lr_high"


def test_onset_on_a_real_run_is_the_true_one_not_later():
    """catches: the overfitting onset no longer clamped to the smoothed validation peak
    (``onset = min(onset, reach + argmax(v.trend[reach:]))`` dropped): on this run the onset
    moves from epoch 2 (the truth) to epoch 3.

    MiniLM, 12 epochs on 2,000 sentences (sentiment/healthy/s2). The truth, by hand from
    truth.csv (PROTOCOL.md's rule, 6,000 test sentences): the centred 3-epoch mean of the test
    accuracy is 0.7257 at epoch 1 and 0.7879 at epoch 2, its maximum about 0.794, and a change
    below tol = 2 sqrt(2 p (1 - p) / 6000) ~ 0.0148 is not real, so the test accuracy reached its
    best level at epoch 2 and never rose beyond it; the test loss doubles after that while the
    training loss falls 0.33 -> 0.02: overfitting from epoch 2."""
    truth = pd.read_csv(CORPUS / "sentiment/healthy/s2/truth.csv")
    acc = truth["test_acc"].to_numpy()
    sm = np.convolve(acc, np.ones(3) / 3, mode="valid")          # sm[k] centred on epoch k + 1
    peak = sm.max()
    tol = 2 * np.sqrt(2 * peak * (1 - peak) / 6000)
    true_onset = 1 + int(np.argmax(sm >= peak - tol))
    assert true_onset == 2 and sm[0] < peak - tol                  # epoch 1 is still below it

    d = _diag("sentiment/healthy/s2")
    assert d.verdict == "overfitting"
    assert d.overfitting.onset_epoch == true_onset
    assert d.finding("overfitting").evidence.get("kind") != "loss"   # the gap path decides


def test_the_last_cycle_of_warm_restarts_climbing_back_is_not_still_improving(tmp_path):
    """CosineAnnealingWarmRestarts (T_0 8) on digits: val_acc climbs within each cycle as the LR
    anneals, back to about 0.99 every time (the test accuracy ends at 0.974, not rising). The
    rise inside the last cycle is the schedule, not a run that wants more epochs; it was called
    still improving ('train longer'). A run whose cycles end higher and higher still is."""
    d = _diag("digits/warm_restarts/s1")
    assert "still_improving" not in d.codes
    # the same LR, each cycle ending 0.03 higher than the one before: improving across cycles
    import pandas as pd

    src = pd.read_csv(CORPUS / "digits" / "warm_restarts" / "s1" / "history.csv")
    t = np.arange(32)
    cycle, within = t // 8, (t % 8) / 7
    src["val_acc"] = 0.80 + 0.03 * cycle + 0.05 * within
    src["train_acc"] = 0.85 + 0.03 * cycle + 0.05 * within
    src.to_csv(tmp_path / "rising.csv", index=False)
    d = diagnose(read_history(str(tmp_path / "rising.csv")))
    assert "still_improving" in d.codes


def test_short_accuracies_from_a_precise_writer_are_exact(tmp_path):
    """MiniLM's 500 validation sentences: val_acc is written 0.578, 0.716... (k/500 has at most 3
    decimals) while the same writer gives val_f1 and train_acc 6 significant digits. Such short
    values are exact, so N = 500 is proven (3 decimals alone could be any N near 1,000 rounded).
    The same file with every proportion rounded to 4 decimals says nothing of the writer: no N.
    Console text never lends one column's precision to another."""
    from fitdoctor.diagnosis.document import notes_text

    src = CORPUS / "sentiment" / "healthy" / "s0" / "history.csv"
    d = diagnose(read_history(src))
    assert d.val_size == 500 and d.val_size_inferred
    table = pd.read_csv(src)
    assert table["val_acc"].map(lambda x: len(repr(x).split(".")[1])).max() <= 3
    rounded = table.assign(train_acc=table["train_acc"].round(4), val_f1=table["val_f1"].round(4))
    path = tmp_path / "rounded.csv"
    rounded.to_csv(path, index=False)
    d = diagnose(read_history(path))
    assert d.val_size is None                  # not proof enough: said, not guessed
    assert any("leaves out the validation set's sampling error" in n for n in notes_text(d, "en"))
    assert any("没有计入验证集的抽样误差" in n for n in notes_text(d, "zh"))
    # only the same evaluation's columns speak for the writer: a training accuracy in full
    # beside a validation accuracy of 3 decimals may be a running mean beside a rounded score
    no_f1 = tmp_path / "no_f1.csv"
    table.drop(columns=["val_f1"]).assign(train_acc=table["train_acc"] + 1e-7).to_csv(no_f1, index=False)
    assert diagnose(read_history(no_f1)).val_size is None
    # the writer keeps 6 decimals for val_f1 but the log is console text: no N
    lines = [f"Epoch {int(r.epoch)}: train_loss={r.train_loss} train_acc={r.train_acc} "
             f"val_loss={r.val_loss} val_acc={r.val_acc} val_f1={r.val_f1}" for r in table.itertuples()]
    console = tmp_path / "train.log"
    console.write_text("\n".join(lines) + "\n", encoding="utf-8")
    h = read_history(console)
    assert h.format == "console" and diagnose(h).val_size is None


def test_a_precise_writer_makes_only_short_values_exact():
    from fitdoctor.diagnosis.stats import infer_denominator

    k = np.arange(150, 162)
    short = k / 500                                   # at most 3 decimals each
    # alone, 12 values all even in the third decimal happen by chance (0.5^12 > 1e-6) for any N
    # near 1,000 rounded to 3 decimals: no N
    assert infer_denominator(short) is None
    assert infer_denominator(short, written=6) == 500
    # 6-decimal values are already rounded to their own last digit (176/300 = 0.586667): a
    # writer showing 9 decimals elsewhere does not make them exact (they would then fit no N)
    six = np.round(k / 300, 6)
    assert infer_denominator(six) == 300
    assert infer_denominator(six, written=9) == 300
    # values that fit 1/100 (or 1/1000) exactly are what rounding to 2 (3) decimals gives too:
    # no N, whatever the writer (N = 10,000 rounded to 2 decimals once "inferred" N = 100)
    rounded = np.round(np.random.default_rng(3).integers(7600, 9200, 40) / 10_000, 2)
    assert infer_denominator(rounded, written=9) is None


def test_a_warm_restart_climbing_back_does_not_veto_overfitting_by_the_loss():
    # MiniLM under CosineAnnealingWarmRestarts (T_0=5): the validation loss doubles from epoch 1
    # while the training loss falls to 0.005; the accuracy climbs back within each cycle (the
    # schedule's doing) but ends no higher than the earlier cycles. Truth: overfitting, onset 2.
    d = _diag("sentiment/warm_restarts/s3")
    assert d.verdict == "overfitting"
    f = d.finding("overfitting")
    assert f.evidence["kind"] == "loss"
    assert abs(d.overfitting.onset_epoch - 2) <= 2
    assert "still_improving" not in d.codes and "metric_disagreement" not in d.codes


def _cli_json(*runs: str) -> list[dict]:
    """``fitdoctor diagnose RUN/history.csv ... --json``, as a user runs it: the CSV alone."""
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "diagnose",
                        *[str(CORPUS / r / "history.csv") for r in runs], "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    docs = json.loads(p.stdout)
    return docs if isinstance(docs, list) else [docs]


def test_an_accuracy_dip_while_the_validation_loss_holds_is_not_overfitting():
    """animal/cosine_annealed/s1 (calibration half): the LR anneals towards 0 over the second
    half; val_acc ends at 0.880 after 0.897 at epochs 15 and 17 (5 of 300 images, beyond the
    tiny epoch-to-epoch noise of a model that barely changes any more), the train-val gap grows
    0.065 -> 0.114 as the training accuracy reaches 0.99, and the validation loss stays at its
    lowest (0.331-0.348 over the last 15 epochs). In truth nothing got worse: the test accuracy
    (4,000 images) goes 0.867 -> 0.880 from epoch 10 and its loss holds at 0.39 (PROTOCOL.md:
    plateau). It was called overfitting from epoch 10. A run whose validation loss rose too
    (sentiment/plateau/s1: accuracy 3.4 points down, loss +88 %) still is."""
    calm, overfit = _cli_json("animal/cosine_annealed/s1", "sentiment/plateau/s1")
    assert calm["verdict"] == "plateau" and calm["overfitting"]["detected"] is False
    gap = next(f for f in calm["findings"] if f["code"] == "stable_gap")
    assert gap["evidence"]["kind"] == "val_holds" and "did not get worse" in gap["message"]
    assert overfit["verdict"] == "overfitting" and overfit["overfitting"]["detected"] is True


def test_a_significant_rise_worth_less_than_a_point_is_not_still_improving():
    """mnist/overfit_long/s0 (calibration half), 60 epochs at a constant LR: the training
    accuracy is 1.0 from epoch 8; val_acc creeps 0.953 -> 0.957 over the last 30 epochs (one of
    300 images, 0.0003 an epoch: t 4.1 on its quantised, near-noiseless curve). Kept for another
    15 epochs that gains 0.4 points; the test accuracy (3,000 images) sits at 0.914-0.922 from
    epoch 15 (PROTOCOL.md: plateau). It was told to train longer. A run that still gains several
    points a quarter (digits/lr_low/s1: 0.0125 an epoch) still is."""
    flat, rising = _cli_json("mnist/overfit_long/s0", "digits/lr_low/s1")
    assert flat["verdict"] in ("healthy", "plateau")
    assert "still_improving" not in [f["code"] for f in flat["findings"]]
    assert "train_longer" not in [r["code"] for r in flat["recommendations"]]
    assert "still_improving" in [f["code"] for f in rising["findings"]]
    assert "train_longer" in [r["code"] for r in rising["recommendations"]]


def test_onset_within_two_epochs_of_the_truth_on_the_calibration_half():
    """Every true overfitting run of the calibration half (16, all MiniLM) has the reported onset
    within +-2 epochs of the test split's (PROTOCOL.md). The earlier rule (the smoothed curve's
    first point near its peak) had sentiment/val100/s1 at 5 for a true 2; a report half run shows
    the same: sentiment/overfit/s3, best 0.744 at epoch 4, the smoothed curve near its peak only
    from 8, true onset 5."""
    from diagnosis_real import score
    from protocol import load_corpus

    rows = [score(r, "inferred") for r in load_corpus(str(CORPUS)) if r.half == "calibrate"]
    of = [r for r in rows if r["true_overfit"]]
    assert len(of) == 16
    assert [r["run"] for r in of if not r["onset_ok"]] == []
    assert _diag("sentiment/overfit/s3").overfitting.onset_epoch == 4.0

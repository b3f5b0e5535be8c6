"""compare / run_input / expected_max_curve, pinned number by number.

Every expected value here is worked out in the test from the documented rule: textbook formulas
computed with scipy/numpy (z-test of a difference of two means, two-proportion z-test, Welch's
t-test, exact McNemar, Holm), exact enumeration (bootstrap distributions, E[best of n]) or plain
arithmetic on the inputs. Nothing is asked of comparison.py to produce an expectation.

Diagnoses are built by hand so that each run's best, smoothed best, 95 % interval and validation
size are exactly what the test says."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fitdoctor.diagnosis.comparison import RunInput, compare, expected_max_curve, run_input
from fitdoctor.diagnosis.types import Best, Diagnosis, Overfitting
from fitdoctor.history.core import make_history

Z = stats.norm.ppf(0.975)             # the two-sided 95 % normal quantile, 1.959963984540054
RANK_NOTE = ("Runs are ranked by their smoothed best (the bias-corrected level of the curve), not "
             "the raw peak: a maximum over many noisy epochs is biased upward.")
SEED_NOTE = ("Runs that differ only in training.seed are grouped; their smoothed bests are "
             "compared with Welch's t-test over seeds.")
NOISE = "z-test from the curves' noise"
WELCH = "Welch t-test over seeds"
PAIRED = "paired predictions: McNemar, bootstrap CI"
ONE_RUN = "t-test: one run as another seed of the group"      # the method as the table shows it
ONE_RUN_NOTE = ("A single run against a group of seeds is tested as one more seed of that group "
                "(t-test on the seeds' spread).")


def diag(value, *, expected=None, ci=None, epoch=10.0, index=10, monitor="val_acc", mode="max",
         val_size=None, overfitting=None, verdict="good fit", train_column=None):
    """A diagnosis whose best is `value` (raw peak), `expected` (smoothed) with interval `ci`."""
    best = Best(epoch=epoch, value=value, index=index, ci95=ci, expected=expected,
                tied_epochs=(epoch,), noise=None, sampling_se=None)
    return Diagnosis(source="test", format="test", name="run", monitor=monitor, mode=mode,
                     monitor_reason="chosen", n_points=30, best=best, final_epoch=29.0,
                     final_value=value, overfitting=Overfitting(**(overfitting or {})), phases=(),
                     findings=(), recommendations=(), lr=None, schedule=None, verdict=verdict,
                     notes=(), val_size=val_size, train_column=train_column)


def run(name, value, *, config=None, correct=None, **kw):
    return RunInput(name, diag(value, **kw), dict(config or {}), correct)


def loss_run(name, smoothed, ci, **kw):
    """A loss curve (min mode, no validation size): judged by the curves' own noise."""
    return run(name, smoothed - 0.01, expected=smoothed, ci=ci, monitor="val_loss", mode="min", **kw)


def pair(comp, a, b):
    (p,) = [p for p in comp.pairs if (p.a, p.b) == (a, b)]
    return p


def se_of(ci):
    """The standard error behind a symmetric normal 95 % interval: its width / (2 z)."""
    return (ci[1] - ci[0]) / (2 * Z)


def z_test(va, sa, vb, sb):
    """z-test for the difference of two independent estimates: delta, 95 % CI, two-sided p."""
    delta, se = vb - va, math.sqrt(sa ** 2 + sb ** 2)
    return delta, (delta - Z * se, delta + Z * se), 2 * stats.norm.sf(abs(delta) / se)


def holm(pvals):
    """Holm step-down: k-th smallest p times (m - k), running maximum, capped at 1."""
    order = sorted(range(len(pvals)), key=lambda i: pvals[i])
    out, running = [0.0] * len(pvals), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(pvals) - k) * pvals[i]))
        out[i] = running
    return out


def welch(xa, xb):
    """Welch's t-test of mean(xb) - mean(xa): delta, se, Welch-Satterthwaite df, two-sided p."""
    xa, xb = np.asarray(xa, float), np.asarray(xb, float)
    va, vb = xa.var(ddof=1) / len(xa), xb.var(ddof=1) / len(xb)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(xa) - 1) + vb ** 2 / (len(xb) - 1))
    delta = xb.mean() - xa.mean()
    return delta, se, df, 2 * stats.t.sf(abs(delta / se), df)


def exact_p_better(xa, xb, sign):
    """Exact P(sign * (mean of a resample of xb - mean of a resample of xa) > 0), resampling
    each group's seeds with replacement: the quantity the seed bootstrap estimates."""
    ma = [np.mean(c) for c in itertools.product(xa, repeat=len(xa))]
    mb = [np.mean(c) for c in itertools.product(xb, repeat=len(xb))]
    return float(np.mean([[sign * (b - a) > 0 for a in ma] for b in mb]))


def mcnemar_exact(only_a, only_b):
    """Two-sided exact McNemar p: twice the binomial(n, 1/2) tail of the smaller count, <= 1."""
    n, k = only_a + only_b, min(only_a, only_b)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


# --- z-test from the curves' noise ---------------------------------------------------------

@pytest.mark.parametrize("ci_b, significant", [
    ((0.500, 0.560), False),          # B's curve is noisy: 0.03 apart is within the noise
    ((0.525, 0.535), True),           # B's curve is tight: the same 0.03 is real
])
def test_noise_z_test_uses_the_smoothed_bests_and_the_intervals_widths(ci_b, significant):
    """Without predictions, seeds or a validation size (a loss is not a proportion), a pair is a
    z-test on the smoothed bests with SE = interval width / (2 * 1.96) for each run. The raw
    peaks (0.49 < 0.52) would rank B first; the smoothed bests (0.50 < 0.53) rank A first."""
    a = run("A", 0.49, expected=0.50, ci=(0.49, 0.51), monitor="val_loss", mode="min")
    b = run("B", 0.48, expected=0.53, ci=ci_b, monitor="val_loss", mode="min")
    c = compare([b, a])
    assert [e.name for e in c.entries] == ["A", "B"]
    assert [e.value for e in c.entries] == pytest.approx([0.50, 0.53])
    assert [e.raw_best for e in c.entries] == pytest.approx([0.49, 0.48])
    delta, ci, p = z_test(0.50, se_of((0.49, 0.51)), 0.53, se_of(ci_b))
    (pr,) = c.pairs
    assert (pr.a, pr.b, pr.method, pr.p_b_better) == ("A", "B", NOISE, None)
    assert pr.delta == pytest.approx(delta, rel=1e-12)
    assert pr.ci95 == pytest.approx(ci, rel=1e-9)
    assert pr.p_value == pytest.approx(p, rel=1e-9) and pr.p_holm == pytest.approx(p, rel=1e-9)
    assert pr.significant is significant is bool(p < 0.05)
    assert c.best_group == (("A",) if significant else ("A", "B"))


@pytest.mark.parametrize("vb, p, significant", [
    (0.30, 1.0, False),               # zero-width intervals and the same level: no difference
    (0.35, 0.0, True),                # zero-width intervals, different levels: certain
])
def test_noise_z_test_with_zero_width_intervals(vb, p, significant):
    """SE = 0 on both sides: the difference is either exactly nothing (p = 1) or certain (p = 0),
    and the interval of the difference is the single point delta."""
    c = compare([loss_run("A", 0.30, (0.30, 0.30)), loss_run("B", vb, (vb, vb))])
    (pr,) = c.pairs
    assert pr.delta == pytest.approx(vb - 0.30, abs=1e-15)
    assert pr.ci95 == (pr.delta, pr.delta)
    assert pr.p_value == p and pr.p_holm == p and pr.significant is significant


def test_p_exactly_at_the_level_is_not_significant():
    """'Significant' means Holm p < 0.05, strictly. Run B's level is 1.959963984540054 above
    A's with SE 1 (interval width 2 * 1.96) and A's SE 0: z = 1.96, two-sided p = 0.05 exactly."""
    z = 1.959963984540054
    assert 2 * stats.norm.sf(z / 1.0) == 0.05                 # the precondition, by hand
    c = compare([loss_run("A", 0.0, (0.0, 0.0)), loss_run("B", z, (0.0, 2 * z))])
    (pr,) = c.pairs
    assert pr.p_value == 0.05 and pr.p_holm == 0.05
    assert pr.significant is False and c.best_group == ("A", "B")


def test_a_run_without_interval_is_too_short_to_test_and_never_significant():
    """A run whose best has no interval cannot be tested: delta is still b - a, the interval and
    p are NaN, the pair is not significant, and the run stays in the best group. Holm runs over
    the pairs that do have a p (here the one pair A-C, so its Holm p is its raw p)."""
    a, c_ = loss_run("A", 0.30, (0.29, 0.31)), loss_run("C", 0.60, (0.59, 0.61))
    short = run("B", 0.31, expected=0.32, ci=None, monitor="val_loss", mode="min")
    c = compare([c_, short, a])
    assert [e.name for e in c.entries] == ["A", "B", "C"]
    for x, y in (("A", "B"), ("B", "C")):
        pr = pair(c, x, y)
        assert pr.method == "too short to test" and pr.significant is False
        assert math.isnan(pr.p_value) and math.isnan(pr.p_holm)
        assert all(math.isnan(v) for v in pr.ci95)
    assert pair(c, "A", "B").delta == pytest.approx(0.32 - 0.30)
    assert pair(c, "B", "C").delta == pytest.approx(0.60 - 0.32)
    _, _, p = z_test(0.30, se_of((0.29, 0.31)), 0.60, se_of((0.59, 0.61)))
    ac = pair(c, "A", "C")
    assert ac.p_value == pytest.approx(p, rel=1e-9, abs=1e-300) and ac.p_holm == ac.p_value
    assert ac.significant
    assert c.best_group == ("A", "B")


@pytest.mark.parametrize("missing", ["first", "second"])
def test_one_missing_interval_is_enough_to_make_a_pair_untestable(missing):
    """Either run lacking an interval makes the pair 'too short to test'."""
    with_ci, without = loss_run("A", 0.30, (0.29, 0.31)), run(
        "B", 0.34, expected=0.35, ci=None, monitor="val_loss", mode="min")
    if missing == "first":
        with_ci, without = loss_run("B", 0.35, (0.34, 0.36)), run(
            "A", 0.29, expected=0.30, ci=None, monitor="val_loss", mode="min")
    (pr,) = compare([with_ci, without]).pairs
    assert (pr.a, pr.b, pr.method, pr.significant) == ("A", "B", "too short to test", False)
    assert pr.delta == pytest.approx(0.05)


def test_all_pairs_untestable_still_gives_a_comparison():
    """No pair has a p-value: nothing to Holm-correct, nothing significant, everyone in the group."""
    runs = [run(n, v, ci=None, monitor="val_loss", mode="min") for n, v in (("A", 0.3), ("B", 0.4))]
    c = compare(runs)
    assert [p.method for p in c.pairs] == ["too short to test"]
    assert c.best_group == ("A", "B")


# --- Holm across pairs, and the group indistinguishable from the best ------------------------

def test_holm_skips_untestable_pairs_and_keeps_each_p_with_its_pair():
    """Four runs, ranked T, U, V, W; U has no interval, so T-U, U-V, U-W have no p. Holm is over
    the three other pairs (m = 3), each corrected p going back to its own pair."""
    ses = {"T": 0.02, "V": 0.001, "W": 0.05}
    vals = {"T": 0.50, "U": 0.52, "V": 0.56, "W": 0.62}
    runs = [run("U", 0.51, expected=0.52, ci=None, monitor="val_loss", mode="min")] + [
        loss_run(n, vals[n], (vals[n] - Z * ses[n], vals[n] + Z * ses[n])) for n in ("W", "V", "T")]
    c = compare(runs)
    assert [e.name for e in c.entries] == ["T", "U", "V", "W"]
    tested = [("T", "V"), ("T", "W"), ("V", "W")]
    raw = [z_test(vals[a], ses[a], vals[b], ses[b])[2] for a, b in tested]
    for (a, b), p, ph in zip(tested, raw, holm(raw)):
        pr = pair(c, a, b)
        assert pr.p_value == pytest.approx(p, rel=1e-6) and pr.p_holm == pytest.approx(ph, rel=1e-6)
        assert pr.significant is bool(ph < 0.05)
    # by hand: raw p 0.0027, 0.026, 0.23; Holm 0.008, 0.052, 0.23 (T-W: raw < 0.05, Holm not)
    assert [pair(c, *k).significant for k in tested] == [True, False, False]
    assert c.best_group == ("T", "U", "W")


def test_holm_caps_corrected_p_at_one():
    """Three runs close together: (m - k) * p exceeds 1 and Holm caps it at 1."""
    runs = [loss_run(n, v, (v - 0.1, v + 0.1)) for n, v in (("A", 0.50), ("B", 0.51), ("C", 0.52))]
    c = compare(runs)
    raw = [pair(c, *k).p_value for k in (("A", "B"), ("A", "C"), ("B", "C"))]
    expected = [z_test(va, se_of((0, 0.2)), vb, se_of((0, 0.2)))[2]
                for va, vb in ((0.50, 0.51), (0.50, 0.52), (0.51, 0.52))]
    assert raw == pytest.approx(expected, rel=1e-9)
    assert 3 * min(expected) > 1                               # so every Holm p is capped
    assert [p.p_holm for p in c.pairs] == [1.0, 1.0, 1.0]


def test_best_group_is_the_runs_not_significantly_worse_than_the_top_one():
    """Group = top run + every run whose pair with the top run is not significant (after Holm);
    a run significantly worse than some other run, but not than the top, stays in."""
    spec = {"T": (0.50, 0.02), "U": (0.52, 0.02), "V": (0.56, 0.001), "W": (0.70, 0.001)}
    runs = [loss_run(n, v, (v - Z * s, v + Z * s)) for n, (v, s) in spec.items()]
    c = compare(runs[::-1])
    names = [e.name for e in c.entries]
    assert names == ["T", "U", "V", "W"]
    keys = list(itertools.combinations(names, 2))
    raw = [z_test(spec[a][0], spec[a][1], spec[b][0], spec[b][1])[2] for a, b in keys]
    sig = {k: bool(ph < 0.05) for k, ph in zip(keys, holm(raw))}
    assert {k: pair(c, *k).significant for k in keys} == sig
    expected_group = ("T",) + tuple(n for n in names[1:] if not sig[("T", n)])
    assert c.best_group == expected_group == ("T", "U")      # V and W are worse than T
    assert not sig[("U", "V")]                                 # V is indistinguishable from U


# --- two-proportion z-test with a validation size ----------------------------------------------

def proportion_p(pa, pb, n):
    """Two-proportion z-test (unpooled): SE = sqrt(pa(1-pa)/N + pb(1-pb)/N)."""
    se = math.sqrt(pa * (1 - pa) / n + pb * (1 - pb) / n)
    d = pb - pa
    return d, (d - Z * se, d + Z * se), 2 * stats.norm.sf(abs(d) / se)


@pytest.mark.parametrize("option, size_a, size_b, n", [
    (1000, None, None, 1000),         # --val-size
    (None, 1000, None, 1000),         # known for the first run of the pair
    (None, None, 1000, 1000),         # known for the second run only
    (1000, 400, 250, 1000),           # --val-size wins over what the runs say
    (None, 1000, 250, 1000),          # the first run's size before the second's
])
def test_two_proportion_z_test_takes_n_from_the_option_then_the_runs(option, size_a, size_b, n):
    """An accuracy with a validation size N: two-proportion z-test on the smoothed bests."""
    a = run("A", 0.870, expected=0.862, ci=(0.85, 0.874), val_size=size_a)
    b = run("B", 0.848, expected=0.840, ci=(0.83, 0.85), val_size=size_b)
    (pr,) = compare([a, b], val_size=option).pairs
    delta, ci, p = proportion_p(0.862, 0.840, n)
    assert (pr.a, pr.b, pr.method, pr.p_b_better) == ("A", "B", f"two-proportion z-test, N={n}", None)
    assert pr.delta == pytest.approx(delta, rel=1e-12)
    assert pr.ci95 == pytest.approx(ci, rel=1e-9)
    assert pr.p_value == pytest.approx(p, rel=1e-9) and pr.significant is bool(p < 0.05)


def test_a_perfect_score_contributes_no_sampling_variance():
    """p = 1.0 has p(1-p) = 0: the SE of the difference is B's alone (sqrt(0.99 * 0.01 / N))."""
    a = run("A", 1.0, expected=1.0, ci=(0.99, 1.0))
    b = run("B", 0.99, expected=0.99, ci=(0.98, 1.0))
    (pr,) = compare([a, b], val_size=1000).pairs
    se = math.sqrt(0.99 * 0.01 / 1000)
    assert pr.ci95 == pytest.approx((-0.01 - Z * se, -0.01 + Z * se), rel=1e-6)
    assert pr.p_value == pytest.approx(2 * stats.norm.sf(0.01 / se), rel=1e-6)
    both = compare([a, run("B", 1.0, expected=1.0, ci=(0.99, 1.0))], val_size=1000).pairs[0]
    assert both.delta == 0 and both.p_value == pytest.approx(1.0) and not both.significant


def test_a_validation_size_does_not_turn_a_loss_into_a_proportion():
    """N only matters for accuracy-like metrics: a loss with --val-size is still judged by its
    curves' noise."""
    a, b = loss_run("A", 0.30, (0.29, 0.31)), loss_run("B", 0.33, (0.31, 0.35))
    (pr,) = compare([a, b], val_size=1000).pairs
    _, _, p = z_test(0.30, se_of((0.29, 0.31)), 0.33, se_of((0.31, 0.35)))
    assert pr.method == NOISE and pr.p_value == pytest.approx(p, rel=1e-9)


# --- paired predictions --------------------------------------------------------------------

def paired_sets(n=400):
    """A right on the first 80 %; B fixes 20 of A's errors and breaks 4 of its right answers."""
    a = np.arange(n) < int(0.8 * n)
    b = a.copy()
    b[int(0.8 * n):int(0.8 * n) + 20] = True
    b[:4] = False
    return a, b


def test_paired_predictions_exact_mcnemar_and_bootstrap_interval():
    """Same examples for both runs: delta = acc(B) - acc(A); exact McNemar on the 4 + 20
    discordant examples; the paired bootstrap interval is about delta +- 1.96 sd(b - a)/sqrt(n)
    (its resolution is 1/n, so the tolerance is two steps of 1/400)."""
    a, b = paired_sets()
    runs = [run("A", 0.81, expected=0.80, ci=(0.78, 0.82), correct=a),
            run("B", 0.83, expected=0.84, ci=(0.82, 0.86), correct=b)]
    c = compare(runs)
    pr = pair(c, "B", "A")
    assert pr.method == PAIRED and pr.p_b_better is None
    assert pr.delta == pytest.approx(a.mean() - b.mean(), abs=1e-15) == pytest.approx(-16 / 400)
    p = mcnemar_exact(20, 4)
    assert pr.p_value == pytest.approx(p, rel=1e-9) and pr.p_holm == pytest.approx(p, rel=1e-9)
    d = a.astype(float) - b.astype(float)
    half = Z * d.std() / math.sqrt(len(d))
    assert pr.ci95[0] == pytest.approx(pr.delta - half, abs=0.005)
    assert pr.ci95[1] == pytest.approx(pr.delta + half, abs=0.005)
    assert pr.significant and c.best_group == ("B",)


def test_paired_bootstrap_resamples_every_example():
    """Four examples, B fixes A's one error (example 0). Resampling 4 of 4 examples, example 0
    appears k ~ Binomial(4, 1/4) times and the difference is k/4: P(k=0) = 0.32, P(k<=2) = 0.95,
    P(k<=3) = 0.996, so the 2.5 % and 97.5 % points are 0 and 3/4."""
    a, b = np.array([False, True, True, True]), np.array([True, True, True, True])
    (pr,) = compare([run("A", 0.75, correct=a), run("B", 1.0, correct=b)]).pairs
    assert (pr.a, pr.b) == ("B", "A")
    assert pr.delta == -0.25 and pr.ci95 == pytest.approx((-0.75, 0.0), abs=1e-12)
    assert pr.p_value == pytest.approx(mcnemar_exact(0, 1)) == 1.0


def test_identical_predictions_give_p_one():
    """No discordant example: McNemar has nothing to test, p = 1 and the interval is (0, 0)."""
    a = np.arange(50) < 40
    (pr,) = compare([run("A", 0.8, correct=a), run("B", 0.8, correct=a.copy())]).pairs
    assert pr.method == PAIRED and pr.delta == 0 and pr.ci95 == (0.0, 0.0)
    assert pr.p_value == 1.0 and pr.p_holm == 1.0 and not pr.significant


@pytest.mark.parametrize("which", ["A", "B", "lengths"])
def test_predictions_are_paired_only_when_both_runs_have_them_on_the_same_examples(which):
    """Predictions of only one run, or on validation sets of different sizes, are not paired:
    the pair falls back to the next evidence (here the two-proportion z-test)."""
    a, b = paired_sets()
    ca, cb = {"A": (a, None), "B": (None, b), "lengths": (a, b[:-1])}[which]
    runs = [run("A", 0.81, expected=0.80, correct=ca), run("B", 0.83, expected=0.84, correct=cb)]
    (pr,) = compare(runs, val_size=400).pairs
    assert pr.method == "two-proportion z-test, N=400"
    assert pr.p_value == pytest.approx(proportion_p(0.84, 0.80, 400)[2], rel=1e-9)


def test_paired_bootstrap_is_seeded():
    """The bootstrap interval is reproducible: the same seed (default 0) gives the same
    interval every time, another seed another one."""
    a = np.arange(1000) < 700
    b = a.copy()
    b[700:760] = True
    b[:40] = False
    runs = [run("A", 0.7, correct=a), run("B", 0.72, correct=b)]
    cis = [compare(runs).pairs[0].ci95 for _ in range(4)]
    assert all(ci == cis[0] for ci in cis)
    assert compare(runs, seed=0).pairs[0].ci95 == cis[0]
    assert {compare(runs, seed=s).pairs[0].ci95 for s in (1, 2, 3)} != {cis[0]}


# --- repeated seeds: Welch's t-test and P(B better) -------------------------------------------

def seed_runs(prefix, config, smoothed, *, mode="max", raws=None, epochs=None):
    monitor = "val_acc" if mode == "max" else "val_loss"
    return [run(f"{prefix}-s{i}", (raws or smoothed)[i], expected=v, ci=(v - 0.01, v + 0.01),
                epoch=(epochs or [10.0] * len(smoothed))[i], monitor=monitor, mode=mode,
                config={**config, "training.seed": i})
            for i, v in enumerate(smoothed)]


def test_welch_t_test_over_seeds():
    """Seeds of one config are grouped; two groups are compared by Welch's t-test on their
    smoothed bests (unequal variances, Welch-Satterthwaite df), CI = delta +- t(0.975, df) SE."""
    xa, xb = [0.812, 0.818, 0.809, 0.815], [0.826, 0.841, 0.822]
    runs = seed_runs("lo", {"training.lr": 0.1}, xa) + seed_runs("hi", {"training.lr": 0.2}, xb)
    c = compare(runs)
    assert [e.name for e in c.entries] == ["hi-s0 (+2 seeds)", "lo-s0 (+3 seeds)"]
    (pr,) = c.pairs
    delta, se, df, p = welch(xb, xa)                  # b - a: the lower group minus the top one
    assert pr.method == WELCH
    assert pr.delta == pytest.approx(delta, rel=1e-12)
    q = stats.t.ppf(0.975, df)
    assert pr.ci95 == pytest.approx((delta - q * se, delta + q * se), rel=1e-9)
    assert pr.p_value == pytest.approx(p, rel=1e-9) and pr.significant is bool(p < 0.05)
    assert pr.p_b_better == pytest.approx(exact_p_better(xb, xa, +1), abs=0.03)
    assert c.notes == (RANK_NOTE, SEED_NOTE)


def test_welch_interval_with_fewer_than_two_degrees_of_freedom():
    """Two seeds each, one group nearly constant: Welch's df is about 1, and the interval uses
    t(0.975, df) ~ 12.7, not a floor of 2 degrees of freedom (4.3) or the pooled n - 2."""
    xa, xb = [0.500, 0.501], [0.40, 0.62]
    runs = seed_runs("a", {"training.lr": 1.0}, xa) + seed_runs("b", {"training.lr": 2.0}, xb)
    (pr,) = compare(runs).pairs
    delta, se, df, p = welch(xb, xa)
    assert 1.0 < df < 1.01
    q = stats.t.ppf(0.975, df)
    assert pr.ci95 == pytest.approx((delta - q * se, delta + q * se), rel=1e-9)
    assert pr.p_value == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("mode, xa, xb", [
    ("max", [0.80, 0.82], [0.80, 0.82]),              # ties count as neither better
    ("min", [0.30, 0.34, 0.31], [0.33, 0.35, 0.32]),  # for a loss, better is lower
])
def test_p_b_better_is_a_bootstrap_over_seeds(mode, xa, xb):
    """P(B better than A): resample each group's seeds, compare the means; for 'min' better means
    lower. The exact probability is enumerated over all resamples; 4000 draws are within 0.03."""
    runs = seed_runs("a", {"training.lr": 1.0}, xa, mode=mode) + \
        seed_runs("b", {"training.lr": 2.0}, xb, mode=mode)
    c = compare(runs)
    (pr,) = c.pairs
    assert pr.a.startswith("a-s0 (+") and pr.b.startswith("b-s0 (+")      # A ranks first
    sign = 1 if mode == "max" else -1
    assert pr.p_b_better == pytest.approx(exact_p_better(xa, xb, sign), abs=0.03)
    assert [pr.p_b_better] * 3 == [compare(runs).pairs[0].p_b_better for _ in range(3)]
    assert compare(runs, seed=0).pairs[0].p_b_better == pr.p_b_better      # seed 0 by default
    assert {compare(runs, seed=s).pairs[0].p_b_better for s in (1, 2)} != {pr.p_b_better}


def test_three_seeded_configs_give_three_welch_pairs():
    """Every pair of seed groups is tested, not only the first one."""
    runs = (seed_runs("a", {"training.lr": 1.0}, [0.80, 0.81, 0.79])
            + seed_runs("b", {"training.lr": 2.0}, [0.70, 0.71, 0.72])
            + seed_runs("c", {"training.lr": 3.0}, [0.60, 0.62, 0.61]))
    c = compare(runs)
    assert [p.method for p in c.pairs] == [WELCH] * 3
    for p, (xa, xb) in zip(c.pairs, [([0.80, 0.81, 0.79], [0.70, 0.71, 0.72]),
                                     ([0.80, 0.81, 0.79], [0.60, 0.62, 0.61]),
                                     ([0.70, 0.71, 0.72], [0.60, 0.62, 0.61])]):
        assert p.p_value == pytest.approx(welch(xa, xb)[3], rel=1e-9)


# --- entries: grouping, ranking, the table's row -------------------------------------------

def test_seed_group_entry_and_its_row():
    """A seed group's entry: named after its first run with the number of other seeds, valued
    at the mean of the smoothed bests, with the raw best and its epoch from the seed with the
    best raw peak (lowest, for a loss), no single-run interval; the row shows only the settings
    that differ (not the seed), and the other columns from the first run."""
    over = {"gap_at_best": 0.05, "onset_epoch": 20.0}
    cfg = {"training.lr": 0.1, "data.path": "/data/a"}
    group = seed_runs("g", cfg, [0.320, 0.300, 0.330], mode="min", raws=[0.300, 0.280, 0.310],
                      epochs=[12.0, 9.0, 15.0])
    group[0] = RunInput("g-s0", diag(0.300, expected=0.320, ci=(0.31, 0.33), epoch=12.0,
                                     monitor="val_loss", mode="min", overfitting=over,
                                     verdict="overfitting"),
                        group[0].config, None, {"test_loss": 0.33}, 0.35, 0.25)
    single = RunInput("one", diag(0.27, expected=0.36, ci=(0.35, 0.37), epoch=7.0,
                                  monitor="val_loss", mode="min",
                                  overfitting={"gap_at_best": 0.01, "onset_epoch": None}),
                      {"training.lr": 0.3, "training.seed": 0, "data.path": "/data/a"})
    c = compare(group + [single])
    assert c.differing_keys == ("training.lr", "training.seed")
    g, s = c.entries
    assert (g.name, g.members) == ("g-s0 (+2 seeds)", ("g-s0", "g-s1", "g-s2"))
    assert g.value == pytest.approx((0.32 + 0.30 + 0.33) / 3)
    assert (g.raw_best, g.best_epoch, g.ci95) == (0.280, 9.0, None)
    assert g.row.to_dict() == {"config": {"training.lr": 0.1}, "last_mean": 0.35,
                     "test": {"test_loss": 0.33}, "train_at_best": 0.25, "gap_at_best": 0.05,
                     "onset": 20.0, "verdict": "overfitting", "seeds": 3,
                     "per_seed": [0.320, 0.300, 0.330]}
    assert (s.name, s.members, s.value, s.raw_best, s.best_epoch, s.ci95) == (
        "one", ("one",), 0.36, 0.27, 7.0, (0.35, 0.37))
    assert s.row.config == {"training.lr": 0.3} and s.row.seeds == 1
    assert s.row.per_seed is None and s.row.gap_at_best == 0.01 and s.row.onset is None
    (pr,) = c.pairs
    assert pr.method != WELCH and pr.p_b_better is None       # one run is no seed sample
    assert c.notes == (RANK_NOTE, SEED_NOTE, ONE_RUN_NOTE)


def test_a_single_run_against_a_seed_group_is_not_a_welch_pair():
    """Welch needs seeds on both sides; the single run ranked first does not make one."""
    single = run("one", 0.86, expected=0.85, ci=(0.84, 0.86), config={"training.lr": 0.3})
    group = seed_runs("g", {"training.lr": 0.1}, [0.80, 0.81])
    c = compare([single] + group)
    assert [e.name for e in c.entries] == ["one", "g-s0 (+1 seeds)"]
    (pr,) = c.pairs
    assert pr.method != WELCH and pr.p_b_better is None
    assert c.entries[1].row.per_seed == [0.80, 0.81] and c.entries[1].row.seeds == 2
    assert c.notes == (RANK_NOTE, SEED_NOTE, ONE_RUN_NOTE)                   # two seeds are already a group


def test_top_seed_is_the_one_with_the_highest_raw_peak_for_an_accuracy():
    raws = [0.80, 0.83, 0.81]
    group = seed_runs("g", {"training.lr": 0.1}, [0.79, 0.80, 0.80], raws=raws,
                      epochs=[5.0, 8.0, 6.0])
    other = seed_runs("h", {"training.lr": 0.2}, [0.70, 0.71])
    e = compare(group + other).entries[0]
    assert (e.raw_best, e.best_epoch) == (0.83, 8.0)


def test_smoothed_best_falls_back_to_the_raw_best():
    """Without a bias-corrected estimate a run is judged by its raw best."""
    c = compare([run("A", 0.80, expected=None), run("B", 0.82, expected=0.79)])
    assert [(e.name, e.value) for e in c.entries] == [("A", 0.80), ("B", 0.79)]


def test_runs_without_config_are_never_grouped_and_the_ranking_note_comes_first():
    c = compare([run("A", 0.8), run("B", 0.8)])
    assert [e.members for e in c.entries] == [("A",), ("B",)]
    assert c.notes == (RANK_NOTE,) and c.expected_max is None and c.differing_keys == ()


def test_runs_differing_only_in_seed_and_name_are_one_config():
    """The seed and the name are not part of a config's identity."""
    runs = [run("x", 0.80, config={"name": "x", "training.seed": 1, "training.lr": 0.1}),
            run("y", 0.82, config={"name": "y", "training.seed": 2, "training.lr": 0.1}),
            run("z", 0.70, config={"name": "z", "training.seed": 1, "training.lr": 0.2})]
    c = compare(runs)
    assert [e.members for e in c.entries] == [("x", "y"), ("z",)]
    assert c.differing_keys == ("training.lr", "training.seed")     # "name" never is one


def test_differing_keys_are_the_numbers_and_switches_that_differ():
    """Settings: keys with a number or a switch in some run (paths and names are not), shown when
    the runs do not all agree (a key absent from a run counts as different), sorted."""
    c1 = {"training.lr": 0.1, "data.path": "/a", "name": 1, "model.layers": 4,
          "opt.nesterov": True, "extra": 3, "tag": "x"}
    c2 = {"training.lr": 0.2, "data.path": "/b", "name": 2, "model.layers": 4,
          "opt.nesterov": False, "tag": 5}
    c = compare([run("A", 0.8, config=c1), run("B", 0.7, config=c2)])
    assert c.differing_keys == ("extra", "opt.nesterov", "tag", "training.lr")
    assert c.entries[1].row.config == {"extra": None, "opt.nesterov": False, "tag": 5,
                                          "training.lr": 0.2}


def test_runs_monitoring_another_metric_are_refused():
    """A val_loss of 2.05 was ranked over a val_acc of 0.42, "significant, p = 0": the runs that
    follow each metric are listed, and the fix."""
    from fitdoctor.errors import UsageError

    runs = [run("A", 0.8), run("B", 0.3, monitor="val_loss"), run("C", 0.7),
            run("D", 0.2, monitor="val_loss")]
    with pytest.raises(UsageError, match=r"val_acc \(max\): A, C; val_loss \(max\): B, D\).*monitor=NAME") as info:
        compare(runs)
    assert "Give --metric NAME to compare" in info.value.cli_message(lambda name: "--metric")
    assert compare([run("A", 0.8), run("C", 0.7)]).notes == (RANK_NOTE,)


def test_compare_needs_two_runs():
    from fitdoctor.errors import UsageError

    with pytest.raises(UsageError, match=r"^compare\(runs=\.\.\.\): needs two or more runs, got 1\. "):
        compare([run("A", 0.8)])
    compare([run("A", 0.8), run("B", 0.7)])


# --- expected best of n trials (Dodge et al. 2019) ------------------------------------------

def brute_expected_best(values, best):
    """E[best of n draws with replacement], by enumerating all N^n equally likely draws."""
    return [float(np.mean([best(d) for d in itertools.product(values, repeat=n)]))
            for n in range(1, len(values) + 1)]


@pytest.mark.parametrize("values", [[0.61, 0.70, 0.64, 0.58], [3, 1, 2], [0.5, 0.5, 0.9]])
def test_expected_max_curve_by_enumeration(values):
    assert expected_max_curve(values, "max") == pytest.approx(brute_expected_best(values, max))
    assert expected_max_curve(values, "min") == pytest.approx(brute_expected_best(values, min))


@pytest.mark.parametrize("mode", ["max", "min"])
def test_comparison_gives_the_expected_best_curve_from_three_entries(mode):
    """Three or more entries: the curve over their smoothed bests; two entries: none."""
    vals = [0.61, 0.70, 0.64] if mode == "max" else [0.41, 0.30, 0.36]
    monitor = "val_acc" if mode == "max" else "val_loss"
    runs = [run(n, v, monitor=monitor, mode=mode) for n, v in zip("ABC", vals)]
    best = max if mode == "max" else min
    assert compare(runs).expected_max == pytest.approx(brute_expected_best(vals, best))
    assert compare(runs[:2]).expected_max is None


# --- run_input --------------------------------------------------------------------------------

def history(val, train, **kw):
    n = len(val)
    df = pd.DataFrame({"epoch": np.arange(n, dtype=float), "train_acc": train, "val_acc": val})
    return make_history(df, source="h.csv", format="test", name="h", **kw)


def test_run_input_collects_last_mean_train_at_best_and_test_metrics():
    """Mean of the last k finite monitored values, k = max(5, n // 4) (n finite points, at most
    n); the training metric at the best index; the final metrics whose name starts with test_;
    the history's config unless one is given; the predictions passed through."""
    rng = np.random.default_rng(7)
    val = 0.8 - 0.3 * np.exp(-np.arange(32) / 5) + rng.normal(0, 0.004, 32)
    val[[3, 29]] = np.nan                                       # 30 finite points, k = 7
    train = val + 0.04
    train[20] = np.nan
    h = history(val, train, config={"training.lr": 0.1},
                final_metrics={"test_acc": 0.81, "test_loss": 0.6, "best_val_acc": 0.9})
    d = diag(float(val[25]), index=25, epoch=25.0, train_column="train_acc")
    correct = np.ones(10, bool)
    ri = run_input("h", d, h, correct=correct)
    finite = val[np.isfinite(val)]
    assert ri.last_mean == pytest.approx(finite[-7:].mean(), rel=1e-12)
    assert ri.train_at_best == pytest.approx(train[25], rel=1e-12)
    assert ri.test_metrics == {"test_acc": 0.81, "test_loss": 0.6}
    assert ri.config == {"training.lr": 0.1} and ri.correct is correct
    assert (ri.name, ri.diagnosis) == ("h", d)
    assert run_input("h", d, h, config={}).config == {}
    assert run_input("h", d, h, config={"x": 1}).config == {"x": 1}
    at_gap = run_input("h", diag(0.7, index=20, train_column="train_acc"), h)
    assert at_gap.train_at_best is None                         # train missing at the best epoch
    assert run_input("h", diag(0.7, index=25, train_column=None), h).train_at_best is None


def test_run_input_short_and_empty_monitor():
    """Three points: k = 3, all of them. A monitor with no finite value: no last mean."""
    h = history([0.5, 0.6, 0.65], [0.6, 0.7, 0.75])
    assert run_input("h", diag(0.65, index=2), h).last_mean == pytest.approx(0.5833333333, rel=1e-9)
    assert run_input("h", diag(0.65, index=2, monitor="val_f1"), h).last_mean is None


def one_more_seed(delta, seeds, s=None):
    """A run as one more draw of the seeds: t = delta / (s sqrt(1 + 1/n)), n - 1 df."""
    s = np.std(seeds, ddof=1) if s is None else s
    se, dof = s * math.sqrt(1 + 1 / len(seeds)), len(seeds) - 1
    q = stats.t.ppf(0.975, dof)
    return 2 * stats.t.sf(abs(delta) / se, dof), (delta - q * se, delta + q * se)


def test_a_seed_group_against_one_run_tests_the_run_as_one_more_seed():
    """Group mean 0.70 (seeds 0.80, 0.65, 0.65) against one run at 0.75: the difference is the
    entries' -0.05, whatever seed 0 alone scored (its predictions are not used), and the run is
    judged as one more seed: its seed-to-seed variance is the group's under the null."""
    single = run("one", 0.76, expected=0.75, ci=(0.74, 0.76), config={"training.lr": 0.3},
                 correct=np.r_[np.ones(75), np.zeros(25)])
    group = seed_runs("g", {"training.lr": 0.1}, [0.80, 0.65, 0.65])
    group[0] = RunInput(group[0].name, group[0].diagnosis, group[0].config,
                        np.r_[np.ones(80), np.zeros(20)])
    c = compare([single] + group)
    assert [e.name for e in c.entries] == ["one", "g-s0 (+2 seeds)"]
    (pr,) = c.pairs
    p, ci = one_more_seed(-0.05, [0.80, 0.65, 0.65])
    assert pr.delta == pytest.approx(-0.05) and pr.method == ONE_RUN
    assert pr.p_value == pytest.approx(p) and pr.ci95 == pytest.approx(ci)
    assert not pr.significant


def test_identical_seeds_borrow_the_runs_own_noise():
    """Two seeds at exactly 0.80 have no spread: the run's own (interval half-width / 1.96)
    stands in for it, instead of a standard error of 0 that makes any difference significant."""
    single = run("one", 0.802, expected=0.801, ci=(0.791, 0.811), config={"training.lr": 0.3})
    c = compare([single] + seed_runs("g", {"training.lr": 0.1}, [0.80, 0.80]))
    (pr,) = c.pairs
    p, _ = one_more_seed(-0.001, [0.80, 0.80], s=0.01 / Z)
    assert pr.p_value == pytest.approx(p) and not pr.significant


def test_two_seed_groups_against_single_runs_on_either_side():
    """A group of only two seeds is a group too, whether it ranks above or below a single run;
    every pair is tested."""
    top = run("top", 0.91, expected=0.90, ci=(0.89, 0.91), config={"training.lr": 0.5})
    group = seed_runs("g", {"training.lr": 0.1}, [0.80, 0.82])
    one = run("one", 0.76, expected=0.75, ci=None, config={"training.lr": 0.3})
    two = run("two", 0.71, expected=0.70, ci=(0.69, 0.71), config={"training.lr": 0.2})
    c = compare([two, one, top] + group)
    assert [e.name for e in c.entries] == ["top", "g-s0 (+1 seeds)", "one", "two"]
    seeds = [0.80, 0.82]
    se_run = 0.01 / Z
    expect = {("top", "g-s0 (+1 seeds)"): (0.81 - 0.90, ONE_RUN),
              ("top", "one"): (0.75 - 0.90, "too short to test"),
              ("top", "two"): (0.70 - 0.90, NOISE),
              ("g-s0 (+1 seeds)", "one"): (0.75 - 0.81, ONE_RUN),
              ("g-s0 (+1 seeds)", "two"): (0.70 - 0.81, ONE_RUN),
              ("one", "two"): (0.70 - 0.75, "too short to test")}
    assert {(p.a, p.b) for p in c.pairs} == set(expect)
    for p in c.pairs:
        delta, method = expect[(p.a, p.b)]
        assert p.delta == pytest.approx(delta) and p.method == method
        if method == ONE_RUN:
            assert p.p_value == pytest.approx(one_more_seed(delta, seeds)[0])
        elif method == NOISE:
            assert p.p_value == pytest.approx(2 * stats.norm.sf(abs(delta) / math.hypot(se_run, se_run)))
        else:
            assert math.isnan(p.p_value) and not p.significant


def test_identical_seeds_against_a_run_without_an_interval_cannot_be_tested():
    """No spread among the seeds and none known for the run: nothing to test with."""
    single = run("one", 0.90, expected=0.90, ci=None, config={"training.lr": 0.3})
    (pr,) = compare([single] + seed_runs("g", {"training.lr": 0.1}, [0.80, 0.80])).pairs
    assert pr.method == "too short to test" and pr.delta == pytest.approx(-0.10)
    assert math.isnan(pr.p_value) and math.isnan(pr.ci95[0]) and not pr.significant

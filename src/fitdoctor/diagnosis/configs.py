"""compare_configs(runs, regex) -> ConfigComparison: configurations compared, not files.

Runs are grouped into configurations by a regular expression over their names (the text its
first capture group matched names the configuration; the other runs of a configuration are its
seeds). Each run is judged by its smoothed best (best.py) with its own standard error ``se_i``:
the epoch-to-epoch part and, where the validation size N is known, the sampling error
sqrt(p(1-p)/N) that every epoch of a fixed validation set shares.

A configuration with n runs is a random-effects estimate:

    y_i = mu + u_i + e_i,   Var(u_i) = tau2 (between seeds),   Var(e_i) = w_i = se_i^2 (within run)

    mean  = the plain mean of the y_i
    w     = mean of the w_i
    tau2  = max(0, s^2 - w)            s^2 the sample variance of the y_i (n - 1 in the divisor)
    Var(mean) = (tau2 + w) / n  =  max(s^2, w) / n
    95 % interval: mean +- t(0.975, n - 1) sqrt(Var(mean))

tau2 is the method-of-moments estimate (DerSimonian-Laird's, with the equal weights that go
with a plain mean: E[s^2] = tau2 + w exactly): the seeds' spread, never less than the runs' own
noise says it must be. A configuration of one run gets that run's own interval.

Two configurations are tested

- where every run of both has per-example predictions on the same validation examples (stored
  runs): paired over the examples and pooled over the seeds. delta = the difference of the
  configurations' mean accuracies at the runs' best epochs; Var = s_A^2/n_A + s_B^2/n_B (the
  seeds' spread of those accuracies) + var_j(d_j)/N (d_j: B's mean correctness on example j
  minus A's); one run each: the exact McNemar test;
- otherwise Welch-type: delta = mean_B - mean_A, Var = Var(mean_A) + Var(mean_B), t with
  Satterthwaite's degrees of freedom (n - 1 for each side's estimated variance). A configuration
  of one run against one of several borrows the other's between-seed variance (n - 1 degrees of
  freedom of the other); one run against one run: a z-test on the runs' own errors, the
  between-seed variance unknown.

p-values are Holm-corrected across configuration pairs.

The budget of a pair not resolved takes the observed difference as the true one and the
variance components the data gave, and asks for 80 % power of the same test, two-sided at 0.05
(that pair alone, before Holm):

    Var(n_A, n_B, N) = sum over A, B of (tau2 + eps2 + q / N) / n  +  q_paired / N

eps2 the epoch-to-epoch part of a run's squared error, q / N the sampling part (q = p(1-p) for
an accuracy). The power is that of the test itself (``pair_power``: its floor, its degrees of
freedom, the seeds' sample variances integrated out). Seeds: the smallest n per configuration
at today's N. Validation size: the smallest N at today's seeds, twice: with eps2 held fixed,
and with eps2 shrinking by N_today / N like the sampling part (the epoch noise of a fixed
validation set is mostly, not all, sampling); "not reachable by more validation data alone"
when even N = infinity falls short with eps2 gone, i.e. the between-seed variance alone
prevents it."""

from __future__ import annotations

import itertools
import math
import re
import statistics
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from ..errors import UsageError, arg
from ..history.names import is_proportion
from .comparison import RunInput, Z95, _holm, _paired, _se_from, _smoothed, one_metric

ALPHA = 0.05
POWER = 0.80
MAX_SEEDS = 1000
MAX_VAL_SIZE = 10 ** 9

# how each configuration's interval and each pair's test came about (codes; the report renders
# them in the chosen language)
INTERVAL_RE = "random_effects"
INTERVAL_ONE = "one_run"
TEST_WELCH = "welch_re"
TEST_BORROWED = "one_run_borrowed"
TEST_ONE_EACH = "one_run_each"
TEST_PAIRED = "paired_pooled"
TEST_MCNEMAR = "mcnemar"
TEST_NONE = "untestable"


@dataclass(frozen=True)
class ConfigStats:
    """The variance components of one configuration (all in the metric's units squared)."""
    n: int
    mean: float
    tau2: float                       # between-seed variance (method of moments)
    within: float                     # mean of the runs' squared standard errors
    epoch: float                      # the epoch-to-epoch part of it
    q: float                          # sampling: mean of se_sampling^2 * N (p(1-p) for accuracy)
    val_size: int | None              # the median validation size of the runs that know theirs
    s2: float | None = None           # sample variance of the values (n >= 2)

    @property
    def var_mean(self) -> float:
        return (self.tau2 + self.within) / self.n


def moments(values, within) -> tuple[float, float, float, float | None]:
    """(mean, tau2, mean within-run variance, sample variance) of one configuration's runs."""
    y = np.asarray(values, float)
    w = np.asarray(within, float)
    wbar = float(w.mean())
    if len(y) < 2:
        return float(y.mean()), 0.0, wbar, None
    s2 = float(y.var(ddof=1))
    return float(y.mean()), max(0.0, s2 - wbar), wbar, s2


def config_stats(values, se, sampling_se=None, val_sizes=None) -> ConfigStats:
    """A configuration's components from its runs' values, standard errors (None: the run has
    no interval, counted 0) and, where known, the sampling part of those errors and the
    validation sizes behind it."""
    n = len(values)
    se = [0.0 if s is None else float(s) for s in se]
    sampling_se = sampling_se or [None] * n
    val_sizes = val_sizes or [None] * n
    mean, tau2, wbar, s2 = moments(values, [s * s for s in se])
    samp = [0.0 if s is None else min(float(s), t) for s, t in zip(sampling_se, se)]
    epoch = float(np.mean([t * t - s * s for t, s in zip(se, samp)]))
    qs = [s * s * nv for s, nv in zip(samp, val_sizes) if nv]
    sizes = [int(nv) for s, nv in zip(sampling_se, val_sizes) if nv and s is not None]
    q = float(np.sum(qs)) / n if qs else 0.0      # runs of unknown N: all epoch noise
    if not qs:                        # no validation size: the whole error counts as epoch noise
        epoch = wbar
    return ConfigStats(n, mean, tau2, wbar, epoch, q,
                       int(statistics.median(sizes)) if sizes else None, s2)


def satterthwaite(parts: list[tuple[float, float]], extra: float = 0.0) -> float:
    """Degrees of freedom of a sum of variance estimates [(variance, its df)] plus a known
    ``extra``; math.inf when nothing in it is estimated."""
    total = sum(v for v, _ in parts) + extra
    denom = sum(v * v / d for v, d in parts if math.isfinite(d) and d > 0)
    return math.inf if denom <= 0 else total * total / denom


def welch_configs(a: ConfigStats, b: ConfigStats) -> tuple[float, float, float, str]:
    """(delta = b - a, its variance, degrees of freedom, test code) of two configurations."""
    delta = b.mean - a.mean
    if a.n >= 2 and b.n >= 2:
        va, vb = a.var_mean, b.var_mean
        return delta, va + vb, satterthwaite([(va, a.n - 1), (vb, b.n - 1)]), TEST_WELCH
    if a.n >= 2 or b.n >= 2:           # one run against seeds: it is one more seed of its own config
        group, single = (a, b) if a.n >= 2 else (b, a)
        var = group.var_mean + group.tau2 + single.within
        return delta, var, float(group.n - 1), TEST_BORROWED
    return delta, a.within + b.within, math.inf, TEST_ONE_EACH


def _quantile(df: float) -> float:
    return Z95 if not math.isfinite(df) or df > 1e7 else float(stats.t.ppf(1 - ALPHA / 2, df))


def pair_test(delta: float, var: float, df: float) -> tuple[tuple[float, float], float]:
    """95 % interval and two-sided p of ``delta`` with variance ``var`` on ``df`` degrees of freedom."""
    if var <= 0 or not math.isfinite(var):
        return (delta, delta), (1.0 if delta == 0 else 0.0)
    se = math.sqrt(var)
    q = _quantile(df)
    z = abs(delta) / se
    p = 2 * stats.norm.sf(z) if not math.isfinite(df) or df > 1e7 else 2 * stats.t.sf(z, df)
    return (delta - q * se, delta + q * se), float(p)


@dataclass(frozen=True)
class Components:
    """What a pair's test variance is made of, per configuration (A, B), to scale it: the
    between-seed variance, the epoch-to-epoch part of a run's squared error, and the sampling
    part as q / N (q = p(1-p) for an accuracy); in a paired design the shared examples' part
    q_paired / N instead."""
    tau2: tuple[float, float]
    epoch: tuple[float, float]
    q: tuple[float, float]
    n: tuple[int, int]                # seeds today
    q_paired: float = 0.0
    val_size: int | None = None       # N today
    tau2_known: bool = True           # False: one run each, tau2 taken as 0

    def within(self, i: int, val_size: float, epoch_scales: bool = False) -> float:
        """A run's squared error at validation size N: the sampling part q / N, and the epoch
        part as today (or, with ``epoch_scales``, shrunk by N_today / N like the sampling part)."""
        if math.isinf(val_size):
            return 0.0 if epoch_scales else self.epoch[i]
        scale = self.val_size / val_size if epoch_scales and self.val_size else 1.0
        return self.epoch[i] * scale + self.q[i] / val_size

    def shared(self, val_size: float) -> float:
        return 0.0 if math.isinf(val_size) else self.q_paired / val_size

    def only_between(self) -> "Components":
        return replace(self, epoch=(0.0, 0.0), q=(0.0, 0.0), q_paired=0.0)


GRID = 48                             # quantiles of each side's chi-square in ``pair_power``


def pair_power(delta: float, c: Components, n_a: int, n_b: int, val_size: float,
               epoch_scales: bool = False) -> float:
    """Power of the very test ``compare_configs`` runs, at the true difference ``delta`` with
    n_a and n_b seeds and validation size N, under the components ``c``: the expectation, over
    the seeds' sample variances s^2 ~ (tau2 + w) chi2(n - 1) / (n - 1) (independent of the
    means for normal data), of the normal probability that |delta_hat| clears the test's own
    threshold t(df) sqrt(Var_hat), with the test's floor Var_hat >= w / n and its degrees of
    freedom. The expectation is a grid of GRID quantiles per side."""
    w = (c.within(0, val_size, epoch_scales), c.within(1, val_size, epoch_scales))
    total = (c.tau2[0] + w[0], c.tau2[1] + w[1])
    extra = c.shared(val_size)
    n = (n_a, n_b)
    probs = (np.arange(GRID) + 0.5) / GRID

    def draws(i):
        return total[i] * stats.chi2.ppf(probs, n[i] - 1) / (n[i] - 1)

    if not c.tau2_known or (n_a < 2 and n_b < 2):      # one run each: a z-test, nothing estimated
        var_true = w[0] + w[1] + extra
        if var_true <= 0:
            return 1.0 if delta != 0 else ALPHA
        var_hat, df = np.array([var_true]), np.array([math.inf])
    elif n_a >= 2 and n_b >= 2:
        var_true = total[0] / n_a + total[1] / n_b + extra
        if var_true <= 0:
            return 1.0 if delta != 0 else ALPHA
        sa, sb = np.meshgrid(draws(0), draws(1), indexing="ij")
        va, vb = np.maximum(sa, w[0]) / n_a, np.maximum(sb, w[1]) / n_b
        var_hat = (va + vb + extra).ravel()
        denom = (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            df = np.where(denom > 0, var_hat ** 2 / denom, np.inf)
    else:                                              # one run against seeds: borrowed tau2
        g = 0 if n_a >= 2 else 1
        var_true = total[g] / n[g] + c.tau2[g] + w[1 - g] + extra
        if var_true <= 0:
            return 1.0 if delta != 0 else ALPHA
        sg = draws(g)
        var_hat = np.maximum(sg, w[g]) / n[g] + np.maximum(sg - w[g], 0.0) + w[1 - g] + extra
        df = np.full(GRID, float(n[g] - 1))
    q = np.where(np.isfinite(df) & (df < 1e7), stats.t.ppf(1 - ALPHA / 2, np.minimum(df, 1e7)), Z95)
    thr = q * np.sqrt(var_hat)
    sd = math.sqrt(var_true)
    d = abs(delta)
    return float(np.mean(stats.norm.sf((thr - d) / sd) + stats.norm.cdf((-thr - d) / sd)))


@dataclass(frozen=True)
class Budget:
    seeds: int | None                 # per configuration, at today's validation size
    seeds_status: str                 # ok | beyond (more than MAX_SEEDS) | unknown (tau2 not
    #                                   measured) | paired (not estimated for a paired test)
    val_size: int | None              # at today's seeds, the runs' epoch noise held fixed
    val_size_low: int | None          # the same if the epoch noise shrinks with N like sampling
    val_status: str                   # ok | epoch (reachable only if the epoch noise shrinks too)
    #                                   | between (not reachable: the between-seed variance alone
    #                                   prevents it) | unknown (N unknown) | no_sampling (the
    #                                   metric is not a proportion: no sampling error to scale)
    at_seeds: tuple[int, int]
    at_val_size: int | None
    tau2_known: bool = True


def _smallest(ok, lo: int, cap: int) -> int | None:
    """The smallest integer in (lo, cap] where the monotone ``ok`` holds, or None."""
    if not ok(cap):
        return None
    hi = lo + 1
    while not ok(hi):
        lo, hi = hi, min(2 * hi, cap)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def budget(delta: float, c: Components) -> Budget:
    """Seeds per configuration (at today's N) and validation size (at today's seeds) at which
    the test has 80 % power for the observed ``delta``. The validation size twice: with the
    runs' epoch-to-epoch noise held fixed, and shrinking with N like the sampling error (on the
    truth corpus it shrank part of the way: 1.5 to 2.6-fold from N = 100 to 1,000, against 3.2
    for sampling alone); with it shrinking, only the between-seed variance is left at N =
    infinity."""
    n_a, n_b = c.n
    big_n = c.val_size if c.val_size else math.inf
    if not c.tau2_known:
        seeds, seeds_status = None, "unknown"
    elif c.q_paired:                  # q_paired holds seed noise that more seeds would shrink
        seeds, seeds_status = None, "paired"
    else:
        seeds = _smallest(lambda m: pair_power(delta, c, m, m, big_n) >= POWER, 1, MAX_SEEDS) \
            if delta else None
        seeds_status = "ok" if seeds else "beyond"
    val = low = None
    if not c.val_size or (not any(c.q) and not c.q_paired):
        val_status = "unknown"
    else:
        def size(scales: bool) -> int | None:
            if not delta or pair_power(delta, c, n_a, n_b, math.inf, scales) < POWER:
                return None
            return _smallest(lambda m: pair_power(delta, c, n_a, n_b, m, scales) >= POWER, 0,
                             MAX_VAL_SIZE)
        low = size(True)
        val = size(False) if low else None
        val_status = "between" if low is None else ("ok" if val else "epoch")
    return Budget(seeds, seeds_status, val, low, val_status, (n_a, n_b), c.val_size, c.tau2_known)


@dataclass(frozen=True)
class ConfigEntry:
    name: str
    members: tuple[str, ...]
    values: tuple[float, ...]         # each run's smoothed best
    stats: ConfigStats
    ci95: tuple[float, float] | None
    interval: str                     # INTERVAL_RE | INTERVAL_ONE
    raw_best: float                   # the best raw peak among the runs
    val_sizes: tuple[int | None, ...]

    @property
    def value(self) -> float:
        return self.stats.mean


@dataclass(frozen=True)
class ConfigPair:
    a: str
    b: str
    delta: float
    ci95: tuple[float, float]
    p_value: float
    p_holm: float
    significant: bool
    method: str                       # a TEST_ code
    df: float
    budget: Budget | None = None


@dataclass(frozen=True)
class ConfigComparison:
    monitor: str
    mode: str
    pattern: str
    entries: tuple[ConfigEntry, ...]  # ranked, best first
    pairs: tuple[ConfigPair, ...]
    best_group: tuple[str, ...]
    notes: tuple[tuple[str, dict[str, Any]], ...]      # (message code, evidence)


def group_runs(runs: list[RunInput], pattern: str) -> dict[str, list[RunInput]]:
    """Configurations by the text the first capture group of ``pattern`` matched in each run's
    name (re.search). Every run must match, and there must be two configurations or more."""
    named = arg("group", repr(pattern), lib=f"pattern={pattern!r}")     # --group on the command line
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{named} is not a regular expression: {exc}.") from None
    if rx.groups < 1:
        raise UsageError(f"{named} has no capture group: put the part of the run's "
                         r"name that names the configuration in parentheses, e.g. '(.*)-s\d+'.")
    groups: dict[str, list[RunInput]] = {}
    unmatched, empty = [], []
    for r in runs:
        m = rx.search(r.name)
        if m is None or m.group(1) is None:
            unmatched.append(r.name)
        elif not m.group(1):
            empty.append(r.name)
        else:
            groups.setdefault(m.group(1), []).append(r)
    if unmatched:
        raise UsageError(f"{named} matches nothing in {len(unmatched)} of {len(runs)} "
                         f"run name(s): {', '.join(unmatched[:5])}"
                         + (", ..." if len(unmatched) > 5 else "")
                         + ". It is searched in each run's name (a file's name, a stored run's name).")
    if empty:
        raise UsageError(f"{named}: its first group captures nothing in "
                         f"{', '.join(empty[:5])}; a configuration needs a name.")
    if len(groups) < 2:
        names = ", ".join(r.name for r in runs)
        raise UsageError(f"{named} puts all {len(runs)} runs into one configuration "
                         f"({next(iter(groups))!r}: {names}); comparing needs two or more.")
    return groups


def _entry(name: str, g: list[RunInput], mode: str, bounded: bool = False) -> ConfigEntry:
    """``bounded``: the monitor is a proportion; its interval never leaves [0, 1]."""
    ds = [r.diagnosis for r in g]
    st = config_stats([_smoothed(d) for d in ds], [_se_from(d) for d in ds],
                      [d.best.sampling_se for d in ds], [d.val_size for d in ds])
    sign = 1 if mode == "max" else -1
    raw = max((d.best.value for d in ds), key=lambda v: sign * v)
    if st.n == 1:
        ci, how = ds[0].best.ci95, INTERVAL_ONE
    else:
        # seeds scored on one validation set share its sampling error: more seeds do not
        # average it away (with a validation set per seed this is a little conservative)
        shared = st.q / st.val_size * (1 - 1 / st.n) if st.val_size else 0.0
        half = float(stats.t.ppf(1 - ALPHA / 2, st.n - 1)) * math.sqrt(st.var_mean + shared)
        ci, how = (st.mean - half, st.mean + half), INTERVAL_RE
    if bounded and ci is not None:
        ci = (max(0.0, ci[0]), min(1.0, ci[1]))
    return ConfigEntry(name, tuple(r.name for r in g), tuple(_smoothed(d) for d in ds), st, ci,
                       how, raw, tuple(d.val_size for d in ds))


def _paired_ready(ga: list[RunInput], gb: list[RunInput]) -> bool:
    c = [r.correct for r in ga + gb]
    return all(x is not None for x in c) and len({len(x) for x in c}) == 1 and len(c[0]) > 0


def _paired_pooled(ga, gb, seed: int):
    """Paired over the examples, pooled over the seeds: (delta, ci, p, df, method, components)."""
    A = np.array([r.correct for r in ga], bool).astype(float)
    B = np.array([r.correct for r in gb], bool).astype(float)
    n_ex = A.shape[1]
    if len(ga) == 1 and len(gb) == 1:
        delta, ci, p = _paired(A[0], B[0], seed)
        d = B[0] - A[0]
        comp = Components((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (1, 1), float(d.var(ddof=1)) if n_ex > 1 else 0.0,
                          n_ex, tau2_known=False)
        return delta, ci, p, math.inf, TEST_MCNEMAR, comp
    acc_a, acc_b = A.mean(1), B.mean(1)
    s2a = float(acc_a.var(ddof=1)) if len(ga) > 1 else None
    s2b = float(acc_b.var(ddof=1)) if len(gb) > 1 else None
    d = B.mean(0) - A.mean(0)
    q_paired = float(d.var(ddof=1)) if n_ex > 1 else 0.0
    if s2a is not None and s2b is not None:
        va, vb = s2a / len(ga), s2b / len(gb)
        var = va + vb + q_paired / n_ex
        df = satterthwaite([(va, len(ga) - 1), (vb, len(gb) - 1)], q_paired / n_ex)
    else:                             # one run against seeds: the run is one more seed
        s2 = s2a if s2a is not None else s2b
        group = max(len(ga), len(gb))
        var, df = s2 / group + s2 + q_paired / n_ex, float(group - 1)
        s2a = s2b = s2
    comp = Components((s2a, s2b), (0.0, 0.0), (0.0, 0.0), (len(ga), len(gb)), q_paired, n_ex)
    delta = float(acc_b.mean() - acc_a.mean())
    ci, p = pair_test(delta, var, df)
    return delta, ci, p, df, TEST_PAIRED, comp


def _components(a: ConfigEntry, b: ConfigEntry) -> Components:
    sa, sb = a.stats, b.stats
    known = sa.n >= 2 or sb.n >= 2
    ta = sa.tau2 if sa.n >= 2 else (sb.tau2 if sb.n >= 2 else 0.0)
    tb = sb.tau2 if sb.n >= 2 else ta
    sizes = [v for v in a.val_sizes + b.val_sizes if v]
    n0 = int(statistics.median(sizes)) if sizes else None
    return Components((ta, tb), (sa.epoch, sb.epoch), (sa.q, sb.q), (sa.n, sb.n), 0.0, n0,
                      tau2_known=known)


def compare_configs(runs: list[RunInput], pattern: str, *, seed: int = 0) -> ConfigComparison:
    groups = group_runs(runs, pattern)
    monitor, mode = one_metric(runs)
    sign = 1 if mode == "max" else -1
    entries = sorted((_entry(k, g, mode, is_proportion(monitor)) for k, g in groups.items()),
                     key=lambda e: -sign * e.value)
    by_name = {e.name: groups[e.name] for e in entries}
    notes: list[tuple[str, dict]] = [("config.estimate", {})]
    raw = []
    for ea, eb in itertools.combinations(entries, 2):
        ga, gb = by_name[ea.name], by_name[eb.name]
        if _paired_ready(ga, gb):
            delta, ci, p, df, method, comp = _paired_pooled(ga, gb, seed)
        else:
            delta, var, df, method = welch_configs(ea.stats, eb.stats)
            comp = _components(ea, eb)
            if var <= 0:
                ci, p, method = (math.nan, math.nan), math.nan, TEST_NONE
            else:
                ci, p = pair_test(delta, var, df)
        raw.append((ea, eb, delta, ci, p, df, method, comp))
    finite = [r[4] for r in raw if not math.isnan(r[4])]
    adjusted = iter(_holm(finite)) if finite else iter(())
    pairs = []
    for ea, eb, delta, ci, p, df, method, comp in raw:
        ph = next(adjusted) if not math.isnan(p) else math.nan
        sig = bool(ph < ALPHA) if not math.isnan(ph) else False
        bud = None if sig or method == TEST_NONE else budget(delta, comp)
        if bud is not None and bud.val_status == "unknown" and not is_proportion(monitor):
            bud = replace(bud, val_status="no_sampling")      # --val-size would not help
        pairs.append(ConfigPair(ea.name, eb.name, float(delta), (float(ci[0]), float(ci[1])),
                                float(p), float(ph), sig, method, float(df), bud))
    top = entries[0].name
    # B - A in the metric's direction: below 0, B is worse than the top (A)
    worse = {p.b for p in pairs if p.a == top and p.significant and sign * p.delta < 0}
    best = [top] + [e.name for e in entries[1:] if e.name not in worse]
    against = [f"{p.b} over {p.a}" for p in pairs if p.significant and sign * p.delta > 0]
    if against:          # a paired test on best-epoch predictions against the smoothed ranking
        notes.append(("config.against_ranking", {"names": "; ".join(against)}))
    ones = [e.name for e in entries if e.stats.n == 1]
    if ones:
        notes.append(("config.one_run", {"names": ", ".join(ones)}))
    if any(p.method == TEST_ONE_EACH for p in pairs):
        notes.append(("config.one_each", {}))
    if any(p.method in (TEST_PAIRED, TEST_MCNEMAR) for p in pairs):
        notes.append(("config.paired_delta", {}))
    if any(p.budget for p in pairs):
        notes.append(("config.budget", {}))
    holm_only = [f"{p.a} vs {p.b}" for p in pairs if p.p_value < ALPHA <= p.p_holm]
    if holm_only:
        notes.append(("config.holm_only", {"names": "; ".join(holm_only), "m": len(finite)}))
    no_interval = [r.name for r in runs if r.diagnosis.best.ci95 is None]
    if no_interval:
        notes.append(("config.no_interval", {"names": ", ".join(no_interval)}))
    return ConfigComparison(monitor, mode, pattern, tuple(entries), tuple(pairs), tuple(best),
                            tuple(notes))


def entry_row(e: ConfigEntry) -> dict[str, Any]:
    s = e.stats
    return {"name": e.name, "n": s.n, "members": list(e.members), "values": list(e.values),
            "mean": s.mean, "ci95": list(e.ci95) if e.ci95 else None, "interval": e.interval,
            "between_seed_sd": math.sqrt(s.tau2) if s.n >= 2 else None,
            "within_run_se": math.sqrt(s.within), "sample_sd": math.sqrt(s.s2) if s.s2 is not None else None,
            "best_raw": e.raw_best, "val_size": s.val_size}


__all__ = ["Budget", "Components", "ConfigComparison", "ConfigEntry", "ConfigPair", "ConfigStats",
           "budget", "compare_configs", "config_stats", "group_runs", "moments",
           "pair_test", "pair_power", "welch_configs"]

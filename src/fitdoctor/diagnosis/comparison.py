"""compare(runs) -> Comparison: which differences between runs are real.

Each run is judged by its *smoothed* best (the bias-corrected level of its curve, see best.py),
not its raw peak: a peak is the maximum over many noisy epochs and is biased upward, the more so
the noisier and longer the run. Pairs are tested with the strongest evidence available:

- per-example predictions of both runs on the same validation examples: exact McNemar test, and
  a paired bootstrap interval of the accuracy difference;
- repeated seeds of the same config: Welch's t-test over the seeds' smoothed bests, and
  P(A > B) from a bootstrap over seeds; a single run against such a group: a t-test of the run
  as one more seed of it (the seeds' spread times sqrt(1 + 1/n), n - 1 degrees of freedom);
- a validation-set size for an accuracy-like metric: a two-proportion z-test;
- otherwise the curves' own noise: a z-test from the two smoothed bests' intervals.

p-values are Holm-corrected across all pairs. Runs not significantly worse than the top one
form the "statistically indistinguishable from the best" group."""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..errors import UsageError, arg
from ..history.names import is_proportion
from .fitting import tail_length
from .types import Diagnosis

Z95 = 1.959963984540054


@dataclass
class RunInput:
    name: str
    diagnosis: Diagnosis
    config: dict[str, Any] = field(default_factory=dict)      # flattened dotted keys
    correct: np.ndarray | None = None                           # best-epoch per-example correctness
    test_metrics: dict[str, float] = field(default_factory=dict)
    last_mean: float | None = None
    train_at_best: float | None = None


@dataclass(frozen=True)
class EntryRow:
    """What the comparison table shows of an entry beyond its name, its value and its best seed's
    best (the JSON's "runs" items after those, in this order: ``to_dict``)."""
    config: dict[str, Any]            # the keys that differ between the compared runs
    last_mean: float | None
    test: dict[str, float]
    train_at_best: float | None
    gap_at_best: float | None
    onset: float | None               # the first seed's overfitting onset
    verdict: str
    seeds: int
    per_seed: list[float] | None      # each seed's smoothed best (None for one run)

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class Entry:
    name: str
    members: tuple[str, ...]          # the runs (seeds) behind this entry
    value: float                      # smoothed best (mean over seeds)
    raw_best: float
    best_epoch: float
    ci95: tuple[float, float] | None
    row: EntryRow


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    delta: float                      # b - a, in the metric's units
    ci95: tuple[float, float]
    p_value: float
    p_holm: float
    significant: bool
    method: str
    p_b_better: float | None = None


@dataclass(frozen=True)
class Comparison:
    monitor: str
    mode: str
    entries: tuple[Entry, ...]        # ranked, best first
    pairs: tuple[Pair, ...]
    best_group: tuple[str, ...]
    differing_keys: tuple[str, ...]
    expected_max: tuple[float, ...] | None    # E[best of n trials], n = 1..N (Dodge et al. 2019)
    notes: tuple[str, ...]


def _se_from(d: Diagnosis) -> float | None:
    """The best level's standard error: as computed (an interval clipped at 1 would give a
    smaller one), else from the interval."""
    if d.best.se is not None:
        return d.best.se
    if d.best.ci95 is None:
        return None
    return (d.best.ci95[1] - d.best.ci95[0]) / (2 * Z95)


ONE_RUN_VS_SEEDS = "t-test: one run as another seed of the group"


def _smoothed(d: Diagnosis) -> float:
    return d.best.expected if d.best.expected is not None else d.best.value


def _seedless(cfg: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in cfg.items() if k not in ("training.seed", "name")))


def _holm(pvals: list[float]) -> list[float]:
    order = np.argsort(pvals)
    m = len(pvals)
    adj = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvals[i]))
        adj[i] = running
    return adj


def expected_max_curve(values: list[float], mode: str) -> tuple[float, ...]:
    """E[best of n] for n = 1..N, drawing n of the N observed trial scores with replacement."""
    v = np.sort(np.asarray(values, float))
    if mode == "min":
        v = -v[::-1]
    n_obs = len(v)
    i = np.arange(1, n_obs + 1)
    out = []
    for n in range(1, n_obs + 1):
        w = (i / n_obs) ** n - ((i - 1) / n_obs) ** n
        out.append(float(np.sum(w * v)))
    return tuple(out if mode == "max" else [-x for x in out])


def _paired(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, tuple[float, float], float]:
    a, b = a.astype(bool), b.astype(bool)
    delta = float(b.mean() - a.mean())
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = stats.binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(2000, len(a)))
    diffs = b[idx].mean(axis=1) - a[idx].mean(axis=1)
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return delta, (float(lo), float(hi)), float(p)


def _z_pair(va: float, sa: float, vb: float, sb: float) -> tuple[float, tuple[float, float], float]:
    delta = vb - va
    se = math.hypot(sa, sb)
    if se <= 0:
        return delta, (delta, delta), 1.0 if delta == 0 else 0.0
    p = 2 * stats.norm.sf(abs(delta) / se)
    return delta, (delta - Z95 * se, delta + Z95 * se), float(p)


def _check_runs(runs, val_size) -> None:
    """A UsageError naming the bad argument and the fix, before any statistics."""
    if isinstance(runs, (str, bytes, RunInput)) or not hasattr(runs, "__len__"):
        raise UsageError(f"compare(runs=...): a list of RunInput, got a {type(runs).__name__}. "
                         "Build each with run_input(name, diagnose(history), history).")
    bad = [f"runs[{i}] is a {type(r).__name__}" for i, r in enumerate(runs) if not isinstance(r, RunInput)]
    if bad:
        raise UsageError(f"compare(runs=...): {'; '.join(bad[:3])}, not a RunInput. Build each with "
                         "run_input(name, diagnose(history), history).")
    if len(runs) < 2:
        raise UsageError(f"compare(runs=...): needs two or more runs, got {len(runs)}. Pass every "
                         "run to compare in one list.")
    names = [r.name for r in runs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"compare(runs=...): run names must differ; repeated: {', '.join(map(repr, repeated))}. "
                         "Give each RunInput its own name.")
    if val_size is not None and (isinstance(val_size, bool) or not isinstance(val_size, numbers.Integral)
                                 or val_size < 1):
        raise UsageError(f"compare(val_size={val_size!r}): the validation-set size is a positive "
                         "whole number of examples, or None.")


def one_metric(runs: list[RunInput]) -> tuple[str, str]:
    """The (monitor, mode) every run follows; runs on different metrics cannot be ranked together
    (a loss of 2.05 "beat" an accuracy of 0.42, p = 0): a UsageError listing them."""
    seen: dict[tuple[str, str], list[str]] = {}
    for r in runs:
        seen.setdefault((r.diagnosis.monitor, r.diagnosis.mode), []).append(r.name)
    if len(seen) > 1:
        listing = "; ".join(f"{m} ({mode}): {', '.join(v[:3])}{', ...' if len(v) > 3 else ''}"
                            for (m, mode), v in seen.items())
        raise UsageError(f"the runs monitor different metrics ({listing}); runs are ranked on one "
                         "metric. Give " + arg("monitor", "NAME", lib="monitor=NAME (History.with_options)")
                         + " to compare the same one.")
    return next(iter(seen))


def compare(runs: list[RunInput], *, val_size: int | None = None, seed: int = 0) -> Comparison:
    """Rank ``runs`` (two or more RunInput, each from run_input()) and test every pair; bad
    arguments are a UsageError naming the argument and the fix."""
    _check_runs(runs, val_size)
    monitor, mode = one_metric(runs)
    differing = _differing_keys(runs)
    entries = _entries(runs, differing, mode)
    pairs = _holm_pairs([_test_pair(ea, ga, eb, gb, mode, monitor, val_size, seed)
                         for (ea, ga), (eb, gb) in itertools.combinations(entries, 2)])
    top = entries[0][0].name
    group = [top] + [e.name for e, _ in entries[1:]
                     if not any(p.a == top and p.b == e.name and p.significant for p in pairs)]
    notes = ["Runs are ranked by their smoothed best (the bias-corrected level of the curve), not "
             "the raw peak: a maximum over many noisy epochs is biased upward."]
    if any(len(g) > 1 for _, g in entries):
        notes.append("Runs that differ only in training.seed are grouped; their smoothed bests are "
                     "compared with Welch's t-test over seeds.")
        if any(p.method == ONE_RUN_VS_SEEDS for p in pairs):
            notes.append("A single run against a group of seeds is tested as one more seed of "
                         "that group (t-test on the seeds' spread).")
    exp = expected_max_curve([e.value for e, _ in entries], mode) if len(entries) >= 3 else None
    return Comparison(monitor, mode, tuple(e for e, _ in entries), tuple(pairs), tuple(group),
                      differing, exp, tuple(notes))


def _differing_keys(runs: list[RunInput]) -> tuple[str, ...]:
    """The config keys whose values differ between runs: numbers and switches, not paths and names."""
    keys = sorted({k for r in runs for k in r.config})

    def settings(k):
        return any(isinstance(r.config.get(k), (int, float)) for r in runs)
    return tuple(k for k in keys if k != "name" and settings(k) and
                 len({repr(r.config.get(k)) for r in runs}) > 1)


def _entries(runs: list[RunInput], differing: tuple[str, ...], mode: str) -> list[tuple[Entry, list[RunInput]]]:
    """One Entry per config (repeated seeds of one config grouped), best first, with its runs."""
    groups: dict[tuple, list[RunInput]] = {}
    for r in runs:
        key = _seedless(r.config) if r.config else ("run", r.name)
        groups.setdefault(key, []).append(r)
    sign = 1 if mode == "max" else -1
    entries = []
    for g in groups.values():
        vals = [_smoothed(r.diagnosis) for r in g]
        d0 = g[0].diagnosis
        name = g[0].name if len(g) == 1 else f"{g[0].name} (+{len(g) - 1} seeds)"
        top = max(g, key=lambda r: sign * r.diagnosis.best.value)
        row = EntryRow(
            config={k: g[0].config.get(k) for k in differing if k != "training.seed"},
            last_mean=g[0].last_mean,
            test=dict(g[0].test_metrics), train_at_best=g[0].train_at_best,
            gap_at_best=d0.overfitting.gap_at_best,
            onset=d0.overfitting.onset_epoch, verdict=d0.verdict, seeds=len(g),
            per_seed=vals if len(g) > 1 else None)
        entries.append((Entry(name, tuple(r.name for r in g), float(np.mean(vals)),
                              top.diagnosis.best.value, top.diagnosis.best.epoch,
                              d0.best.ci95 if len(g) == 1 else None, row), g))
    entries.sort(key=lambda eg: -sign * eg[0].value)
    return entries


def _test_pair(ea: Entry, ga: list[RunInput], eb: Entry, gb: list[RunInput], mode: str, monitor: str,
               val_size: int | None, seed: int) -> tuple:
    """(a, b, delta b - a, ci95, p, method, P(b better)) for one pair of entries."""
    if len(ga) > 1 and len(gb) > 1:
        return _seeds_vs_seeds(ea, ga, eb, gb, mode, seed)
    if len(ga) > 1 or len(gb) > 1:
        return _seeds_vs_one(ea, ga, eb, gb)
    ra, rb = ga[0], gb[0]
    n = val_size or ra.diagnosis.val_size or rb.diagnosis.val_size
    if ra.correct is not None and rb.correct is not None and len(ra.correct) == len(rb.correct):
        delta, ci, p = _paired(ra.correct, rb.correct, seed)
        method = "paired predictions: McNemar, bootstrap CI"
    elif n and is_proportion(monitor):
        pa, pb = ea.value, eb.value
        delta, ci, p = _z_pair(pa, math.sqrt(max(pa * (1 - pa), 1e-12) / n),
                               pb, math.sqrt(max(pb * (1 - pb), 1e-12) / n))
        method = f"two-proportion z-test, N={n}"
    else:
        sa, sb = _se_from(ra.diagnosis), _se_from(rb.diagnosis)
        if sa is None or sb is None:
            delta, ci, p, method = eb.value - ea.value, (math.nan, math.nan), math.nan, "too short to test"
        else:
            delta, ci, p = _z_pair(ea.value, sa, eb.value, sb)
            method = "z-test from the curves' noise"
    return ea, eb, delta, ci, p, method, None


def _seeds_vs_seeds(ea: Entry, ga: list[RunInput], eb: Entry, gb: list[RunInput], mode: str, seed: int) -> tuple:
    """Welch's t-test over the two groups' seeds, with P(b better) from a bootstrap of the means."""
    sign = 1 if mode == "max" else -1
    xa = np.array([_smoothed(r.diagnosis) for r in ga])
    xb = np.array([_smoothed(r.diagnosis) for r in gb])
    t = stats.ttest_ind(xb, xa, equal_var=False)
    delta = float(xb.mean() - xa.mean())
    se = math.sqrt(xa.var(ddof=1) / len(xa) + xb.var(ddof=1) / len(xb))
    dof = max(float(getattr(t, "df", len(xa) + len(xb) - 2)), 1.0)
    q = stats.t.ppf(0.975, dof)
    rng = np.random.default_rng(seed)
    ma = rng.choice(xa, (4000, len(xa))).mean(1)
    mb = rng.choice(xb, (4000, len(xb))).mean(1)
    pb_better = float(np.mean(sign * (mb - ma) > 0))
    return ea, eb, delta, (delta - q * se, delta + q * se), float(t.pvalue), "Welch t-test over seeds", pb_better


def _seeds_vs_one(ea: Entry, ga: list[RunInput], eb: Entry, gb: list[RunInput]) -> tuple:
    """A group of seeds against one run: is the run one more draw from the group's seed
    distribution? t = (run - mean) / (s sqrt(1 + 1/n)), n - 1 degrees of freedom (the run's own
    seed variance is the group's under the null). s from the seeds; where they agree exactly,
    the run's own noise stands in for it."""
    group, single = (ga, gb[0]) if len(ga) > 1 else (gb, ga[0])
    x = np.array([_smoothed(r.diagnosis) for r in group])
    s = float(x.std(ddof=1))
    s = s if s > 0 else (_se_from(single.diagnosis) or 0.0)
    delta = eb.value - ea.value
    if s <= 0:
        return ea, eb, delta, (math.nan, math.nan), math.nan, "too short to test", None
    se, dof = s * math.sqrt(1 + 1 / len(x)), len(x) - 1
    q = stats.t.ppf(0.975, dof)
    return (ea, eb, delta, (delta - q * se, delta + q * se), float(2 * stats.t.sf(abs(delta) / se, dof)),
            ONE_RUN_VS_SEEDS, None)


def _holm_pairs(raw_pairs: list[tuple]) -> list[Pair]:
    """The pairs with Holm-adjusted p-values (over the pairs that could be tested)."""
    finite = [p for *_, p, _m, _b in raw_pairs if not math.isnan(p)]
    adjusted = iter(_holm(finite)) if finite else iter(())
    pairs = []
    for ea, eb, delta, ci, p, method, pb_better in raw_pairs:
        ph = next(adjusted) if not math.isnan(p) else math.nan
        pairs.append(Pair(ea.name, eb.name, float(delta), (float(ci[0]), float(ci[1])), float(p),
                          float(ph), bool(ph < 0.05) if not math.isnan(ph) else False, method, pb_better))
    return pairs


def run_input(name: str, d: Diagnosis, history, *, config: dict | None = None,
              correct: np.ndarray | None = None) -> RunInput:
    """Collect what the comparison table shows from a history and its diagnosis."""
    v = history.values(d.monitor)
    finite = v[np.isfinite(v)]
    k = tail_length(len(finite)) if len(finite) else 0
    train_at_best = None
    if d.train_column:
        tv = history.values(d.train_column)
        train_at_best = float(tv[d.best.index]) if np.isfinite(tv[d.best.index]) else None
    tests = {k2: v2 for k2, v2 in history.final_metrics.items() if k2.startswith("test_")}
    return RunInput(name, d, dict(config if config is not None else history.config), correct, tests,
                    float(finite[-k:].mean()) if k else None, train_at_best)

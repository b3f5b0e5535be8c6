"""diagnose(history) -> Diagnosis: runs every detector once over a prepared context."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import FitDoctorError, arg
from ..history.core import History
from ..history.names import is_proportion, metric_of
from ..i18n import message
from . import fitting
from .best import best_estimate, best_findings
from .curves import build_context
from .learning import no_learning
from .lr import analyse_lr
from .phases import find_phases
from .recommend import recommend
from .schedule_audit import fit_schedule, schedule_findings
from .stats import MIN_POINTS, decimals, infer_denominator
from .types import DiagnoseOptions, Diagnosis, Finding, Overfitting

_VERDICT_ORDER = ("non_finite", "divergence", "no_learning", "overfitting", "underfitting",
                  "still_improving", "plateau")
# a collapse where train and val degrade together is not overfitting
_MEANINGLESS_AFTER_BREAKDOWN = frozenset({"overfitting"})
# nothing was learned: no best worth calling luck, no plateau, no over- or underfitting
_MEANINGLESS_WITHOUT_LEARNING = frozenset({"lucky_best", "plateau", "noisy_validation", "overfitting",
                                           "stable_gap", "underfitting", "metric_disagreement"})
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def _with_val_size(h: History) -> History:
    """The validation-set size, inferred from an accuracy's granularity when the log does not
    give it (every value a multiple of 1/N). The report says how it was inferred, or that the
    interval of the best level leaves out the sampling error (document.notes_text)."""
    if h.val_size or h.monitor is None or not is_proportion(h.monitor):
        return h
    n = infer_denominator(h.values(h.monitor), written=_written_decimals(h)) \
        if metric_of(h.monitor) == "acc" else None
    return dataclasses.replace(h, val_size=n) if n is not None else h


def _written_decimals(h: History) -> int | None:
    """How many decimals the writer of a machine-written history (CSV, JSON) keeps for the
    monitor's evaluation, when another proportion of the same split (val_f1 beside val_acc) shows
    at least 6: a writer that gives the validation F1 score 6 decimals did not round the
    validation accuracy beside it to 3, so 0.578 is exact. None for console text (each metric has
    its own format), when no such column says, and when it has 5 decimals or fewer; training
    columns and losses do not count (a log may write a running training accuracy in full and
    round the validation accuracy)."""
    if h.format == "console":
        return None
    split = h.monitor.split("_", 1)[0] + "_"      # the same evaluation's other scores only
    found = []
    for c in h.columns:
        if c == h.monitor or not is_proportion(c) or not c.startswith(split):
            continue
        v = h.values(c)
        v = v[np.isfinite(v) & (v > 0) & (v < 1)]
        if len(v) >= 4:
            found.append(decimals(v) or 9)
    return max(found) if found and max(found) >= 6 else None


def diagnose(history: History, options: DiagnoseOptions | None = None) -> Diagnosis:
    options = options or DiagnoseOptions()
    given = history.val_size
    history = _with_val_size(history)
    ctx = build_context(history, options)
    if ctx is None:
        raise FitDoctorError(f"{history.source}: the monitored metric {history.monitor!r} has "
                             "no finite value; nothing to diagnose. Pick another "
                             f"with {arg('monitor', lib='monitor=NAME (History.with_options)')}.")
    breakdown, stop, stuck, dropped = _breakdown(ctx)
    best = best_estimate(ctx, stop)
    findings, overfit = _fitting_findings(ctx, best, breakdown, stuck, dropped)
    lr_info, lr_findings = analyse_lr(ctx, best, overfit.onset_epoch)
    findings += lr_findings
    schedule, schedule_found = _schedule(ctx, history.config)
    findings += schedule_found
    findings.sort(key=lambda f: _SEVERITY_RANK[f.severity])
    phases = find_phases(ctx, overfit, findings)
    verdict = _verdict(ctx, {f.code for f in findings})
    recs = recommend(findings, monitor=ctx.val.name, mode=ctx.val.mode,
                     epochs_run=float(ctx.epochs[-1]), first_epoch=float(ctx.epochs[0]),
                     peak_lr=lr_info.peak if lr_info is not None else None, config=history.config,
                     schedule=schedule, window=ctx.val.window,
                     lr_fell=lr_info is not None and lr_info.fell_after_onset)
    return Diagnosis(
        source=history.source, format=history.format, name=history.name,
        monitor=ctx.val.name, mode=ctx.val.mode, monitor_reason=history.monitor_reason,
        n_points=ctx.n, best=best, final_epoch=float(ctx.epochs[-1]),
        final_value=float(ctx.val.raw[np.flatnonzero(np.isfinite(ctx.val.raw))[-1]]),
        overfitting=overfit, phases=phases, findings=tuple(findings), recommendations=recs,
        lr=lr_info, schedule=schedule, verdict=verdict, notes=history.notes,
        val_size=history.val_size, train_column=ctx.train.name if ctx.train else None,
        val_size_inferred=history.val_size is not None and given is None)


def _breakdown(ctx):
    """(the breakdown findings: non-finite values, divergence; the index the best is sought
    before, or None; the no-learning finding, or None; the codes that mean nothing here)."""
    breakdown = [f for f in (fitting.non_finite(ctx), fitting.divergence(ctx)) if f is not None]
    stop = None
    if breakdown:     # the best is sought before the breakdown: from its epoch on, the
        # checkpoints are broken (a NaN loss, a loss climbing away)
        first = min(f.evidence["epoch"] for f in breakdown)
        stop = max(1, int(np.searchsorted(ctx.epochs, first, side="left")))
    stuck = None if breakdown else no_learning(ctx)
    dropped = _MEANINGLESS_AFTER_BREAKDOWN if breakdown else \
        _MEANINGLESS_WITHOUT_LEARNING if stuck is not None else frozenset()
    return breakdown, stop, stuck, dropped


def _fitting_findings(ctx, best, breakdown: list[Finding], stuck: Finding | None,
                      dropped: frozenset) -> tuple[list[Finding], Overfitting]:
    """(the findings about the best, the fit and the curves' noise, less those ``dropped``;
    the overfitting summary)."""
    findings: list[Finding] = []
    if ctx.n < MIN_POINTS:
        ev = {"n": ctx.n}
        findings.append(Finding("short_history", "info", message("short_history", ev), ev))
    findings += best_findings(ctx, best)
    overfit, of_findings = fitting.overfitting(ctx, best)
    findings += of_findings
    findings += breakdown
    overfit_found = None if "overfitting" in dropped else next(
        (f for f in of_findings if f.code == "overfitting"), None)
    # overfitting read off the losses already says what metric_disagreement would (the loss
    # rose while the accuracy did not fall), and it says where the accuracy stopped
    by_loss = overfit_found is not None and overfit_found.evidence.get("kind") == "loss"
    findings += [f for f in (fitting.still_improving(ctx), fitting.underfitting(ctx, overfit_found),
                             None if by_loss else fitting.metric_disagreement(ctx)) if f is not None]
    if not any(f.code in ("overfitting", "still_improving", "divergence") for f in findings):
        found = fitting.plateau(ctx)
        if found is not None:
            findings.append(found)
    noisy = fitting.noisy_validation(ctx, best)
    if noisy is not None:
        findings.append(noisy)
    findings += fitting.instability(ctx)
    findings = [f for f in findings if f.code not in dropped] + ([stuck] if stuck else [])
    if "overfitting" in dropped:
        overfit = dataclasses.replace(overfit, detected=False, onset_epoch=None)
    return findings, overfit


def _schedule(ctx, config) -> tuple:
    """(the LR schedule fitted to the logged LR, or None; the findings about it)."""
    if ctx.lr is None:
        return None, []
    schedule = fit_schedule(ctx.epochs, ctx.lr)
    if schedule is None:
        return None, []
    return schedule, schedule_findings(ctx.epochs, ctx.lr, schedule, config)


def _verdict(ctx, codes: set[str]) -> str:
    """The most serious finding's code, "healthy", or "too_short" for a short sound history."""
    verdict = next((c for c in _VERDICT_ORDER if c in codes), "healthy")
    if ctx.n < MIN_POINTS and verdict not in ("non_finite", "divergence"):
        verdict = "too_short"
    return verdict

"""diagnose(history) -> Diagnosis: runs every detector once over a prepared context."""

from __future__ import annotations

import numpy as np

from ..errors import FitDoctorError
from ..history.core import History
from ..i18n import message
from . import fitting
from .best import best_estimate, best_findings
from .curves import build_context
from .lr import analyse_lr
from .phases import find_phases
from .recommend import recommend
from .schedule_audit import fit_schedule, schedule_findings
from .stats import MIN_POINTS
from .types import DiagnoseOptions, Diagnosis, Finding

_VERDICT_ORDER = ("non_finite", "divergence", "overfitting", "underfitting", "still_improving",
                  "plateau")
_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


def diagnose(history: History, options: DiagnoseOptions | None = None) -> Diagnosis:
    options = options or DiagnoseOptions()
    ctx = build_context(history, options)
    if ctx is None:
        raise FitDoctorError(f"{history.source}: the monitored metric {history.monitor!r} has "
                             "no finite value; nothing to diagnose. Pick another "
                             "with --metric.")
    findings: list[Finding] = []
    breakdown = [f for f in (fitting.non_finite(ctx), fitting.divergence(ctx)) if f is not None]
    stop = None
    if breakdown:     # the best of the curve is estimated on the part before the breakdown
        first = min(f.evidence["epoch"] for f in breakdown)
        stop = int(np.searchsorted(ctx.epochs, first, side="left")) + 1
    best = best_estimate(ctx, stop)
    if ctx.n < MIN_POINTS:
        ev = {"n": ctx.n}
        findings.append(Finding("short_history", "info", message("short_history", ev), ev))
    findings += best_findings(ctx, best)
    overfit, of_findings = fitting.overfitting(ctx, best)
    findings += of_findings
    findings += breakdown
    for detector in (fitting.still_improving, fitting.underfitting, fitting.metric_disagreement):
        found = detector(ctx)
        if found is not None:
            findings.append(found)
    if not any(f.code in ("overfitting", "still_improving", "divergence") for f in findings):
        found = fitting.plateau(ctx)
        if found is not None:
            findings.append(found)
    noisy = fitting.noisy_validation(ctx, best)
    if noisy is not None:
        findings.append(noisy)
    findings += fitting.instability(ctx)
    if any(f.code in ("divergence", "non_finite") for f in findings):
        # a collapse where train and val degrade together is not overfitting
        findings = [f for f in findings if f.code != "overfitting"]
        overfit = {**overfit, "detected": False, "onset_epoch": None}
    lr_info, lr_findings = analyse_lr(ctx, best, overfit.get("onset_epoch"))
    findings += lr_findings
    schedule = None
    if ctx.lr is not None:
        schedule = fit_schedule(ctx.epochs, ctx.lr)
        if schedule is not None:
            findings += schedule_findings(ctx.epochs, ctx.lr, schedule, history.config)
    findings.sort(key=lambda f: _SEVERITY_RANK[f.severity])
    phases = find_phases(ctx, overfit, findings)
    codes = {f.code for f in findings}
    verdict = next((c for c in _VERDICT_ORDER if c in codes), "healthy")
    if ctx.n < MIN_POINTS and verdict not in ("non_finite", "divergence"):
        verdict = "too_short"
    recs = recommend(findings, monitor=ctx.val.name, mode=ctx.val.mode,
                     epochs_run=float(ctx.epochs[-1]), first_epoch=float(ctx.epochs[0]),
                     peak_lr=lr_info["peak"] if lr_info else None, config=history.config,
                     schedule=schedule, window=ctx.val.window)
    return Diagnosis(
        source=history.source, format=history.format, name=history.name,
        monitor=ctx.val.name, mode=ctx.val.mode, monitor_reason=history.monitor_reason,
        n_points=ctx.n, best=best, final_epoch=float(ctx.epochs[-1]),
        final_value=float(ctx.val.raw[np.flatnonzero(np.isfinite(ctx.val.raw))[-1]]),
        overfitting=overfit, phases=phases, findings=tuple(findings), recommendations=recs,
        lr=lr_info, schedule=schedule, verdict=verdict, notes=history.notes,
        val_size=history.val_size, train_column=ctx.train.name if ctx.train else None)

"""Findings -> ranked next experiments, each a patch in fitdoctor's YAML config keys with the
rule and the evidence that triggered it. No finding, no advice."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..history.core import declared_number as _number
from ..i18n import recommendation
from .types import Finding, Recommendation, ScheduleFit


def _rec(code: str, patch: dict, evidence: dict, because: tuple[str, ...]) -> Recommendation:
    title, rationale = recommendation(code, evidence)
    return Recommendation(code, title, patch, rationale, because, evidence)


# a schedule's length parameter in torch's names, by the family fit_schedule finds
_LENGTH_KEY = {"cosine": "T_max", "linear": "total_iters", "polynomial": "total_iters"}


@dataclass(frozen=True)
class _Run:
    """What the advice is about: the findings and the run's facts."""
    findings: list[Finding]
    monitor: str
    mode: str
    epochs_run: float
    first_epoch: float
    lr: float | None                 # the peak LR logged, else the config's
    dropout: float | None
    wd: float | None
    smoothing: int
    schedule: ScheduleFit | None
    lr_fell: bool = False            # the LR ended below its level at the overfitting onset

    @property
    def f(self) -> dict[str, Finding]:
        """The findings by code."""
        return {x.code: x for x in self.findings}

    @property
    def run_len(self) -> int:
        return int(round(self.epochs_run - self.first_epoch + 1))


def recommend(findings: list[Finding], *, monitor: str, mode: str, epochs_run: float,
              first_epoch: float, peak_lr: float | None, config: Mapping[str, Any],
              schedule: ScheduleFit | None, window: int,
              lr_fell: bool = False) -> tuple[Recommendation, ...]:
    r = _Run(findings, monitor, mode, epochs_run, first_epoch,
             peak_lr or _number(config, "learning_rate", "lr"),
             _number(config, "dropout", "hidden_dropout_prob", "dropout_rate"),
             _number(config, "weight_decay", "lambda_l2"), max(3, min(5, window)), schedule,
             lr_fell)
    out: list[Recommendation] = []
    for advise in (_breakdown, _no_learning, _overfitting, _confounded, _improving,
                   _underfitting, _schedule_length, _disagreement, _noisy, _plateau):
        out += advise(r, out)
    return tuple(out)


def _breakdown(r: _Run, out: list) -> list[Recommendation]:
    broke = r.f.get("non_finite") or r.f.get("divergence")
    if not broke:
        return []
    patch: dict = {"training": {"max_grad_norm": 1.0, "warmup_epochs": 2}}
    if r.lr:
        patch["training"]["learning_rate"] = float(f"{r.lr * 0.3:.3g}")
    return [_rec("stabilise", patch, dict(broke.evidence), (broke.code,))]


def _no_learning(r: _Run, out: list) -> list[Recommendation]:
    stuck = r.f.get("no_learning")
    if not stuck or r.f.get("non_finite") or r.f.get("divergence"):
        return []
    ev, lr = stuck.evidence, r.lr
    # 10x toward the usual range: up unless the LR is known to be far too low
    new_lr = float(f"{lr * (10 if ev['cause'] == 'lr_low' else 0.1):.2g}") if lr else None
    patch = {"training": {"learning_rate": new_lr}} if new_lr else \
        {"training": {"warmup_epochs": 2, "max_grad_norm": 1.0}}
    # the text names the LR the run used (the log's, else the config's) and what the patch
    # does: a new LR, or, with none known, warmup and clipping while lr-find finds one
    rec_ev = {**ev, "fx_at_lr": f"{lr:.2g}" if lr else None,
              "fx_new_lr": True if new_lr else None, "fx_no_lr": None if new_lr else True}
    return [_rec("fix_no_learning", patch, rec_ev, ("no_learning",))]


def _overfitting(r: _Run, out: list) -> list[Recommendation]:
    if "overfitting" not in r.f:
        return []
    ev = r.f["overfitting"].evidence
    onset, reach = ev["onset"], ev["reach"]
    n_reach = max(1.0, reach - r.first_epoch + 1)
    patience = int(min(20, max(3, round(0.25 * n_reach) + 2)))
    # never more epochs than the run had: "stop at the onset" with a longer run contradicts it
    stop = min(int(math.ceil(onset - r.first_epoch + 1 + patience)), r.run_len)
    rec_ev = {"reach": reach, "onset": onset, "wasted": int(round(r.epochs_run - onset)),
              "patience": patience, "smoothing": r.smoothing, "monitor": r.monitor}
    recs = [_rec("early_stop_at_onset", {"training": {
        "epochs": stop, "early_stopping": {"monitor": r.monitor, "mode": r.mode,
                                           "patience": patience, "smoothing": r.smoothing}}},
        rec_ev, ("overfitting",))]
    # relative to what the run declared; without a declaration, 5x AdamW's default decay
    # and no dropout value (we cannot tell "more" without knowing the current one)
    new_wd = float(f"{(r.wd * 2 if r.wd else 0.05):.2g}")
    patch = {"training": {"weight_decay": new_wd}}
    if r.dropout is not None and r.dropout < 0.5:     # more dropout only where there is room
        patch["model"] = {"dropout": round(r.dropout + 0.1, 2)}
    elif r.dropout is not None:
        patch["loss"] = {"label_smoothing": 0.1}
    what = ", ".join(f"{sect}.{k} {v:g}" for sect, kv in patch.items() for k, v in kv.items())
    reg_ev = {**ev, "what": what}
    if "underfitting" in r.f:      # training still short too: say why regularization is second
        under = r.f["underfitting"].evidence
        reg_ev.update(underfit_col=under["train_col"], underfit_end=under["train_end"])
    recs.append(_rec("regularize", patch, reg_ev, ("overfitting",)))
    # "validation converged after about t0 epochs": the epochs up to where the overfitting
    # finding says validation stopped improving (its onset), not the smoothed curve's reach,
    # which can lie several epochs either side of it
    t0 = int(max(2, round(onset - r.first_epoch + 1)))
    params: dict = {"T_0": t0, "T_mult": 2}
    if r.lr:
        params["eta_min"] = float(f"{r.lr * 0.01:.3g}")
    recs.append(_rec("warm_restarts", {"training": {
        "scheduler": "CosineAnnealingWarmRestarts", "scheduler_params": params}},
        # 'the low LR late in the run' only where the LR fell after the onset (not at a constant
        # LR, one that rose, or one the log does not give)
        {"t0": t0, "wr_low_lr": True if r.lr_fell else None}, ("overfitting",)))
    return recs


def _confounded(r: _Run, out: list) -> list[Recommendation]:
    """One constant-LR run at the LR of the overfitting onset separates 'the LR fell' from 'more
    epochs' as its cause. Without an onset there is no such question to settle (a run still
    improving at the end was once told first to run this control, 'if it overfits at the same
    epoch', ahead of training longer)."""
    if "lr_epoch_confounded" not in r.f:
        return []
    ev = r.f["lr_epoch_confounded"].evidence
    control_lr = ev.get("lr_at_onset")
    if not control_lr:
        return []
    return [_rec("constant_lr_control", {"training": {
        "scheduler": None, "learning_rate": float(f"{control_lr:.3g}")}},
        {"r": ev["r"], "lr": control_lr}, ("lr_epoch_confounded",))]


def _improving(r: _Run, out: list) -> list[Recommendation]:
    if "still_improving" not in r.f:
        return []
    ev = r.f["still_improving"].evidence
    if ev.get("kind") == "schedule_ended":
        # rising while the LR is near 0: more epochs at that LR would do nothing; give the LR
        # back (a longer cosine with a floor, or warm restarts for any other schedule)
        eta_min = float(f"{ev['lr_peak'] * 0.01:.3g}")
        rec_ev = {**ev, "eta_min": eta_min, "stretch_to": None, "restart_every": None}
        if r.schedule is not None and r.schedule.family == "cosine":
            n = int(math.ceil(r.run_len * 1.5))
            patch = {"training": {"epochs": n, "scheduler": "CosineAnnealingLR",
                                  "scheduler_params": {"T_max": n, "eta_min": eta_min}}}
            rec_ev.update(stretch_to=n, epochs=n)
        else:
            n = 2 * r.run_len
            patch = {"training": {"epochs": n, "scheduler": "CosineAnnealingWarmRestarts",
                                  "scheduler_params": {"T_0": r.run_len, "T_mult": 1,
                                                       "eta_min": eta_min}}}
            rec_ev.update(restart_every=r.run_len, epochs=n)
        return [_rec("schedule_ended", patch, rec_ev, ("still_improving",))]
    n = int(math.ceil((r.epochs_run - r.first_epoch + 1) * 1.5))
    patch = {"training": {"epochs": n}}
    key = _LENGTH_KEY.get(r.schedule.family if r.schedule else "")
    if key is not None:            # the schedule stretched with the run, in its own length key
        patch["training"]["scheduler_params"] = {key: n}
    return [_rec("train_longer", patch, {**ev, "epochs": n}, ("still_improving",))]


def _underfitting(r: _Run, out: list) -> list[Recommendation]:
    # with overfitting too, less regularization and more epochs would pull against stopping
    # at the onset and regularizing more: the regularize rationale says why instead
    if "underfitting" not in r.f or "overfitting" in r.f:
        return []
    ev = r.f["underfitting"].evidence
    new_dropout = round(max(0.0, r.dropout - 0.2), 2) if r.dropout is not None else 0.1
    n = int(math.ceil((r.epochs_run - r.first_epoch + 1) * 2))
    return [_rec("reduce_regularization", {"model": {"dropout": new_dropout},
                                           "training": {"epochs": n}},
                 {**ev, "dropout": new_dropout, "epochs": n,
                  "rr_lower": True if r.dropout is not None else None,
                  "rr_unknown": True if r.dropout is None else None}, ("underfitting",))]


def _schedule_length(r: _Run, out: list) -> list[Recommendation]:
    # a longer run recommended above already stretches the schedule with it (two patches of one
    # key would contradict each other)
    key = _LENGTH_KEY.get(r.schedule.family if r.schedule else "")
    if key is None or any(x.code in ("train_longer", "schedule_ended") for x in out):
        return []
    mismatch = next((x for x in r.findings if x.code == "schedule_mismatch"
                     and x.evidence.get("kind") in ("stopped_early", "rises_again")), None)
    if mismatch is None:
        return []
    return [_rec("fit_schedule_to_run", {"training": {"scheduler_params": {key: r.run_len}}},
                 {"family": r.schedule.family, "length": mismatch.evidence.get("length", 0),
                  "end": r.epochs_run}, ("schedule_mismatch",))]


def _disagreement(r: _Run, out: list) -> list[Recommendation]:
    if "metric_disagreement" not in r.f:
        return []
    return [_rec("select_by_accuracy", {
        "training": {"early_stopping": {"monitor": r.monitor, "mode": r.mode}},
        "loss": {"label_smoothing": 0.1}}, r.f["metric_disagreement"].evidence,
        ("metric_disagreement",))]


def _noisy(r: _Run, out: list) -> list[Recommendation]:
    noisy = r.f.get("noisy_validation") or r.f.get("lucky_best")
    if not noisy:
        return []
    k = max(r.smoothing, 5)
    return [_rec("smooth_selection", {"training": {"early_stopping": {"smoothing": k}}},
                 {"sigma": noisy.evidence.get("sigma", float("nan")), "k": k}, (noisy.code,))]


def _plateau(r: _Run, out: list) -> list[Recommendation]:
    if "plateau" not in r.f or "overfitting" in r.f:
        return []
    ev = r.f["plateau"].evidence
    k = int(ev.get("k", 5))
    stop = {"monitor": r.monitor, "mode": r.mode, "patience": k}
    if ev.get("lr_lowered"):          # the LR already fell on the plateau: a lower one is not it
        return [_rec("stop_at_plateau", {"training": {"early_stopping": stop}}, ev, ("plateau",))]
    return [_rec("plateau_schedule", {"training": {
        "scheduler": "ReduceLROnPlateau",
        "scheduler_params": {"mode": r.mode, "factor": 0.5, "patience": max(2, k // 2)},
        "early_stopping": stop}}, ev, ("plateau",))]

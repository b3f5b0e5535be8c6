"""Findings -> ranked next experiments, each a patch in fitdoctor's YAML config keys with the
rule and the evidence that triggered it. No finding, no advice."""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..history.core import declared_number as _number
from ..i18n import recommendation
from .types import Finding, Recommendation, ScheduleFit


def _rec(code: str, patch: dict, evidence: dict, because: tuple[str, ...]) -> Recommendation:
    title, rationale = recommendation(code, evidence)
    return Recommendation(code, title, patch, rationale, because, evidence)


# a schedule's length parameter in torch's names, by the family fit_schedule finds
_LENGTH_KEY = {"cosine": "T_max", "linear": "total_iters", "polynomial": "total_iters"}


def recommend(findings: list[Finding], *, monitor: str, mode: str, epochs_run: float,
              first_epoch: float, peak_lr: float | None, config: Mapping[str, Any],
              schedule: ScheduleFit | None, window: int) -> tuple[Recommendation, ...]:
    f = {x.code: x for x in findings}
    lr = peak_lr or _number(config, "learning_rate", "lr")
    dropout = _number(config, "dropout", "hidden_dropout_prob", "dropout_rate")
    wd = _number(config, "weight_decay", "lambda_l2")
    smoothing = max(3, min(5, window))
    out: list[Recommendation] = []

    broke = f.get("non_finite") or f.get("divergence")
    if broke:
        patch: dict = {"training": {"max_grad_norm": 1.0, "warmup_epochs": 2}}
        if lr:
            patch["training"]["learning_rate"] = float(f"{lr * 0.3:.3g}")
        out.append(_rec("stabilise", patch, dict(broke.evidence), (broke.code,)))

    stuck = f.get("no_learning")
    if stuck and not broke:
        ev = stuck.evidence
        # 10x toward the usual range: up unless the LR is known to be far too low
        new_lr = float(f"{lr * (10 if ev['cause'] == 'lr_low' else 0.1):.2g}") if lr else None
        patch = {"training": {"learning_rate": new_lr}} if new_lr else \
            {"training": {"warmup_epochs": 2, "max_grad_norm": 1.0}}
        # the text names the LR the run used (the log's, else the config's) and what the patch
        # does: a new LR, or, with none known, warmup and clipping while lr-find finds one
        rec_ev = {**ev, "fx_at_lr": f"{lr:.2g}" if lr else None,
                  "fx_new_lr": True if new_lr else None, "fx_no_lr": None if new_lr else True}
        out.append(_rec("fix_no_learning", patch, rec_ev, ("no_learning",)))

    if "overfitting" in f:
        ev = f["overfitting"].evidence
        onset, reach = ev["onset"], ev["reach"]
        n_reach = max(1.0, reach - first_epoch + 1)
        patience = int(min(20, max(3, round(0.25 * n_reach) + 2)))
        # never more epochs than the run had: "stop at the onset" with a longer run contradicts it
        stop = min(int(math.ceil(onset - first_epoch + 1 + patience)),
                   int(round(epochs_run - first_epoch + 1)))
        rec_ev = {"reach": reach, "onset": onset, "wasted": int(round(epochs_run - onset)),
                  "patience": patience, "smoothing": smoothing, "monitor": monitor}
        out.append(_rec("early_stop_at_onset", {"training": {
            "epochs": stop, "early_stopping": {"monitor": monitor, "mode": mode,
                                               "patience": patience, "smoothing": smoothing}}},
            rec_ev, ("overfitting",)))
        # relative to what the run declared; without a declaration, 5x AdamW's default decay
        # and no dropout value (we cannot tell "more" without knowing the current one)
        new_wd = float(f"{(wd * 2 if wd else 0.05):.2g}")
        patch = {"training": {"weight_decay": new_wd}}
        if dropout is not None and dropout < 0.5:     # more dropout only where there is room
            patch["model"] = {"dropout": round(dropout + 0.1, 2)}
        elif dropout is not None:
            patch["loss"] = {"label_smoothing": 0.1}
        what = ", ".join(f"{sect}.{k} {v:g}" for sect, kv in patch.items() for k, v in kv.items())
        reg_ev = {**ev, "what": what}
        if "underfitting" in f:      # training still short too: say why regularization is second
            under = f["underfitting"].evidence
            reg_ev.update(underfit_col=under["train_col"], underfit_end=under["train_end"])
        out.append(_rec("regularize", patch, reg_ev, ("overfitting",)))
        t0 = int(max(2, round(n_reach)))
        params: dict = {"T_0": t0, "T_mult": 2}
        if lr:
            params["eta_min"] = float(f"{lr * 0.01:.3g}")
        out.append(_rec("warm_restarts", {"training": {
            "scheduler": "CosineAnnealingWarmRestarts", "scheduler_params": params}},
            {"t0": t0}, ("overfitting",)))

    if "lr_epoch_confounded" in f:
        ev = f["lr_epoch_confounded"].evidence
        control_lr = ev.get("lr_at_onset") or ev.get("lr_at_best") or lr
        if control_lr:
            out.append(_rec("constant_lr_control", {"training": {
                "scheduler": None, "learning_rate": float(f"{control_lr:.3g}")}},
                {"r": ev["r"], "lr": control_lr}, ("lr_epoch_confounded",)))

    if "still_improving" in f and f["still_improving"].evidence.get("kind") == "schedule_ended":
        # rising while the LR is near 0: more epochs at that LR would do nothing; give the LR
        # back (a longer cosine with a floor, or warm restarts for any other schedule)
        ev = f["still_improving"].evidence
        run_len = int(round(epochs_run - first_epoch + 1))
        eta_min = float(f"{ev['lr_peak'] * 0.01:.3g}")
        rec_ev = {**ev, "eta_min": eta_min, "stretch_to": None, "restart_every": None}
        if schedule is not None and schedule.family == "cosine":
            n = int(math.ceil(run_len * 1.5))
            patch = {"training": {"epochs": n, "scheduler": "CosineAnnealingLR",
                                  "scheduler_params": {"T_max": n, "eta_min": eta_min}}}
            rec_ev.update(stretch_to=n, epochs=n)
        else:
            n = 2 * run_len
            patch = {"training": {"epochs": n, "scheduler": "CosineAnnealingWarmRestarts",
                                  "scheduler_params": {"T_0": run_len, "T_mult": 1,
                                                       "eta_min": eta_min}}}
            rec_ev.update(restart_every=run_len, epochs=n)
        out.append(_rec("schedule_ended", patch, rec_ev, ("still_improving",)))
    elif "still_improving" in f:
        ev = f["still_improving"].evidence
        n = int(math.ceil((epochs_run - first_epoch + 1) * 1.5))
        patch = {"training": {"epochs": n}}
        if _LENGTH_KEY.get(schedule.family if schedule else "") is not None:
            # the schedule stretched with the run, in its own length parameter
            patch["training"]["scheduler_params"] = {_LENGTH_KEY[schedule.family]: n}
        out.append(_rec("train_longer", patch, {**ev, "epochs": n}, ("still_improving",)))

    # with overfitting too, less regularization and more epochs would pull against stopping
    # at the onset and regularizing more: the regularize rationale says why instead
    if "underfitting" in f and "overfitting" not in f:
        ev = f["underfitting"].evidence
        new_dropout = round(max(0.0, dropout - 0.2), 2) if dropout is not None else 0.1
        n = int(math.ceil((epochs_run - first_epoch + 1) * 2))
        out.append(_rec("reduce_regularization", {"model": {"dropout": new_dropout},
                                                  "training": {"epochs": n}},
                        {**ev, "dropout": new_dropout, "epochs": n}, ("underfitting",)))

    # a longer run recommended above already stretches the schedule with it (two patches of one
    # key would contradict each other)
    key = _LENGTH_KEY.get(schedule.family if schedule else "")
    stretched = any(r.code in ("train_longer", "schedule_ended") for r in out)
    for m in [x for x in findings if x.code == "schedule_mismatch"
              and x.evidence.get("kind") in ("stopped_early", "rises_again")]:
        if key is None or stretched:
            break
        ev = m.evidence
        run_len = int(round(epochs_run - first_epoch + 1))
        length = ev.get("length", 0)
        out.append(_rec("fit_schedule_to_run", {"training": {"scheduler_params": {key: run_len}}},
                        {"family": schedule.family, "length": length, "end": epochs_run},
                        ("schedule_mismatch",)))
        break

    if "metric_disagreement" in f:
        ev = f["metric_disagreement"].evidence
        out.append(_rec("select_by_accuracy", {
            "training": {"early_stopping": {"monitor": monitor, "mode": mode}},
            "loss": {"label_smoothing": 0.1}}, ev, ("metric_disagreement",)))

    noisy = f.get("noisy_validation") or f.get("lucky_best")
    if noisy:
        k = max(smoothing, 5)
        out.append(_rec("smooth_selection", {"training": {"early_stopping": {"smoothing": k}}},
                        {"sigma": noisy.evidence.get("sigma", float("nan")), "k": k},
                        (noisy.code,)))

    if "plateau" in f and "overfitting" not in f:
        ev = f["plateau"].evidence
        k = int(ev.get("k", 5))
        out.append(_rec("plateau_schedule", {"training": {
            "scheduler": "ReduceLROnPlateau",
            "scheduler_params": {"mode": mode, "factor": 0.5, "patience": max(2, k // 2)},
            "early_stopping": {"monitor": monitor, "mode": mode, "patience": k}}},
            ev, ("plateau",)))
    return tuple(out)

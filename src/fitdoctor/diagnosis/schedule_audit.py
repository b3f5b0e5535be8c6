"""What the learning-rate schedule actually did: identify its family from the logged LR (with
fitted parameters), and flag where it does not match the run or the declared config."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..history.core import declared
from ..i18n import message
from .types import Finding, ScheduleFit

# torch / Hugging Face scheduler names -> the family fitdoctor detects
DECLARED_FAMILIES = {
    "constantlr": "constant", "constant": "constant", "constant_with_warmup": "constant",
    "steplr": "step", "multisteplr": "multistep", "exponentiallr": "exponential",
    "linearlr": "linear", "linear": "linear", "polynomiallr": "polynomial",
    "cosineannealinglr": "cosine", "cosine": "cosine",
    "cosineannealingwarmrestarts": "cosine_restarts", "cosine_with_restarts": "cosine_restarts",
    "reducelronplateau": "plateau", "onecyclelr": "one_cycle", "cycliclr": "cyclic",
}
_FIT_LIMIT = 0.03          # relative RMSE above which no smooth family is claimed



def _epochs(values, how: str = "at") -> str:
    """Epoch numbers (``how`` "at": "epoch 40", "epochs 40, 80") or one duration ("for":
    "1 epoch", "5 epochs"), in the English the descriptions are made in (i18n.phrase renders
    them)."""
    if how == "for":
        return f"{values[0]:g} epoch" + ("" if values[0] == 1 else "s")
    return ("epoch " if len(values) == 1 else "epochs ") + ", ".join(f"{v:g}" for v in values)

def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _steps(x: np.ndarray, post: np.ndarray) -> ScheduleFit | None:
    ratio = post[1:] / post[:-1]
    changes = np.flatnonzero(np.abs(ratio - 1) > 1e-3)
    if len(changes) == 0 or len(changes) > 0.34 * (len(post) - 1) or np.any(ratio[changes] > 1):
        return None
    factors = ratio[changes]
    gamma = float(np.median(factors))
    same_factor = bool(np.all(np.abs(factors / gamma - 1) < 0.05))
    drops = [float(x[i + 1]) for i in changes]
    intervals = np.diff([float(x[0])] + drops)
    params: dict[str, Any] = {"gamma": round(gamma, 4), "milestones": drops}
    if same_factor and len(drops) >= 2 and np.ptp(intervals) <= 1:
        return ScheduleFit("step", {"step_size": float(intervals[0]), "gamma": round(gamma, 4)},
                           0.0, 0.0, f"step decay every {intervals[0]:g} epochs by x{gamma:.3g}")
    if same_factor and len(drops) >= 3:
        return ScheduleFit("plateau", params, 0.0, 0.0,
                           f"plateau-style drops (ReduceLROnPlateau, factor {gamma:.3g}) at "
                           f"epochs {', '.join(f'{d:g}' for d in drops)}")
    return ScheduleFit("multistep", params, 0.0, 0.0,
                       f"drops at {_epochs(drops)} (x{gamma:.3g})")


def _restarts(x: np.ndarray, post: np.ndarray) -> ScheduleFit | None:
    jumps = np.flatnonzero((post[1:] > post[:-1] * 1.2) & (post[1:] > 0.5)) + 1
    if len(jumps) == 0:
        return None
    starts = [float(x[0])] + [float(x[j]) for j in jumps]
    periods = np.diff(starts)
    t0 = float(periods[0])
    params: dict[str, Any] = {"T_0": t0, "restarts_at": starts[1:]}
    if len(periods) >= 2 and periods[0] > 0:
        params["T_mult"] = round(float(periods[1] / periods[0]), 2)
    return ScheduleFit("cosine_restarts", params, 0.0, 0.0,
                       f"warm restarts at {_epochs(starts[1:])} "
                       f"(T_0={t0:g}" + (f", T_mult={params['T_mult']:g})" if "T_mult" in params
                                         else ")"))


def _lsq(basis: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return coef, float(np.sqrt(np.mean((basis @ coef - y) ** 2)))


def _best_over(grid: np.ndarray, fit) -> tuple[float, float, float, float] | None:
    """Grid search of a one-parameter family, then a finer grid around the best point.
    ``fit(T_vector)`` returns arrays (a, b, rmse); only b > 0 is admissible."""
    best = None
    for _ in range(2):
        a, b, err = fit(grid)
        err = np.where(b > 0, err, np.inf)
        i = int(np.argmin(err))
        if not np.isfinite(err[i]):
            return best
        best = (float(grid[i]), float(a[i]), float(b[i]), float(err[i]))
        step = abs(grid[1] - grid[0]) if len(grid) > 1 else best[0] * 0.1
        grid = np.linspace(best[0] - 2 * step, best[0] + 2 * step, 41)
        grid = grid[grid > 0]
    return best


def _cosine_fit(t: np.ndarray, y: np.ndarray):
    def fit(T: np.ndarray):
        c = (1 + np.cos(np.pi * t[None, :] / T[:, None])) / 2
        cm, ym = c.mean(axis=1, keepdims=True), y.mean()
        var = ((c - cm) ** 2).sum(axis=1)
        b = np.where(var > 0, ((c - cm) * (y - ym)).sum(axis=1) / np.where(var > 0, var, 1), 0)
        a = ym - b * cm[:, 0]
        err = np.sqrt((((a[:, None] + b[:, None] * c) - y) ** 2).mean(axis=1))
        return a, b, err
    return fit


def _poly_fit(t: np.ndarray, y: np.ndarray):
    logy = np.log(y)
    def fit(T: np.ndarray):
        base = np.log(np.clip(1 - t[None, :] / T[:, None], 1e-9, None))
        power = (base * logy).sum(axis=1) / np.maximum((base ** 2).sum(axis=1), 1e-12)
        pred = np.clip(1 - t[None, :] / T[:, None], 0, None) ** power[:, None]
        return np.zeros_like(power), power, np.sqrt(((pred - y) ** 2).mean(axis=1))
    return fit


def _smooth_families(t: np.ndarray, post: np.ndarray, t0: float = 0.0) -> ScheduleFit | None:
    """The smooth family that fits ``post`` over ``t`` (epochs since the decay began, at epoch
    ``t0``): its parameters are durations from that start, its description names the log's own
    epochs (a decay after a 33-epoch warmup that reaches 0 119 epochs later does so at epoch
    153, not 'at epoch 119')."""
    ones = np.ones_like(t)
    fits: list[ScheduleFit] = []
    coef, err = _lsq(np.column_stack([ones, t]), post)
    if coef[1] < 0:
        zero = float(-coef[0] / coef[1])
        fits.append(ScheduleFit("linear", {"end_epoch": zero}, 0.0, err,
                                f"linear decay reaching 0 at epoch {t0 + zero:.0f}"))
    if np.all(post > 0):
        coef_e, _ = _lsq(np.column_stack([ones, t]), np.log(post))
        pred = np.exp(coef_e[0] + coef_e[1] * t)
        err_e = float(np.sqrt(np.mean((pred - post) ** 2)))
        gamma = float(np.exp(coef_e[1]))
        if gamma < 1:
            fits.append(ScheduleFit("exponential", {"gamma": round(gamma, 5)}, 0.0, err_e,
                                    f"exponential decay x{gamma:.4g} per epoch"))
    span = float(t[-1]) if t[-1] > 0 else 1.0
    coarse = np.unique(np.concatenate([np.linspace(span / 4, span * 3, 120),
                                       np.geomspace(span * 3, span * 50, 40)]))
    cos = _best_over(coarse, _cosine_fit(t, post))
    if cos is not None:
        T, eta, _, err_c = cos
        eta = max(eta, 0.0)
        fits.append(ScheduleFit("cosine", {"T_max": round(T, 1), "eta_min_frac": eta}, 0.0,
                                err_c, f"cosine annealing (T_max~{T:.0f}, eta_min~{eta:.2g} of peak)"))
    if np.all(post > 0) and post[-1] < post[0]:
        pol = _best_over(np.linspace(span * 1.001, span * 3, 120), _poly_fit(t, post))
        if pol is not None:
            T, _, power, err_p = pol
            fits.append(ScheduleFit("polynomial", {"total_epochs": round(T, 1),
                                                   "power": round(power, 2)}, 0.0, err_p,
                                    f"polynomial decay (power {power:.2g}) reaching 0 at epoch {t0 + T:.0f}"))
    if not fits:
        return None
    fits.sort(key=lambda f: f.rmse)
    top = fits[0]
    for f in fits[1:]:                 # prefer the simpler family when it fits about as well
        if f.family in ("linear", "exponential") and top.family in ("cosine", "polynomial") and \
                f.rmse <= top.rmse * 1.1 + 1e-4:
            top = f
    return top if top.rmse <= _FIT_LIMIT else None


def fit_schedule(epochs: np.ndarray, lr: np.ndarray) -> ScheduleFit | None:
    """Identify the schedule family of a logged LR sequence (one value per row)."""
    ok = np.isfinite(lr) & np.isfinite(epochs) & (lr > 0)
    x, y = epochs[ok], lr[ok]
    if len(y) < 3:
        return None
    peak = float(y.max())
    lv = y / peak
    if np.ptp(lv) < 1e-3:
        return ScheduleFit("constant", {"lr": peak}, 0.0, 0.0, f"constant LR {_fmt(peak)}")
    p = int(np.argmax(lv >= 0.999))
    warm = p > 0 and lv[0] < 0.98 and bool(np.all(np.diff(lv[: p + 1]) >= -1e-6))
    warmup = float(x[p] - x[0]) if warm else 0.0
    start = p if warm else 0
    xp, post = x[start:], lv[start:]
    fit = None
    if len(post) >= 3:
        fit = _restarts(xp, post) or _steps(xp, post) or \
            _smooth_families(xp - xp[0], post, float(xp[0]))
    if fit is None:
        family = "warmup" if warm and len(post) < 3 else "unknown"
        fit = ScheduleFit(family, {}, 0.0, float("nan"),
                          "no known family fits the logged LR" if family == "unknown" else "")
    params = {**fit.params, "peak_lr": peak}
    family, desc = fit.family, fit.description
    if warm:
        share = warmup / max(float(x[-1] - x[0]), 1e-9)
        if share >= 0.2 and family in ("cosine", "linear") and post[-1] < 0.1:
            family = "one_cycle"
            desc = f"one-cycle: rise for {_epochs([warmup], 'for')} to {_fmt(peak)}, then {desc}"
        else:
            desc = f"linear warmup for {_epochs([warmup], 'for')} to {_fmt(peak)}" + \
                   (f", then {desc}" if desc else "")
    return ScheduleFit(family, params, warmup, fit.rmse, desc)


def schedule_findings(epochs: np.ndarray, lr: np.ndarray, fit: ScheduleFit,
                      config: Mapping[str, Any]) -> list[Finding]:
    ok = np.isfinite(lr) & (lr > 0)
    x, y = epochs[ok], lr[ok]
    ev0 = {"description": fit.description, "family": fit.family, "params": fit.params}
    out = [Finding("schedule", "info", message("schedule", ev0), ev0)]
    peak = float(y.max())
    end, frac = float(x[-1]), float(y[-1] / peak)
    start = float(x[0]) + fit.warmup
    length = None
    if fit.family == "cosine":
        length = start + fit.params["T_max"]
    elif fit.family == "linear":
        length = fit.params["end_epoch"] + start
    elif fit.family == "polynomial":
        length = fit.params["total_epochs"] + start
    if length is not None and len(y) >= 5 and end < length - max(2.0, 0.1 * length) and frac > 0.2:
        ev = {"end": end, "length": length, "lr_frac": frac, "family": fit.family}
        out.append(Finding("schedule_mismatch", "warning",
                           message("schedule_mismatch.stopped_early", ev), {**ev, "kind": "stopped_early"}))
    if fit.family == "cosine" and length is not None and length < end:
        top = int(np.argmax(y))          # after the peak: a warmup's start is no minimum
        low = top + int(np.argmin(y[top:]))
        if low < len(y) - 2 and y[-1] > y[low] * 1.05:
            ev = {"low": float(x[low]), "length": fit.params["T_max"]}
            out.append(Finding("schedule_mismatch", "warning",
                               message("schedule_mismatch.rises_again", ev), {**ev, "kind": "rises_again"}))
    declared_lr = declared(config, "lr", "learning_rate", "max_lr")
    if isinstance(declared_lr, (int, float)) and declared_lr > 0 and \
            abs(np.log(declared_lr / peak)) > np.log(1.1):
        ev = {"declared": float(declared_lr), "logged": peak}
        out.append(Finding("schedule_mismatch", "warning",
                           message("schedule_mismatch.declared_lr", ev), {**ev, "kind": "declared_lr"}))
    scheduler = declared(config, "scheduler", "lr_scheduler_type", "lr_scheduler")
    if isinstance(scheduler, str):
        fam = DECLARED_FAMILIES.get(scheduler.lower().replace("_", "").replace("-", ""),
                                    DECLARED_FAMILIES.get(scheduler.lower()))
        if fam and fit.family not in ("unknown", fam) and not (fam == "plateau" and
                                                               fit.family in ("constant", "multistep")):
            ev = {"declared": scheduler, "family": fit.family}
            out.append(Finding("schedule_mismatch", "warning",
                               message("schedule_mismatch.declared_scheduler", ev),
                               {**ev, "kind": "declared_scheduler"}))
    return out

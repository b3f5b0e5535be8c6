"""``no_learning``: a run that learned nothing. Its training loss stays at its starting level
and its accuracy-like metric stays where it began (chance, or the majority class) for most of the
run. Such a run is never "no problem": the report names the likely cause and a patch.

Rules (thresholds in the module constants, checked on the truth corpus, bench/diagnosis_real.py):
"most of the run" is everything after the first quarter; the training loss there keeps at least
95 % of its first-quarter level (median); the accuracy-like metric (training, else validation)
there stays within max(2 points, 2 sigma) of its first-quarter level and below 0.9, or falls
below it by more than that margin, from a level below 0.9, while the validation accuracy stays
within 2 points of one value or repeats one value (a collapse to a near-constant prediction)."""

from __future__ import annotations

import numpy as np

from ..history.core import declared, declared_number
from ..history.names import is_proportion
from ..i18n import message
from .curves import Context, Curve
from .stats import MIN_POINTS, slope_test
from .types import Z95, Finding

LOSS_KEPT = 0.95         # the loss keeps >= 95 % of its early value: it did not fall
MIN_EPOCHS = 8           # "most of the run" needs a run
FLAT_POINTS = 0.02       # an accuracy within 2 points (or 2 sigma) of where it began
LOW_LEVEL = 0.9          # ... and below 0.9: a run that starts at 0.95 and stays is not "stuck"
# Above these peak LRs the optimizer usually blows past every minimum (AdamW/Adam on any model,
# SGD with momentum); below the lower ones it barely moves. Order-of-magnitude ranges.
LR_RANGE = {"adam": (1e-6, 3e-3), "sgd": (1e-4, 0.3)}


def _split(n: int) -> int:
    return max(1, n // 4)


def _flat_accuracy(c: Curve, q: int) -> tuple[bool, float, float]:
    raw = c.raw[np.isfinite(c.raw)]
    early, late = float(np.median(raw[:q + 1])), float(np.median(raw[q + 1:]))
    sigma = c.sigma if np.isfinite(c.sigma) else 0.0
    # and not rising materially: a significant slope that gains more than the flatness margin
    # over the late part (a drift of 0.001 an epoch is no learning)
    slope, t = slope_test(c.g[q + 1:], sigma)
    rising = np.isfinite(t) and t > Z95 and slope * (c.n - q - 1) > max(FLAT_POINTS, 2 * sigma)
    flat = abs(late - early) <= max(FLAT_POINTS, 2 * sigma) and max(early, late) < LOW_LEVEL \
        and not rising
    return flat, early, late


def _cause(ctx: Context) -> tuple[str, float | None]:
    """The likely cause the log shows: the peak LR (logged, else declared) far above or below
    the usual range of its optimizer ("lr_high", "lr_low"), else "unknown"; and that LR."""
    if ctx.lr is not None and np.isfinite(ctx.lr).any():
        lr = float(np.nanmax(ctx.lr))
    else:
        lr = declared_number(ctx.history.config, "learning_rate", "lr")
    opt = str(declared(ctx.history.config, "optimizer") or "adam").lower()
    lo, hi = LR_RANGE["sgd" if "sgd" in opt else "adam"]
    if lr is not None and lr > hi:
        return "lr_high", lr
    if lr is not None and lr < lo:
        return "lr_low", lr
    return "unknown", lr


def no_learning(ctx: Context) -> Finding | None:
    n = ctx.n
    if n < MIN_EPOCHS:
        return None
    q = _split(n)
    tl = ctx.train_loss
    if tl is not None:
        raw = tl.raw[np.isfinite(tl.raw)]
        if len(raw) < MIN_POINTS:
            return None
        early_loss = float(np.median(raw[:q + 1]))
        late_loss = float(np.median(raw[q + 1:]))
        if not late_loss >= LOSS_KEPT * early_loss:
            return None
    acc = ctx.train if ctx.train is not None and is_proportion(ctx.train.name) else None
    val_is_acc = is_proportion(ctx.val.name) and ctx.val.mode == "max"
    acc = acc or (ctx.val if val_is_acc else None)
    if acc is None and tl is None:
        return None
    late_val = ctx.val.raw[q + 1:]
    late_val = late_val[np.isfinite(late_val)]
    constant = bool(len(late_val) and np.mean(late_val == np.median(late_val)) >= 0.5)
    level, collapsed = None, False
    if acc is not None:
        flat, early, late = _flat_accuracy(acc, q)
        # or a collapse: what little it learned at first is gone (the accuracy fell beyond its
        # flatness margin, from a level below 0.9) and the validation accuracy stays put
        # (within 2 points of one value: a near-constant prediction)
        stuck = val_is_acc and bool(len(late_val)) \
            and bool(np.all(np.abs(late_val - np.median(late_val)) <= FLAT_POINTS))
        sigma = acc.sigma if np.isfinite(acc.sigma) else 0.0
        collapsed = not flat and (stuck or constant) and tl is not None and early < LOW_LEVEL \
            and late < early - max(FLAT_POINTS, 2 * sigma)
        if not (flat or collapsed):
            return None
        level = late
    cause, lr = _cause(ctx)
    ev = {"from_epoch": float(ctx.epochs[q]), "to_epoch": float(ctx.epochs[-1]),
          "loss_start": float(early_loss) if tl is not None else None,
          "loss_end": float(late_loss) if tl is not None else None,
          "metric": acc.name if acc is not None else None, "level": level,
          "cause": cause, "lr": lr,
          "nl_loss": True if tl is not None else None,
          "nl_metric": True if acc is not None and not collapsed else None,
          "nl_collapse": True if collapsed else None, "early_level": early if collapsed else None,
          "nl_constant": True if constant else None,
          "nl_lr_high": True if cause == "lr_high" else None,
          "nl_lr_low": True if cause == "lr_low" else None}
    return Finding("no_learning", "critical", message("no_learning", ev), ev)

"""Detectors of how a run fits: overfitting (with onset), still improving, underfitting, plateau,
noisy validation, instability, divergence / non-finite values, metric disagreement.

Every threshold is a noise multiple: a change counts only when it exceeds what the curve's own
epoch-to-epoch noise would produce (see ``Curve.tol``). Histories shorter than 5 points get no
noise estimate, and the detectors that need one return nothing."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from ..history.names import KNOWN_METRICS, is_proportion, metric_of
from ..i18n import message
from .curves import Context, Curve, make_curve
from .lr import SCHEDULE_ENDED, last_restart, lr_at_end
from .stats import fill_gaps, slope_test
from .types import Best, Finding, GapTrend, Overfitting


# A validation curve whose slope after its best level has t above this may still be rising:
# the gap path calls no overfitting (one-sided, ~84 %: a deliberately cautious veto against false
# alarms); the loss path has its own test, on the tail (t above z).
VAL_RISING_T = 1.0
# With an accuracy-like monitor that levelled off, a validation loss this far above its minimum
# (20 %, and beyond noise) while the training loss keeps falling is overfitting too (the truth
# corpus's protocol uses the same 20 % on the test loss).
LOSS_RISE = 0.20
# A rise that matters: the monitor's slope at the end, kept for another tail of the run (a quarter,
# at least 5 epochs), would gain at least a point of an accuracy-like metric. Slower is a plateau
# for any practical purpose, however significant (0.0003 an epoch on a smooth curve has t > 4).
# The truth corpus's protocol and the simulated runs' count a change from a point too.
MIN_RISE = 0.01


def tail_length(n: int) -> int:
    """How many final points judge "at the end": a quarter of the run, at least 5."""
    return min(n, max(5, n // 4))


def _spacing(epochs: np.ndarray) -> float:
    d = np.diff(epochs[np.isfinite(epochs)])
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 1.0


def _first(mask: np.ndarray, start: int = 0) -> int | None:
    idx = np.flatnonzero(mask[start:])
    return int(idx[0]) + start if len(idx) else None


def reach_index(v: Curve, z: float) -> int:
    """First point where the smoothed curve is within noise of its best level."""
    return int(np.argmax(v.trend >= v.trend.max() - v.tol(z)))


def _gap_grew(ctx: Context, reach: int) -> tuple[bool, list[Finding], GapTrend | None]:
    """Overfitting seen in the monitored metric: validation stopped at ``reach`` while training
    kept improving and the train-val gap grew beyond noise (or, without a same-metric training
    curve, validation fell). Returns (whether it did, side findings, gap trend)."""
    v, z, e, gap = ctx.val, ctx.options.z, ctx.epochs, ctx.gap
    # validation must not still be rising after it first reached its best level
    _, t_val = slope_test(v.g[reach:], v.sigma)
    if np.isfinite(t_val) and t_val > VAL_RISING_T:
        return False, [], None
    tr = ctx.train or ctx.train_loss
    if tr is None or not tr.known:
        return False, [], None
    stable = []
    if gap is not None and gap.known:
        ev = {"gap_end": float(gap.trend[-1]), "reach": float(e[reach])}
        stable = [Finding("stable_gap", "info", message("stable_gap", ev), ev)]
    if not float(tr.trend[-1] - tr.trend[reach]) > max(tr.tol(z), 0.0):
        return False, stable, None
    if gap is None or not gap.known:   # no same-metric training curve: validation must fall
        peak = float(v.trend.max())
        return bool(np.any(v.trend[int(np.argmax(v.trend)):] < peak - v.tol(z))), [], None
    growth = gap.trend - gap.trend[reach]
    slope, t = slope_test(gap.g[reach:], gap.sigma)
    trend = GapTrend(slope_per_epoch=slope / _spacing(e), t=t)
    # the gap must grow materially by the end, not just drift: twice the noise threshold
    # and a quarter of the gap it started from
    needed = max(2 * gap.tol(z), 0.25 * abs(float(gap.trend[reach])))
    if not (growth[-1] > needed and t > z):
        return False, stable, trend
    held = _val_held(ctx, reach)
    if held is not None:              # the gap grew, validation did not get worse
        ev = {"gap_end": float(gap.trend[-1]), "reach": float(e[reach]), "kind": "val_holds",
              **held}
        return False, [Finding("stable_gap", "info", message("stable_gap.val_holds", ev), ev)], trend
    return True, [], trend


def _val_held(ctx: Context, reach: int) -> dict | None:
    """What shows that validation held while the gap grew (the validation loss's lowest level
    after ``reach`` and its level at the end, for ``stable_gap``), or None: it got worse.

    A growing gap is overfitting only where validation got worse too: with a validation loss
    logged beside another monitor, that loss rose beyond noise above its lowest level after
    ``reach``. The loss is the more sensitive witness: a model growing worse on new data grows
    confidently wrong there before its accuracy falls (on the truth corpus's calibration half
    every true overfitting run has it 18-105 % above its lowest level after the reach, beyond
    noise). An accuracy a point lower at the end while the loss holds at its lowest is a few
    borderline examples flipping (at an LR near 0 the epoch-to-epoch noise that judges the
    decline is tiny): the half's one false alarm, animal/cosine_annealed/s1, had 1.6 points
    and +0.6 %. A gap that grows while validation holds is training accuracy running ahead, not
    harm on new data. Without a validation loss the growing gap alone decides (nothing else to
    read)."""
    v, vl, z = ctx.val, ctx.val_loss, ctx.options.z
    if vl is None or not vl.known or vl.name == v.name:
        return None
    level, end = _levels(vl)
    low = float(level[reach:].min())
    return None if end - low > vl.tol(z) else {"loss_low": low, "loss_end": end}


def _levels(c: Curve) -> tuple[np.ndarray, float]:
    """A logged loss's levels: running medians of its raw values (a median never leaves the
    observed values, where a local quadratic dips below them at a knee and fakes a rise after
    it), and its level at the end, the median of the last quarter of the run (at least 5
    points): a rise must hold, not be a spike in the last epochs."""
    raw = fill_gaps(c.raw)
    h = max(1, c.n // 20)
    return (median_filter(raw, size=2 * h + 1, mode="nearest"),
            float(np.median(raw[-tail_length(c.n):])))


def _loss_rise(ctx: Context) -> dict | None:
    """Overfitting seen in the losses when the monitor is an accuracy-like metric that levelled
    off: the validation loss climbs at least LOSS_RISE above its minimum (and beyond noise)
    while the training loss keeps falling, and the monitor is not rising at the end. The model
    memorises its training set and grows over-confident on the examples it gets wrong."""
    v, vl, tl, z = ctx.val, ctx.val_loss, ctx.train_loss, ctx.options.z
    if v.mode != "max" or vl is None or tl is None or not (vl.known and tl.known) \
            or vl.name == v.name or not np.all(vl.raw[np.isfinite(vl.raw)] > 0):
        return None
    val_level, loss_end = _levels(vl)
    train_level, train_end = _levels(tl)
    low = int(np.argmin(val_level))
    if v.n - 1 - low < max(4, int(0.15 * v.n)):
        return None
    loss_min = float(val_level[low])
    if not (loss_end >= (1 + LOSS_RISE) * loss_min and loss_end - loss_min > vl.tol(z)):
        return None
    # the training loss kept falling, beyond noise and by a fifth at least: memorising
    if not (float(train_level[low]) - train_end > tl.tol(z)
            and train_end <= (1 - LOSS_RISE) * float(train_level[low])):
        return None
    if _rising_at_end(ctx)[0]:                     # the monitor still rises: not yet
        return None
    return {"loss_epoch": float(ctx.epochs[low]), "loss_min": loss_min, "loss_end": loss_end,
            "loss_rise": loss_end / loss_min - 1, "train_loss_from": float(train_level[low]),
            "train_loss_to": train_end}


def overfitting(ctx: Context, best: Best) -> tuple[Overfitting, list[Finding]]:
    v, z, e = ctx.val, ctx.options.z, ctx.epochs
    gap = ctx.gap
    # the summary's fields as they become known; every return builds it from them
    known: dict = {} if gap is None else {"gap_at_best": float(gap.raw[best.index]),
                                          "gap_at_end": float(gap.raw[-1])}
    if not v.known:
        return Overfitting(**known), []
    reach = reach_index(v, z)
    known["reach_epoch"] = float(e[reach])
    if v.n - 1 - reach < max(5, int(0.15 * v.n)):   # too few points after it to say it stopped
        return Overfitting(**known), []
    grew, side, known["gap_trend"] = _gap_grew(ctx, reach)
    loss = None if grew else _loss_rise(ctx)
    if not grew and loss is None:
        return Overfitting(**known), side
    peak = float(v.trend.max())
    decline = peak - float(v.trend[-1])
    severity = "critical" if decline > v.tol(z) else "warning"
    tr = ctx.train or ctx.train_loss
    # the onset is where validation stopped improving (the protocol's: where the held-out metric
    # reached its best level); the gap's growth or the loss's rise only decides whether it is
    # overfitting
    onset, tied = _stopped(ctx, best)
    out = Overfitting(**known, detected=True, onset_epoch=float(e[onset]))
    gap_start = float(gap.trend[onset]) if gap is not None else None
    gap_end = float(gap.trend[-1]) if gap is not None else None
    ev = {"onset": float(e[onset]), "reach": float(e[reach]),
          "monitor": v.name, "best_epoch": best.epoch, "best_value": best.value,
          "best_tied": True if tied else None,
          "train_from": tr.value(float(tr.trend[onset])), "train_to": tr.value(float(tr.trend[-1])),
          "gap_start": gap_start, "gap_end": gap_end,
          "gap_growth": gap_end - gap_start if gap is not None and loss is None else None,
          "decline": decline if decline > v.tol(z) else None, "train_column": tr.name}
    if loss is not None:
        ev.update(kind="loss", **loss)
        return out, [Finding("overfitting", severity, message("overfitting.loss", ev), ev)]
    return out, [Finding("overfitting", severity, message("overfitting", ev), ev)]


def _stopped(ctx: Context, best: Best) -> tuple[int, bool]:
    """Where validation stopped improving: the first epoch that is the best or statistically
    tied with it (``best.tied_epochs``: within noise of the best on the same validation set),
    and whether it is a tied epoch rather than the best itself (the report then says so).

    The validation curve's own counterpart of the truth protocol's onset, the first epoch whose
    held-out level is within noise of its best (bench/truth/PROTOCOL.md). Chosen on the truth
    corpus's calibration half over the earlier rule (the smoothed curve's first point near its
    peak, moved to the best epoch or a tie of it): onset within +-2 epochs 15 -> 16 of 16 runs."""
    e = ctx.epochs
    marks = {best.epoch, *best.tied_epochs}
    i = next(j for j in range(len(e)) if float(e[j]) in marks)
    return i, float(e[i]) != best.epoch


def _rising_at_end(ctx: Context) -> tuple[bool, int, float, float]:
    """Whether the monitor still rises at the end: its slope over the last quarter of the run
    (at least 5 points) has t above z and, for an accuracy-like monitor, would gain at least
    ``MIN_RISE`` over as many points again; and, under a restarting schedule, the last cycle
    climbed higher than the cycles before it (climbing back after a restart is the schedule's
    doing, not progress). Returns (rising, points judged, slope per point, t)."""
    v, z = ctx.val, ctx.options.z
    k = tail_length(v.n)
    slope, t = slope_test(v.g[-k:], v.sigma)
    rising = bool(np.isfinite(t) and t > z)
    if rising and is_proportion(v.name) and slope * k < MIN_RISE:
        rising = False
    restart = last_restart(ctx)
    if rising and restart is not None and v.trend[-1] <= v.trend[:restart].max() + v.tol(z):
        rising = False
    return rising, k, slope, t


def still_improving(ctx: Context) -> Finding | None:
    v, z = ctx.val, ctx.options.z
    if not v.known:
        return None
    rising, k, slope, t = _rising_at_end(ctx)
    if not (rising and v.trend[-1] >= v.trend.max() - v.tol(z)):
        return None
    # the span judged, in the log's own epochs (a history evaluated every few steps has
    # fractional ones: "the last k epochs" would be wrong there); the slope is oriented, so a
    # loss that falls "improves"
    ev = {"monitor": v.name, "k": k, "slope": slope / _spacing(ctx.epochs), "t": t,
          "from_epoch": float(ctx.epochs[-k]), "to_epoch": float(ctx.epochs[-1])}
    end = lr_at_end(ctx)
    if end is not None and end[0] < SCHEDULE_ENDED * end[1]:
        # rising at an LR near 0: the schedule ran out, more epochs at that LR change little
        ev.update(kind="schedule_ended", lr_end=end[0], lr_peak=end[1], lr_end_frac=end[0] / end[1])
        return Finding("still_improving", "warning", message("still_improving.schedule_ended", ev), ev)
    return Finding("still_improving", "warning", message("still_improving", ev), ev)


def underfitting(ctx: Context, overfit: Finding | None = None) -> Finding | None:
    """The training metric (a proportion such as accuracy) is low and still rising. A loss
    alone cannot say "low", so histories without a training accuracy-like metric get none.

    ``overfit``: the run's overfitting finding, when there is one; the message then says how
    the two hold together (validation stopped improving while training is still short)."""
    z, opts = ctx.options.z, ctx.options
    tr = ctx.train
    if tr is None or not tr.known or not (is_proportion(tr.name) and tr.mode == "max"):
        return None
    k = tail_length(tr.n)
    slope, t = slope_test(tr.g[-k:], tr.sigma)
    end = tr.value(float(tr.trend[-1]))
    if not (np.isfinite(t) and t > z and end < opts.underfit_level):
        return None
    ev = {"train_col": tr.name, "train_end": end, "slope": slope / _spacing(ctx.epochs), "t": t}
    if overfit is not None:
        ev.update(kind="with_overfitting", onset=overfit.evidence["onset"])
        return Finding("underfitting", "warning", message("underfitting.with_overfitting", ev), ev)
    return Finding("underfitting", "warning", message("underfitting", ev), ev)


def plateau(ctx: Context) -> Finding | None:
    v, z = ctx.val, ctx.options.z
    if not v.known or v.n < 8:
        return None
    k = tail_length(v.n)
    _, t = slope_test(v.g[-k:], v.sigma)
    if not np.isfinite(t) or abs(t) > z:
        return None
    tr = ctx.train or ctx.train_loss
    if tr is not None and tr.known:
        _, tt = slope_test(tr.g[-k:], tr.sigma)
        if np.isfinite(tt) and abs(tt) > z:
            return None
    if v.trend.max() - v.trend[0] <= v.tol(z):
        return None                    # never improved: not a plateau after learning
    ev = {"start": float(ctx.epochs[-k]), "end": float(ctx.epochs[-1]), "k": k,
          **_lr_over_plateau(ctx, k)}
    return Finding("plateau", "info", message("plateau", ev), ev)


# The LR counts as already lowered on a plateau when it ended there at half its level at the
# plateau's start or lower (one ReduceLROnPlateau drop of 0.5, a cosine's tail, a restart cycle
# running down), or sat at a tenth of its peak or less (a schedule that had annealed before it)
LR_LOWERED = 0.5
LR_LOW_SHARE = 0.1


def _lr_over_plateau(ctx: Context, k: int) -> dict:
    """The logged LR at the plateau's first and last points, and whether it was already lowered
    there (``lr_lowered``: then 'drop the LR on the plateau' is advice the run has taken)."""
    lr = ctx.lr
    span = np.array([]) if lr is None else lr[-k:][np.isfinite(lr[-k:])]
    if len(span) < 2:
        return {}
    peak = float(np.nanmax(lr))
    if not peak > 0:
        return {}
    # the tenth-of-peak clause only where the LR did not rise over the plateau (a restart's or a
    # warmup's climb from a low LR is no lowered LR: "lowered there (1e-05 -> 0.0009)")
    lowered = span[-1] <= LR_LOWERED * span[0] or \
        (span[-1] <= span[0] and float(np.median(span)) <= LR_LOW_SHARE * peak)
    return {"lr_from": float(span[0]), "lr_to": float(span[-1]),
            "lr_lowered": True if lowered else None}


def noisy_validation(ctx: Context, best: Best) -> Finding | None:
    v, o = ctx.val, ctx.options
    if not v.known:
        return None
    spread = float(v.trend.max() - v.trend.min())
    ratio = v.sigma / spread if spread > 0 else float("inf")
    if ratio <= o.noisy_ratio:
        return None
    ev = {"sigma": v.sigma, "ratio": min(ratio, 9.99), "mdd": o.z * np.sqrt(2) * v.sigma,
          "sampling": best.sampling_se, "val_size": ctx.history.val_size}
    return Finding("noisy_validation", "warning", message("noisy_validation", ev), ev)


def _log_curve(c: Curve) -> Curve:
    """A positive loss on a log scale (it spans decades); anything else as it is."""
    raw = c.raw
    if c.mode == "min" and np.all(raw[np.isfinite(raw)] > 0):
        return make_curve(c.name, np.log(raw), "min") or c
    return c


def _spikes(g: np.ndarray, sigma: float, z: float, half: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Points that jump away from both neighbours: |second difference| against the noise of
    the second differences around it (a rolling median absolute deviation over 2*half+1
    values, robust to the spike's own three), so the steep start of a curve, noisy in its own
    right, is not a spike next to a quiet plateau. Returns (indices, z scores)."""

    d2 = g[:-2] - 2 * g[1:-1] + g[2:]               # d2[i] belongs to point i + 1
    size = 2 * half + 1
    centre = median_filter(d2, size=size, mode="nearest")
    local = 1.4826 * median_filter(np.abs(d2 - centre), size=size, mode="nearest") / np.sqrt(6)
    with np.errstate(divide="ignore", invalid="ignore"):     # a flat stretch: 0/0 is no spike
        score = np.nan_to_num(np.abs(d2) / (np.sqrt(6) * np.maximum(local, sigma)))
    a = np.abs(d2)
    peak = (a >= np.r_[0.0, a[:-1]]) & (a >= np.r_[a[1:], 0.0])   # the middle of the three
    idx = np.flatnonzero((score > z) & peak)
    return idx + 1, score[idx]


def instability(ctx: Context) -> list[Finding]:
    out = []
    for c in (ctx.val, ctx.train_loss):
        if c is None or not c.known or c.n < 8:
            continue
        c = _log_curve(c)
        hits, scores = _spikes(c.g, c.sigma, ctx.options.spike_z)
        # the first two epochs move too fast for any neighbourhood to judge them
        keep = [k for k, i in enumerate(hits) if i >= 2 and np.isfinite(c.raw[i])]
        if keep:
            epochs = [float(ctx.epochs[hits[k]]) for k in keep]
            ev = {"column": c.name, "epochs": ", ".join(f"{x:g}" for x in epochs[:8]),
                  "epoch_list": epochs, "max_z": float(max(scores[k] for k in keep))}
            out.append(Finding("instability", "warning", message("instability", ev), ev))
    return out


def non_finite(ctx: Context) -> Finding | None:
    """The first loss or metric (names.KNOWN_METRICS, or the monitor) that turned NaN or
    infinite. Other columns are not a breakdown: mixed-precision training logs an infinite
    gradient norm on the steps its loss scaler skips, and an LR or a timer says nothing of the
    model."""
    bad = {c: e for c, e in ctx.history.non_finite.items()
           if metric_of(c) in KNOWN_METRICS or c == ctx.val.name}
    if not bad:
        return None
    column, epoch = min(bad.items(), key=lambda kv: kv[1])
    ev = {"column": column, "epoch": float(epoch), "columns": sorted(bad)}
    return Finding("non_finite", "critical", message("non_finite", ev), ev)


def divergence(ctx: Context) -> Finding | None:
    z = ctx.options.z
    base = ctx.train_loss or (ctx.val if ctx.val.mode == "min" else None)
    if base is None or not base.known:
        return None
    c = _log_curve(base)
    i = int(np.argmax(c.trend))        # oriented: the lowest loss
    if i >= c.n - 3:
        return None
    rise = float(c.trend[i] - c.trend[-1])
    factor = np.exp(rise) if c is not base else None
    # in logged units, the loss must climb back a quarter of the way to where it started:
    # 0.003 -> 0.04 after starting at 2.0 is noise at the floor, not a breakdown
    climb = float(base.trend[i] - base.trend[-1]) / max(float(base.trend[i] - base.trend[0]), 1e-12)
    if not (rise > max(c.tol(z), 0) and (factor is None or factor >= 2.0) and climb >= 0.25):
        return None
    onset = _first(c.trend[i] - c.trend > c.tol(z), i) or (c.n - 1)
    v = ctx.val
    collapse = v is not base and v.known and (v.trend.max() - v.trend[-1]) > v.tol(z)
    ev = {"column": base.name, "epoch": float(ctx.epochs[onset]), "best": base.value(float(base.g[i])),
          "end": float(base.raw[-1]), "collapse": True if collapse else None}
    return Finding("divergence", "critical", message("divergence", ev), ev)


def metric_disagreement(ctx: Context) -> Finding | None:
    v, vl, z = ctx.val, ctx.val_loss, ctx.options.z
    if vl is None or v.mode == "min" or not (v.known and vl.known) or v.name == vl.name:
        return None
    li, ai = int(np.argmax(vl.trend)), int(np.argmax(v.trend))
    gain = float(v.trend[ai] - v.trend[li])
    loss_rise = float(vl.trend[li] - vl.trend[-1])
    if not (ai > li and gain > v.tol(z) and loss_rise > vl.tol(z)):
        return None
    ev = {"loss_epoch": float(ctx.epochs[li]), "acc_epoch": float(ctx.epochs[ai]), "gain": gain,
          "monitor": v.name, "loss_rise": loss_rise}
    return Finding("metric_disagreement", "warning", message("metric_disagreement", ev), ev)

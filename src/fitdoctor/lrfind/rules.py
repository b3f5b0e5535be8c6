"""LR range test: an exponential LR ramp over mini-batches, a stop once the loss has clearly
risen (the median of the last 5 batch losses at twice its lowest, or the debiased EMA at 4x its
best), the model and optimizer restored afterwards.

The suggestion (issue 19) is a consensus of three rules read off a centred, outlier-proof
smoothing of the raw batch losses (smoothed()): the steepest descent against log-LR, the LR at
which the loss has made half of its descent, and the minimum / 10; the suggestion is
RUN_FACTOR (2) x their median (a pretrained model: PRETRAINED_FACTOR x PRETRAINED_RULE). A centred smoothing has no lag, unlike the EMA, whose
1/(1 - beta) = 50 batches span four decades of a 100-step ramp and move its minimum and steepest
point by as much as the rules are apart. fastai's valley is shown beside them, not used: it was
the noisiest rule over seeds. Judged against trained LR grids in bench/lrfind_truth.py. No
suggestion (refusal()) when the curve shows no clear descent, no minimum, rules more than a
decade apart, or a value over a decade below the smallest LR at which the loss moved beyond its noise (moved_from())."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from itertools import cycle
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from ..errors import arg, render

if TYPE_CHECKING:                 # the rules read numbers; only the ramp is given torch objects
    import torch

RULES = ("steepest", "half_drop", "min_div_10", "valley")
CONSENSUS = ("steepest", "half_drop", "min_div_10")   # the suggestion is RUN_FACTOR x their median
# The rules mark where the ramp's few batches train fastest; a run of several epochs at a constant
# LR trained best about twice as high: measured on tuning seeds 5-7 of digits, mnist and animal
# (bench/lrfind_truth.py), where the plain median was 2x low on two tasks of three.
RUN_FACTOR = 2.0
POLICY = f"{RUN_FACTOR:g}x the median of steepest, half_drop and min_div_10 on the smoothed curve"
# A pretrained model (fine-tuning) trains best far below where the ramp's loss falls fastest: the
# ramp's few batches mostly fit the new head, at LRs that over a few epochs wreck the pretrained
# weights (MiniLM: the scratch policy's suggestions were 4-16x the best LR, two trained to the
# majority class). Its own rule and power-of-two factor, chosen by bench/lrfind_truth.py on tuning
# seeds 5-9 of the built-in sentiment task (the pair nearest the trained grid's best LR, of 5 rules
# x 5 factors; "consensus" is the median of CONSENSUS): 1/8 x half_drop, mean error 0.12 decades
# there (one H200, 2026-11-29); judged on seeds 0-4 (README, lr-find). One model, one dataset.
PRETRAINED_RULE = "half_drop"
PRETRAINED_FACTOR = 0.125
PRETRAINED_NOTE = ("the model is pretrained: the fine-tuning policy, measured on one model (MiniLM on "
                   "Rotten Tomatoes: in the good range for 2 of 5 seeds, 1.8 points below the best LR "
                   "on average); where a run is cheap, also try 2x and 1/2x")


def policy(pretrained: bool = False) -> str:
    """The suggestion's rule in words."""
    if not pretrained:
        return POLICY
    rule = "the median of steepest, half_drop and min_div_10" if PRETRAINED_RULE == "consensus" \
        else f"the {PRETRAINED_RULE} rule"
    return f"a pretrained model: {PRETRAINED_FACTOR:g}x {rule} on the smoothed curve"
SMOOTH_MEDIAN = 5      # raw batch losses per running median (one or two outlier batches ignored)
SMOOTH_MEAN = 9        # running medians per centred mean
MIN_LR, MAX_LR, STEPS = 1e-7, 10.0, 100   # the ramp's defaults (lr-find's options, find_lr, range_test)
RISE = 2.0             # range_test stops when the running median reaches RISE x its lowest


@dataclass
class RangeCurve:
    lr: list[float]
    loss: list[float]                 # debiased EMA of the training loss
    raw: list[float]
    stopped: str                      # "rose" | "diverged" | "non_finite" | "max_lr"
    beta: float = 0.98                # the EMA's factor

    @property
    def smooth(self) -> list[float]:
        """The centred smoothing of the raw losses that the rules read (smoothed())."""
        return smoothed(self.raw).tolist()


@dataclass
class LRFindResult:
    suggestion: Optional[float]
    suggestions: dict[str, Optional[float]]
    agreement_decades: Optional[float]          # spread of the CONSENSUS rules, in decades of LR
    spread_decades: dict[str, Optional[float]]  # per rule, across repeats
    curves: list[RangeCurve]
    cost_epochs: float
    message: str
    per_repeat: list[dict[str, Optional[float]]] = field(default_factory=list)
    moved_from: Optional[float] = None          # the LR where the loss first moved (moved_from())
    refused: str = ""                            # why there is no suggestion ("" when there is one)
    pretrained: bool = False                     # the task's model was pretrained (run.find_lr)


def range_test(net: torch.nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable,
               batches, *, min_lr: float = MIN_LR, max_lr: float = MAX_LR, steps: int = STEPS,
               beta: float = 0.98, diverge: float = 4.0, rise: float = RISE,
               device: str = "cpu") -> RangeCurve:
    """Run the ramp on ``net``/``optimizer`` and put both back as they were. It stops once the
    median of the last SMOOTH_MEDIAN raw losses reaches ``rise`` times its lowest value (after 10
    steps): by then the loss has turned, and the steps after that are cost without information."""
    net_state = copy.deepcopy(net.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    was_training = net.training
    lrs, smooth, raw = [], [], []
    avg, best, lowest, stopped = 0.0, math.inf, math.inf, "max_lr"
    factor = (max_lr / min_lr) ** (1 / max(steps - 1, 1))
    net.train()
    try:
        it = cycle(batches)
        for i in range(steps):
            lr = min_lr * factor ** i
            for g in optimizer.param_groups:
                g["lr"] = lr
            *xs, y = (t.to(device) for t in next(it))
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(*xs), y)
            value = float(loss.detach())
            if not math.isfinite(value):
                stopped = "non_finite"
                break
            loss.backward()
            optimizer.step()
            avg = beta * avg + (1 - beta) * value
            debiased = avg / (1 - beta ** (i + 1))
            lrs.append(lr)
            raw.append(value)
            smooth.append(debiased)
            best = min(best, debiased)
            recent = float(np.median(raw[-SMOOTH_MEDIAN:]))
            lowest = min(lowest, recent)
            if debiased > diverge * best:
                stopped = "diverged"
                break
            if i >= 10 and recent > rise * lowest:
                stopped = "rose"
                break
    finally:
        net.load_state_dict(net_state)
        optimizer.load_state_dict(opt_state)
        net.train(was_training)
    return RangeCurve(lrs, smooth, raw, stopped, beta)


def _valley(loss: np.ndarray) -> Optional[int]:
    """fastai's valley: the longest decreasing stretch, a little past its first third."""
    n = len(loss)
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if loss[i] < loss[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
        if lds[max_end] < lds[i]:
            max_end = i
            max_start = max_end - lds[max_end]
    if max_end - max_start < 3:
        return None
    sections = (max_end - max_start) / 3
    return int(max_start + int(sections) + int(sections / 2))


def _descent(curve: RangeCurve) -> tuple[float, float, float, float]:
    """(start, low, needed drop, noise): the loss at the ramp's start (median of the raw batch
    losses of its first fifth), the lowest smoothed loss after the first 10 steps, and the drop
    that is more than noise: 4 standard deviations of their difference, from the batch-to-batch
    noise (median absolute successive difference of the first fifth: robust to a trend), and at
    least 1 % of the start. A fixed relative drop would refuse a fine-tuning run whose loss starts
    at ln(classes) and moves a few per cent in 100 steps, however clearly."""
    raw, loss = np.asarray(curve.raw, dtype=float), np.asarray(curve.loss, dtype=float)
    k = max(10, len(raw) // 5)
    start = float(np.median(raw[:k]))
    sigma = 1.4826 * float(np.median(np.abs(np.diff(raw[:k])))) / math.sqrt(2)
    i_low = 10 + int(np.argmin(loss[10:]))
    n_eff = min(i_low + 1, (1 + curve.beta) / (1 - curve.beta))   # batches averaged by the EMA there
    noise = sigma * math.sqrt((math.pi / 2) / k + 1 / n_eff)   # a median's variance: pi/2 x a mean's
    return start, float(loss[i_low]), max(4 * noise, 0.01 * abs(start)), noise


def smoothed(raw) -> np.ndarray:
    """Centred smoothing of the raw batch losses: a running median of SMOOTH_MEDIAN (an outlier
    batch, such as a high first one, does not move it), then a centred running mean of
    SMOOTH_MEAN of those (the windows shrink at the ends). Centred, so without the EMA's lag."""
    raw = np.asarray(raw, dtype=float)
    n, m, h = len(raw), SMOOTH_MEDIAN // 2, SMOOTH_MEAN // 2
    med = np.array([np.median(raw[max(0, i - m):i + m + 1]) for i in range(n)])
    return np.array([med[max(0, i - h):i + h + 1].mean() for i in range(n)])


def suggest(curve: RangeCurve, flag: Optional[Callable[[str], str]] = None) -> tuple[dict[str, Optional[float]], str]:
    """The rules' LRs on the smoothed curve, or None each with the reason when the curve shows
    no clear descent or no minimum. The reason names find_lr's parameters (``steps``), or, with
    ``flag``, the options that set them (errors.render).

    steepest: the steepest descent against log-LR up to the minimum; half_drop: the first LR at
    which the loss has fallen half-way from its start (_descent()) to its minimum; min_div_10:
    the minimum's LR / 10; valley: fastai's valley (shown, not in the consensus)."""
    rules, why = _suggest(curve)
    return rules, render(why, flag)


def _suggest(curve: RangeCurve) -> tuple[dict[str, Optional[float]], str]:
    lr, loss = np.asarray(curve.lr), smoothed(curve.raw)
    none = {r: None for r in RULES}
    if len(loss) < 12:                   # _descent looks past the first 10 steps
        if curve.stopped == "max_lr":
            return none, f"only {len(loss)} steps: raise {arg('steps')}"
        return none, (f"the loss {'diverged' if curve.stopped == 'diverged' else 'became non-finite'} after "
                      f"{len(loss)} steps: lower {arg('min_lr')} or {arg('max_lr')}")
    start, low, need, noise = _descent(curve)
    if start - low <= need:                # (a loss of 0 throughout: no descent either)
        return none, (f"no clear descent: the loss went from {start:.4g} to at best {low:.4g}, a drop under "
                      f"{need:.2g} (4x its noise {noise:.2g}, or 1 %); widen {arg('min_lr')}/{arg('max_lr')}, "
                      f"raise {arg('steps')} "
                      "or check the model and data")
    i_min = 10 + int(np.argmin(loss[10:]))
    if curve.stopped == "max_lr" and i_min >= len(loss) - SMOOTH_MEAN // 2 - 1:
        return none, (f"no minimum: the loss was still falling at the ramp's end ({lr[-1]:.3g}); raise "
                      f"{arg('max_lr')}")
    grad = np.gradient(loss[: i_min + 1], np.log10(lr[: i_min + 1]))
    steepest = 3 + int(np.argmin(grad[3:]))            # the first steps: the windows are one-sided
    below = np.flatnonzero(loss[: i_min + 1] < start - 0.5 * (start - loss[i_min]))
    v = _valley(loss)
    return {"steepest": float(lr[steepest]), "half_drop": float(lr[below[0]]) if len(below) else None,
            "min_div_10": float(lr[i_min] / 10), "valley": float(lr[v]) if v is not None else None}, ""


MOVE_WINDOW = 5        # raw batch losses per median in moved_from
MAX_DISAGREEMENT = 1.0  # decades between the rules (and below moved_from) before a refusal


def moved_from(curve: RangeCurve) -> Optional[float]:
    """The smallest LR at which the loss is seen to fall, beyond its batch noise, or None.

    The start level and the batch noise are _descent's: the median of the raw losses of the
    ramp's first fifth (k of them), and sigma from the median absolute successive difference
    there. Each window of MOVE_WINDOW consecutive raw losses is summarised by its median; the
    loss has moved at the first window whose median lies below the start by more than 4 standard
    deviations of the difference of the two medians, sigma * sqrt(pi/2 * (1/MOVE_WINDOW + 1/k))
    (a median's variance is about pi/2 times a mean's), and by more than 0.1 % of the start (a
    noiseless loss). Raw losses, not the smoothed curve: the EMA lags by up to 1/(1 - beta) steps
    and its first values are a handful of batches, which is exactly the noise a steepest-descent
    rule mistakes for a descent. Medians, so one or two outlier batches in a window do not count;
    a one-sided 4-sigma test has a false-alarm rate of about 3e-5 per window, about 1 % over a
    ramp of 300 steps. The LR returned is the window's first one."""
    raw = np.asarray(curve.raw, dtype=float)
    n = len(raw)
    if n < 12:
        return None
    k = max(10, n // 5)
    start = float(np.median(raw[:k]))
    sigma = 1.4826 * float(np.median(np.abs(np.diff(raw[:k])))) / math.sqrt(2)
    need = max(4 * sigma * math.sqrt((math.pi / 2) * (1 / MOVE_WINDOW + 1 / k)), 0.001 * abs(start))
    for i in range(n - MOVE_WINDOW + 1):
        if start - float(np.median(raw[i:i + MOVE_WINDOW])) > need:
            return float(curve.lr[i])
    return None


def refusal(rules: dict[str, Optional[float]], suggestion: Optional[float],
            moved: Optional[float], min_lr: Optional[float] = None,
            flag: Optional[Callable[[str], str]] = None) -> str:
    """Why the suggestion must not be used as a learning rate, or "" when it may.

    Refused: (1) CONSENSUS rules more than MAX_DISAGREEMENT decades apart. They read one smoothed
    curve; further apart, the descent is long or noisy enough that its steepest point, its middle
    and its minimum do not pin one LR down, and their median is a guess. (2) A suggestion more
    than MAX_DISAGREEMENT decades below ``moved`` (moved_from()): nothing shows that the model
    trains there. The advice names a ``min_lr`` a decade below ``moved`` when the ramp (from
    ``min_lr``) started lower than that; ``flag`` as in suggest()."""
    return render(_refusal(rules, suggestion, moved, min_lr), flag)


def _refusal(rules: dict[str, Optional[float]], suggestion: Optional[float],
             moved: Optional[float], min_lr: Optional[float] = None) -> str:
    present = {r: rules[r] for r in CONSENSUS if rules.get(r)}
    if suggestion is None or not present:
        return ""
    if moved is not None and (min_lr is None or moved / 10 > min_lr * 1.01):
        todo = f"Start the ramp nearer the descent ({arg('min_lr', f'{moved / 10:.0e}')}) and add {arg('repeats', 3)}"
    else:
        todo = f"Add {arg('repeats', 3)} (a median over other batches), or check the model and data"
    spread = _decades(present.values()) or 0.0
    if spread > MAX_DISAGREEMENT:
        values = ", ".join(f"{r} {v:.3g}" for r, v in present.items())
        return (f"no suggestion: the rules disagree by {spread:.1f} decades ({values}), more than "
                f"{MAX_DISAGREEMENT:g}, so the curve does not pin one LR down. {todo}.")
    below = math.log10(moved / suggestion) if moved is not None else 0.0
    if below > MAX_DISAGREEMENT:
        return (f"no suggestion: {suggestion:.3g} lies {below:.1f} decades below {moved:.3g}, the "
                f"smallest LR at which the loss fell beyond its noise, so nothing shows it trains. "
                f"{todo}.")
    return ""


def _decades(values) -> Optional[float]:
    vals = [v for v in values if v]
    return float(np.log10(max(vals) / min(vals))) if len(vals) >= 2 else (0.0 if vals else None)


def _geomedian(vals) -> float:
    return float(np.exp(np.median(np.log(list(vals)))))


def combine(per_repeat: list[dict[str, Optional[float]]], pretrained: bool = False,
            rule: Optional[str] = None, factor: Optional[float] = None
            ) -> tuple[dict, dict, Optional[float], Optional[float]]:
    """Median of each rule over repeats (geometric), the spread of each rule, the CONSENSUS
    rules' agreement, and the suggestion: RUN_FACTOR x the median of the CONSENSUS rules, or for
    a pretrained model ``factor`` x ``rule`` (default PRETRAINED_FACTOR x PRETRAINED_RULE; None
    when that rule found no point). The benchmark scores other pairs through ``rule``/``factor``."""
    rule, factor = rule or PRETRAINED_RULE, factor or PRETRAINED_FACTOR
    rules, spread = {}, {}
    for r in RULES:
        vals = [p[r] for p in per_repeat if p.get(r)]
        rules[r] = _geomedian(vals) if vals else None
        spread[r] = _decades(vals) if len(per_repeat) > 1 else None
    present = [rules[r] for r in CONSENSUS if rules[r]]
    consensus = _geomedian(present) if present else None
    if not pretrained:
        suggestion = RUN_FACTOR * consensus if consensus else None
    else:
        base = consensus if rule == "consensus" else rules[rule]
        suggestion = factor * base if base and consensus else None
    return rules, spread, _decades(rules[r] for r in CONSENSUS), suggestion


def summarize(curves: list[RangeCurve], *, batches_per_epoch: int, min_lr: Optional[float] = None,
              pretrained: bool = False, flag: Optional[Callable[[str], str]] = None) -> LRFindResult:
    """The result of one ramp per repeat: each curve's rules (and why not, per curve), their
    combination over repeats, where the loss moved (the geometric median over repeats), and the
    suggestion by ``policy(pretrained)`` unless refusal() refuses it (then None, and the reason
    in ``message``). The reasons name find_lr's parameters, or with ``flag`` the options that
    set them (as in suggest())."""
    per_repeat, messages = [], []
    for r, curve in enumerate(curves):
        rules, msg = suggest(curve, flag)
        per_repeat.append(rules)
        if msg:
            messages.append(f"repeat {r + 1}: {msg}" if len(curves) > 1 else msg)
    rules, spread, agreement, suggestion = combine(per_repeat, pretrained)
    if pretrained and suggestion is None and agreement is not None and not messages:
        messages.append(render(f"no suggestion: the {PRETRAINED_RULE} rule, which a pretrained model's "
                               f"suggestion is read from, found no point on the curve; raise {arg('steps')}",
                               flag))
    onsets = [m for m in (moved_from(c) for c in curves) if m]
    moved = _geomedian(onsets) if onsets else None
    refused = refusal(rules, suggestion, moved, min_lr if min_lr is not None else
                      (curves[0].lr[0] if curves and curves[0].lr else None), flag)
    shown = sum(1 for p in per_repeat if any(p.get(r) for r in CONSENSUS))
    if not refused and suggestion is not None and len(curves) > 1 and 2 * shown <= len(curves):
        refused = (f"only {shown} of {len(curves)} repeats showed a descent: the curve does not "
                   "support a suggestion")
    if refused:
        suggestion = None
        messages.append(refused)
    elif suggestion is None:
        refused = "; ".join(messages) or "no suggestion"
    elif pretrained:
        messages.append(PRETRAINED_NOTE)
    cost = sum(len(c.lr) for c in curves) / max(batches_per_epoch, 1)
    return LRFindResult(suggestion, rules, agreement, spread, curves, cost, "; ".join(messages),
                        per_repeat, moved, refused, pretrained)

"""LR range test: an exponential LR ramp over mini-batches, the debiased EMA of the loss, a stop
at divergence (smoothed loss > 4x its best), the model and optimizer restored afterwards.
Several suggestion rules side by side — steepest descent against log-LR, fastai's valley,
minimum/10 — and, with repeats over other batches and seeds, their spread."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from itertools import cycle
from typing import Callable, Optional

import numpy as np
import torch

RULES = ("steepest", "valley", "min_div_10")


@dataclass
class RangeCurve:
    lr: list[float]
    loss: list[float]                 # debiased EMA of the training loss
    raw: list[float]
    stopped: str                      # "diverged" | "non_finite" | "max_lr"
    beta: float = 0.98                # the EMA's factor


@dataclass
class LRFindResult:
    suggestion: Optional[float]
    suggestions: dict[str, Optional[float]]
    agreement_decades: Optional[float]          # spread of the rules, in decades of LR
    spread_decades: dict[str, Optional[float]]  # per rule, across repeats
    curves: list[RangeCurve]
    cost_epochs: float
    message: str
    per_repeat: list[dict[str, Optional[float]]] = field(default_factory=list)


def range_test(net: torch.nn.Module, optimizer: torch.optim.Optimizer, loss_fn: Callable,
               batches, *, min_lr: float = 1e-7, max_lr: float = 10.0, steps: int = 100,
               beta: float = 0.98, diverge: float = 4.0, device: str = "cpu") -> RangeCurve:
    """Run the ramp on ``net``/``optimizer`` and put both back as they were."""
    net_state = copy.deepcopy(net.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    was_training = net.training
    lrs, smooth, raw = [], [], []
    avg, best, stopped = 0.0, math.inf, "max_lr"
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
            if debiased > diverge * best:
                stopped = "diverged"
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


def suggest(curve: RangeCurve) -> tuple[dict[str, Optional[float]], str]:
    """The rules' LRs, or None each with the reason when the curve shows no clear descent."""
    lr, loss = np.asarray(curve.lr), np.asarray(curve.loss)
    none = {r: None for r in RULES}
    if len(loss) < 12:                   # _descent looks past the first 10 steps
        return none, f"only {len(loss)} steps before the loss {curve.stopped}: raise --steps or lower --min-lr"
    start, low, need, noise = _descent(curve)
    if start - low < need:
        return none, (f"no clear descent: the loss went from {start:.4g} to at best {low:.4g}, a drop under "
                      f"{need:.2g} (4x its noise {noise:.2g}, or 1 %); widen --min-lr/--max-lr, raise --steps "
                      "or check the model and data")
    i_min = int(np.argmin(loss))
    grad = np.gradient(loss[: i_min + 1], np.log10(lr[: i_min + 1])) if i_min >= 2 else np.array([0.0])
    skip = min(3, max(len(grad) - 1, 0))
    steepest = float(lr[skip + int(np.argmin(grad[skip:]))]) if i_min >= 2 else None
    v = _valley(loss)
    return {"steepest": steepest, "valley": float(lr[v]) if v is not None else None,
            "min_div_10": float(lr[i_min] / 10)}, ""


def _decades(values) -> Optional[float]:
    vals = [v for v in values if v]
    return float(np.log10(max(vals) / min(vals))) if len(vals) >= 2 else (0.0 if vals else None)


def combine(per_repeat: list[dict[str, Optional[float]]]) -> tuple[dict, dict, Optional[float], Optional[float]]:
    """Median of each rule over repeats (geometric), the spread of each rule, the rules'
    agreement, and the suggestion: the smallest rule (an LR a little low only slows training,
    one a little high can diverge)."""
    rules, spread = {}, {}
    for r in RULES:
        vals = [p[r] for p in per_repeat if p.get(r)]
        rules[r] = float(np.exp(np.median(np.log(vals)))) if vals else None
        spread[r] = _decades(vals) if len(per_repeat) > 1 else None
    present = [v for v in rules.values() if v]
    suggestion = float(min(present)) if present else None
    return rules, spread, _decades(rules.values()), suggestion

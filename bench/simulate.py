"""Simulated training runs whose truth is not fitdoctor's noise model (issue 18).

A population of examples, a model whose checkpoints change from epoch to epoch, and a FIXED
validation set of N examples drawn once from that population and scored at every epoch (all
scores on a probit scale):

* Population. K classes (2 with a majority of 50-70 %, or 10 near-uniform) with shares ``w_k``
  and offsets ``c_k`` (some classes are harder); example difficulty ``d ~ Normal(0, s_d^2)``.
* Checkpoint at epoch t. A shared score ``L(t)`` (the scenario's learning curve) plus the
  checkpoint's own luck, which is real and carries to new data: a global ``g(t)`` and a per-class
  ``g_k(t)``, AR(1) over epochs, their size scaled by sqrt(lr(t) / lr_peak) (SGD noise shrinks
  as the LR anneals).
* Example i at epoch t: ``z_i(t) = L(t) + g(t) + g_k(t) + c_k + d_i`` and its margin
  ``a_i(t) = z_i(t) + s_u u_i(t)``, where the wobble ``u_i`` is a standard-normal AR(1) over
  epochs. The example is right iff ``a_i > 0``: its probability of being right,
  Phi(z_i / s_u), drifts smoothly with the model. Its loss is the binary cross-entropy of the
  logit ``1.7 kappa(t) a_i``; ``kappa`` is the model's confidence (growing confidence over a
  flat accuracy makes the validation loss climb).
* Logged validation accuracy = the mean correctness of the SAME N examples at every epoch, the
  validation loss their mean loss: the errors are correlated across epochs and the sampling
  error of the N examples is shared by all of them, as in a real run. Training accuracy and
  loss are the population expectations under the training score ``L_tr(t)`` and
  ``kappa_tr(t)``, with a little noise (an average over many batches); the LR column is the
  scenario's schedule. Logged as a logger would: the validation accuracy as an exact k/N float,
  or rounded to 4 or to 3 decimals (a third of the runs each); losses to 4 decimals; epochs
  from 1.
* Noise sizes (S_U, RHO_E, S_G, S_K, RHO_G) were set so that the simulated validation curves
  match the truth corpus's per-example correctness on the statistics of
  bench/simulate_noise.py (noise / sampling sd, share of examples flipping per epoch, share of
  the epoch-to-epoch movement carried to new data, autocorrelation of validation - truth). No
  parameter was tuned on fitdoctor's answers.

TRUTH (never the validation values):

* true level of the checkpoint of epoch t: its expected accuracy on new examples of the
  population, ``sum_k w_k Phi((L(t) + g(t) + g_k(t) + c_k) / sqrt(s_u^2 + s_d^2))`` (exact).
  Coverage is scored against it at the epoch the diagnosis calls best.
* smooth level ``P(t)``: the same without the checkpoint's luck (g = g_k = 0); expected losses
  ``VL(t)``, ``TL(t)`` likewise (validation and training populations). The process runs on for
  q = max(5, n // 4) epochs past the logged end, its LR schedule continued (a cosine not yet at
  its end keeps annealing; a finished schedule, a step schedule or a constant LR stays at its
  last value; warm restarts finish the cycle in progress and do not restart), so that "would
  more epochs help" has an answer from the process itself.

LABELS (the protocol; from the process alone, written before any diagnosis was scored; the
margins of bench/truth/PROTOCOL.md, with its test-set tolerance replaced by DELTA = 1 point of
accuracy, the smallest change of the true level that counts):

1. divergence: the expected training loss at the end is at least 2x its minimum, has climbed
   back at least a quarter of the way from that minimum to its first value, and the LR at the
   end is not above the LR at the minimum (a warm restart is not a breakdown). Accepted:
   divergence, non_finite.
2. no_learning: P within 3 points of the majority-class rate in at least 75 % of the epochs.
   Accepted: no_learning, divergence, non_finite; also still_improving when P ends above that
   margin and is rising (rule 4).
3. overfitting: onset = the epoch where the scenario's process turns from learning to
   overfitting (the true peak; in scenarios without one, the first epoch where P is within
   DELTA of its maximum); at least max(4, 15 % of n) epochs after it; the expected training
   loss at the end below 0.8x its value at the onset; by the end P fell more than DELTA below
   its maximum, or VL rose more than 20 % above its minimum; and P is not rising. Accepted:
   overfitting; the onset is scored within +-2 epochs.
4. still_improving: not the above; P at the end within DELTA of its maximum and "rising": the
   continued process gains at least DELTA in q more epochs. Accepted: still_improving,
   underfitting.
5. plateau: everything else. Accepted: healthy, plateau, underfitting; also still_improving
   when the LR schedule has run out (last LR below 1 % of its peak) after P rose at least DELTA
   over the last quarter (fitdoctor's "still improving as the LR schedule ran out" says that
   more epochs at that LR would change little, which is this label's meaning).

SCENARIOS (``KINDS``): healthy (rise, then plateau; half of them with a training accuracy that
keeps climbing: a growing gap, not overfitting by rule 3), overfit (the true level peaks, then
falls 2-8 points while training keeps improving), overfit_loss (accuracy flat after its peak,
confidence grows: the validation loss climbs 30-200 %), knee (a jump of 5-20 points within
about an epoch, then a plateau), step_decay, cosine, warm_restarts (the LR drives the curve: the
level at an LR is the fully trained level minus beta * lr / lr_peak, progress goes with the
cumulative LR; a step decay makes a jump, annealing flattens the curve, restarts make a
sawtooth), still_improving (slow and clear), divergence (learns, then the training loss
explodes; a quarter with NaN losses), no_learning (guessing among 10 classes, or predicting the
majority class, throughout), and five borderline scenarios whose effect straddles its rule
(about 0.5-5 noise units of their 300-2,000 example validation sets), so that their labels fall
on both sides: border_overfit (decline 0.3-2.5 DELTA), border_loss (validation loss rise
8-35 %, rule 20 %), border_improving (gain in q epochs 0.3-2.5 DELTA), border_no_learning
(learns 1-7 points above chance, rule 3 points), border_divergence (the training loss climbs
back 10-45 % of the way, rule 25 %).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from fitdoctor.history.core import History, make_history

DELTA = 0.01            # the smallest change of the true level that counts (labels)
LOSS_RISE = 0.20        # validation loss above its minimum: overfitting seen in the loss
CHANCE_MARGIN = 0.03    # within 3 points of the majority rate = learned nothing
CHANCE_SHARE = 0.75     # ... in at least this share of the epochs
FITTING = 0.8           # training loss at the end below this times its value at the onset
DIVERGE_FACTOR = 2.0    # training loss at the end >= this times its minimum
DIVERGE_CLIMB = 0.25    # ... and back this share of the way to its first value
SCHEDULE_ENDED = 0.01   # an LR below this share of its peak: the schedule has run out

KINDS = ("healthy", "overfit", "overfit_loss", "knee", "step_decay", "cosine", "warm_restarts",
         "still_improving", "divergence", "no_learning",
         "border_overfit", "border_loss", "border_improving", "border_no_learning",
         "border_divergence")
BORDER_KINDS = tuple(k for k in KINDS if k.startswith("border_"))
LABELS = ("overfitting", "still_improving", "plateau", "no_learning", "divergence")

# noise ranges (probit scale), set so that the simulated runs match the truth corpus's
# per-example correctness (bench/truth/corpus/*/examples.npz): bench/simulate_noise.py
S_U = (0.03, 0.2)       # an example's wobble (log-uniform)
RHO_E = (0.0, 0.3)      # ... its persistence from one epoch to the next
S_G = (0.01, 0.06)      # the checkpoint's luck, global
S_K = (0.0, 0.06)       # ... and per class
RHO_G = (0.0, 0.5)      # ... its persistence

_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(24)
_GH_W = _GH_W / _GH_W.sum()
LOSS_SCALE = 1.7        # the loss's logit per unit of probit margin (a probit ~ a logit / 1.7)


# ------------------------------------------------------------------ population


@dataclass(frozen=True)
class Population:
    w: np.ndarray          # class shares
    c: np.ndarray          # class offsets (probit scale)
    s_d: float             # spread of example difficulty (probit scale)
    s_u: float             # size of an example's epoch-to-epoch wobble (probit scale)

    @property
    def chance(self) -> float:
        """Accuracy of a constant prediction of the majority class."""
        return float(self.w.max())

    @property
    def _s(self) -> float:
        return float(np.sqrt(self.s_u ** 2 + self.s_d ** 2))

    def level(self, L: np.ndarray, gk: np.ndarray | None = None) -> np.ndarray:
        """Expected accuracy on new examples: sum_k w_k P(L + gk + c_k + d + s_u u > 0)
        = sum_k w_k Phi((L + gk + c_k) / sqrt(s_u^2 + s_d^2))."""
        x = np.asarray(L, dtype=float)[..., None] + self.c
        if gk is not None:
            x = x + gk
        return ndtr(x / self._s) @ self.w

    def loss(self, L: np.ndarray, kappa: np.ndarray) -> np.ndarray:
        """Expected loss on new examples: E softplus(-1.7 kappa a), a ~ N(L + c_k, s^2) with
        s^2 = s_u^2 + s_d^2."""
        L, kappa = np.broadcast_arrays(np.asarray(L, float), np.asarray(kappa, float))
        a = L[..., None, None] + self.c[:, None] + self._s * _GH_X
        sp = np.logaddexp(0.0, -LOSS_SCALE * kappa[..., None, None] * a)
        return (sp @ _GH_W) @ self.w

    def score_for(self, acc: np.ndarray) -> np.ndarray:
        """The shared score L whose expected accuracy (no luck) is ``acc`` (bisection)."""
        acc = np.asarray(acc, dtype=float)
        lo, hi = np.full(acc.shape, -10.0), np.full(acc.shape, 10.0)
        for _ in range(34):
            mid = (lo + hi) / 2
            below = self.level(mid) < acc
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return (lo + hi) / 2


def _population(rng: np.random.Generator) -> Population:
    if rng.random() < 0.5:
        k = 10
        w = rng.dirichlet(np.full(k, 30.0))
    else:
        k = 2
        maj = rng.uniform(0.5, 0.7)
        w = np.array([maj, 1 - maj])
    return Population(w, rng.normal(0, 0.25, k), float(rng.uniform(0.6, 1.5)),
                      float(10 ** rng.uniform(np.log10(S_U[0]), np.log10(S_U[1]))))


# ------------------------------------------------------------------ scenarios


@dataclass
class Spec:
    """One scenario's process over n + q epochs (q past the logged end)."""
    pop: Population
    lr: np.ndarray                 # relative LR (peak 1)
    L: np.ndarray                  # shared score on the population, no luck
    L_tr: np.ndarray               # the training set's
    kappa: np.ndarray
    kappa_tr: np.ndarray
    onset: int | None = None       # index where the process turns to overfitting
    lr_peak: float = 1e-3
    nan_from: int | None = None    # losses logged as NaN from here (a breakdown)
    effect: float | None = None    # a borderline scenario's effect (accuracy or loss units)
    rho_e: float | None = None     # override of the flip persistence
    extra: dict = field(default_factory=dict)


def _sat(t, start, end, tau):
    return start + (end - start) * (1 - np.exp(-t / tau))


def _sat_to(t, start, peak, t_peak, rate=3.0):
    """From ``start`` to ``peak`` exactly at ``t_peak`` (still rising there), held after."""
    s = (1 - np.exp(-rate * np.minimum(t, t_peak) / t_peak)) / (1 - np.exp(-rate))
    return start + (peak - start) * s


def _levels(rng, pop, lo=0.6, hi=0.96):
    ch = pop.chance
    a0 = ch + rng.uniform(0.05, 0.3) * (1 - ch)
    a1 = rng.uniform(min(max(lo, a0 + 0.1), hi - 0.02), hi)
    return a0, a1


def _train_from(pop, A, t, n, rng, grow=True):
    """Training accuracy path above validation: a gap that opens with training (and keeps
    opening when ``grow``); returned as a score."""
    L = pop.score_for(A)
    gap = rng.uniform(0.1, 0.5) * (1 - np.exp(-t / rng.uniform(0.1, 0.3) / n))
    if grow:
        gap = gap + rng.uniform(0.3, 1.2) * t / n
    return L + gap


def _kappa(t, n, k):
    return 1.0 + k * t / n


def _healthy(rng, n, q, pop):
    t = np.arange(n + q, dtype=float)
    a0, a1 = _levels(rng, pop)
    A = _sat(t, a0, a1, rng.uniform(0.05, 0.15) * n)
    L = pop.score_for(A)
    grow = rng.random() < 0.5            # training keeps fitting while validation is flat
    L_tr = _train_from(pop, A, t, n, rng, grow)
    return Spec(pop, np.ones(n + q), L, L_tr, _kappa(t, n, rng.uniform(0, 0.1)),
                _kappa(t, n, rng.uniform(0.2, 1.0)), extra={"growing_gap": grow})


def _memorising(rng, pop, t, n, a0, A):
    """A training score that keeps climbing: accuracy toward 0.999, margins still growing."""
    acc = np.minimum(np.maximum(_sat(t, a0, 0.995, n / rng.uniform(2, 4)), A + 0.01), 0.999)
    return pop.score_for(acc) + rng.uniform(0.5, 1.5) * t / n


def _overfit_paths(rng, n, q, pop, decline, kappa_end):
    t = np.arange(n + q, dtype=float)
    t_on = int(rng.integers(int(0.25 * n), int(0.6 * n) + 1))
    a0, a1 = _levels(rng, pop)
    A = _sat_to(t, a0, a1, t_on, rate=rng.uniform(1, 3))
    A = A - decline * np.clip(t - t_on, 0, None) / (n - 1 - t_on)
    L = pop.score_for(np.clip(A, pop.chance, 0.995))
    L_tr = _memorising(rng, pop, t, n, a0, A)
    kappa = 1.0 + kappa_end * np.clip(t - t_on, 0, None) / (n - 1 - t_on)
    return t_on, L, L_tr, kappa, _kappa(t, n, rng.uniform(0.5, 1.5))


def _overfit(rng, n, q, pop):
    t_on, L, L_tr, kappa, kappa_tr = _overfit_paths(rng, n, q, pop, rng.uniform(0.02, 0.08),
                                                    rng.uniform(0.2, 1.0))
    return Spec(pop, np.ones(n + q), L, L_tr, kappa, kappa_tr, onset=t_on)


def _border_overfit(rng, n, q, pop):
    d = DELTA * rng.uniform(0.3, 2.5)
    t_on, L, L_tr, kappa, kappa_tr = _overfit_paths(rng, n, q, pop, d, rng.uniform(0.0, 0.1))
    return Spec(pop, np.ones(n + q), L, L_tr, kappa, kappa_tr, onset=t_on, effect=d)


def _kappa_for_rise(pop, L_peak, rise):
    """The confidence at the end that makes the expected validation loss ``rise`` above its
    minimum when the accuracy is held at the score ``L_peak``."""
    ks = np.linspace(1.0, 12.0, 111)
    loss = pop.loss(np.full_like(ks, L_peak), ks)
    ratio = loss / np.minimum.accumulate(loss) - 1
    hit = np.flatnonzero(ratio >= rise)
    return float(ks[hit[0]]) if len(hit) else float(ks[-1])


def _loss_paths(rng, n, q, pop, rise):
    t = np.arange(n + q, dtype=float)
    t_on = int(rng.integers(int(0.25 * n), int(0.6 * n) + 1))
    a0, a1 = _levels(rng, pop, 0.6, 0.93)
    A = _sat_to(t, a0, a1, t_on, rate=rng.uniform(1, 3))
    L = pop.score_for(A)
    k_end = _kappa_for_rise(pop, float(L[t_on]), rise)
    kappa = 1.0 + (k_end - 1.0) * np.clip(t - t_on, 0, None) / (n - 1 - t_on)
    L_tr = _memorising(rng, pop, t, n, a0, A)
    return t_on, L, L_tr, kappa, 1.0 + (k_end - 1.0) * 1.5 * t / n


def _overfit_loss(rng, n, q, pop):
    t_on, L, L_tr, kappa, kappa_tr = _loss_paths(rng, n, q, pop, rng.uniform(0.3, 2.0))
    return Spec(pop, np.ones(n + q), L, L_tr, kappa, kappa_tr, onset=t_on)


def _border_loss(rng, n, q, pop):
    rise = rng.uniform(0.08, 0.35)
    t_on, L, L_tr, kappa, kappa_tr = _loss_paths(rng, n, q, pop, rise)
    return Spec(pop, np.ones(n + q), L, L_tr, kappa, kappa_tr, onset=t_on, effect=rise)


def _knee(rng, n, q, pop):
    t = np.arange(n + q, dtype=float)
    t_k = rng.uniform(0.25, 0.6) * n
    ch = pop.chance
    a0 = ch + rng.uniform(0.05, 0.3) * (1 - ch)
    jump = rng.uniform(0.05, 0.2)
    a_k = rng.uniform(min(a0 + 0.05, 0.9 - jump), 0.95 - jump)
    A = _sat(t, a0, a_k, t_k / 3) + jump * expit((t - t_k) / rng.uniform(0.3, 1.0))
    L = pop.score_for(A)
    grow = rng.random() < 0.3
    return Spec(pop, np.ones(n + q), L, _train_from(pop, A, t, n, rng, grow),
                _kappa(t, n, rng.uniform(0, 0.1)), _kappa(t, n, rng.uniform(0.2, 1.0)),
                extra={"growing_gap": grow})


def _lr_driven(rng, n, q, pop, lr):
    """Level at an LR: the fully trained level minus beta * lr (score), progress with the
    cumulative LR: a step decay makes a jump, annealing flattens, a restart drops it."""
    S = np.cumsum(lr)
    a0, a_inf = _levels(rng, pop, 0.65, 0.97)
    beta = rng.uniform(0.1, 0.4)
    L_inf, L0 = pop.score_for(np.array([a_inf, a0]))
    tau = rng.uniform(0.1, 0.3) * n
    L = L0 + beta * lr[0] + (L_inf - L0) * (1 - np.exp(-S / tau)) - beta * lr
    t = np.arange(len(lr), dtype=float)
    L_tr = (L + rng.uniform(0.1, 0.5) * (1 - np.exp(-S / tau))
            + rng.uniform(0.3, 1.0) * beta * (1 - lr))
    return Spec(pop, lr, L, L_tr, 1.0 + rng.uniform(0, 0.15) * S / S[n - 1],
                _kappa(t, n, rng.uniform(0.2, 1.0)))


def _step_decay(rng, n, q, pop):
    t = np.arange(n + q, dtype=float)
    m1 = rng.uniform(0.3, 0.6) * n
    lr = np.where(t < m1, 1.0, 0.1)
    if rng.random() < 0.6:
        m2 = rng.uniform(m1 + 0.15 * n, 0.85 * n)
        lr = np.where(t < m2, lr, 0.01)
    return _lr_driven(rng, n, q, pop, lr)


def _cosine(rng, n, q, pop):
    t = np.arange(n + q, dtype=float)
    T = n if rng.random() < 0.5 else rng.uniform(1.5, 3.0) * n      # annealed, or cut short
    warm = int(rng.choice([0, 0, 3, 5]))
    lr = 0.5 * (1 + np.cos(np.pi * np.minimum(t, T) / T)) + 1e-3
    if warm:
        lr = np.where(t < warm, (t + 1) / (warm + 1), lr)
    return _lr_driven(rng, n, q, pop, lr / lr.max())


def _warm_restarts(rng, n, q, pop):
    T0 = int(rng.uniform(0.15, 0.5) * n)
    mult = int(rng.choice([1, 2]))
    lr, start, T = np.empty(n + q), 0, T0
    while start < n + q:
        seg = np.arange(start, min(start + T, n + q))
        lr[seg] = 0.5 * (1 + np.cos(np.pi * (seg - start) / T)) + 1e-3
        if start >= n:             # past the end: the cycle in progress ends, no new restart
            lr[start:] = lr[start - 1]
            break
        start, T = start + T, T * mult
    return _lr_driven(rng, n, q, pop, lr / lr.max())


def _still_improving(rng, n, q, pop):
    t = np.arange(n + q, dtype=float)
    a0, a1 = _levels(rng, pop, 0.75, 0.97)
    A = _sat(t, a0, a1, rng.uniform(0.8, 2.0) * n)
    return Spec(pop, np.ones(n + q), pop.score_for(A), _train_from(pop, A, t, n, rng, False),
                _kappa(t, n, rng.uniform(0, 0.1)), _kappa(t, n, rng.uniform(0.2, 1.0)))


def _border_improving(rng, n, q, pop):
    t = np.arange(n + q, dtype=float)
    a0, a1 = _levels(rng, pop, 0.6, 0.93)
    gain = DELTA * rng.uniform(0.3, 2.5)
    base = _sat(t, a0, a1, rng.uniform(0.08, 0.2) * n)
    slope = max(gain - (base[n - 1 + q] - base[n - 1]), 0.0) / q
    A = np.minimum(base + slope * t, 0.985)
    return Spec(pop, np.ones(n + q), pop.score_for(A), _train_from(pop, A, t, n, rng, False),
                _kappa(t, n, rng.uniform(0, 0.05)), _kappa(t, n, rng.uniform(0.2, 1.0)),
                effect=gain)


def _breakdown(rng, n, q, pop, t_b, strength, width):
    """Healthy until ``t_b``, then a fraction ``strength`` of what was learned is lost (both
    scores fall toward chance) and the confidence blows up: the training loss climbs."""
    t = np.arange(n + q, dtype=float)
    a0, a1 = _levels(rng, pop)
    A = _sat(t, a0, a1, rng.uniform(0.08, 0.2) * n)
    L = pop.score_for(A)
    L_tr = _train_from(pop, A, t, n, rng, False)
    L_ch = float(pop.score_for(np.array(pop.chance)))
    s = strength * (1 - np.exp(-np.clip(t - t_b, 0, None) / width))
    kappa = _kappa(t, n, 0.1) * np.exp(4.0 * s)
    return L - s * (L - L_ch), L_tr - s * (L_tr - L_ch), kappa


def _divergence(rng, n, q, pop):
    t_b = float(rng.integers(int(0.4 * n), int(0.7 * n) + 1))
    L, L_tr, kappa = _breakdown(rng, n, q, pop, t_b, 1.0, rng.uniform(1.0, 4.0))
    nan_from = int(t_b + rng.integers(3, 8)) if rng.random() < 0.25 else None
    if nan_from is not None and nan_from >= n - 1:
        nan_from = None
    return Spec(pop, np.ones(n + q), L, L_tr, kappa, kappa,
                lr_peak=float(rng.choice([0.5, 3e-2])), nan_from=nan_from)


def _border_divergence(rng, n, q, pop):
    """A partial breakdown late in the run; its strength is set so that the expected training
    loss climbs back a fraction ``climb`` (10-45 %) of the way to where it started."""
    t_b = float(rng.integers(int(0.55 * n), int(0.8 * n) + 1))
    climb, width = rng.uniform(0.10, 0.45), rng.uniform(1.0, 4.0)
    state = rng.bit_generator.state
    best = None
    for strength in np.linspace(0.05, 1.0, 20):
        rng.bit_generator.state = state              # the same run, a stronger breakdown
        L, L_tr, kappa = _breakdown(rng, n, q, pop, t_b, strength, width)
        tl = pop.loss(L_tr[:n], kappa[:n])
        m = int(np.argmin(tl))
        c = (tl[-1] - tl[m]) / max(tl[0] - tl[m], 1e-9)
        best = (L, L_tr, kappa, c)
        if c >= climb:
            break
    L, L_tr, kappa, c = best
    return Spec(pop, np.ones(n + q), L, L_tr, kappa, kappa, effect=float(c))


def _stuck_population(rng) -> Population:
    if rng.random() < 0.5:                       # guessing among 10 classes
        return Population(np.full(10, 0.1), np.zeros(10), 0.2, 1.0)
    maj = rng.uniform(0.55, 0.75)                # predicting the majority class
    return Population(np.array([maj, 1 - maj]), np.array([2.4, -2.4]), 0.3, 0.3)


def _no_learning(rng, n, q, pop):
    pop = _stuck_population(rng)
    t = np.arange(n + q, dtype=float)
    # the shared score stays put (a drift of at most 0.05); the level is the majority rate
    L = float(pop.score_for(np.array(pop.chance))) if pop.c.max() == 0 else 0.0
    L = L + rng.uniform(-0.05, 0.05) * t / n
    kappa = np.full(n + q, rng.uniform(0.3, 1.0))
    return Spec(pop, np.ones(n + q), L, L, kappa, kappa, lr_peak=float(rng.choice([2.0, 1e-8])),
                rho_e=float(rng.uniform(0.0, 0.5)))


def _border_no_learning(rng, n, q, pop):
    pop = _stuck_population(rng)
    t = np.arange(n + q, dtype=float)
    gain = rng.uniform(0.01, 0.07)
    A = pop.chance + gain * (1 - np.exp(-t / (rng.uniform(0.05, 0.6) * n)))
    L = pop.score_for(A)
    kappa = np.full(n + q, rng.uniform(0.3, 1.0))
    return Spec(pop, np.ones(n + q), L, L, kappa, kappa, lr_peak=float(rng.choice([1e-3, 1e-6])),
                effect=gain, rho_e=float(rng.uniform(0.0, 0.5)))


_GENERATORS = {
    "healthy": _healthy, "overfit": _overfit, "overfit_loss": _overfit_loss, "knee": _knee,
    "step_decay": _step_decay, "cosine": _cosine, "warm_restarts": _warm_restarts,
    "still_improving": _still_improving, "divergence": _divergence, "no_learning": _no_learning,
    "border_overfit": _border_overfit, "border_loss": _border_loss,
    "border_improving": _border_improving, "border_no_learning": _border_no_learning,
    "border_divergence": _border_divergence,
}


# ------------------------------------------------------------------ labels


@dataclass(frozen=True)
class Truth:
    label: str
    accepted: frozenset
    onset: int | None            # index of the true overfitting onset (label overfitting only)


def truth_of(P: np.ndarray, VL: np.ndarray, TL: np.ndarray, lr: np.ndarray, n: int,
             chance: float, onset: int | None) -> Truth:
    """Rules 1-5 of the module docstring over the process's smooth level ``P``, expected
    validation and training losses ``VL``, ``TL`` and relative LR ``lr`` (all n + q long: the
    process continued past the end)."""
    q = len(P) - n
    Pn, tl, vl = P[:n], TL[:n], VL[:n]
    m = int(np.argmin(tl))
    if (m < n - 1 and tl[-1] >= DIVERGE_FACTOR * tl[m]
            and tl[-1] - tl[m] >= DIVERGE_CLIMB * (tl[0] - tl[m]) and lr[n - 1] <= lr[m]):
        return Truth("divergence", frozenset({"divergence", "non_finite"}), None)
    peak = float(Pn.max())
    rising = (P[n - 1 + q] - P[n - 1]) >= DELTA
    if np.mean(Pn <= chance + CHANCE_MARGIN) >= CHANCE_SHARE:
        extra = {"still_improving"} if rising and Pn[-1] > chance + CHANCE_MARGIN else set()
        return Truth("no_learning", frozenset({"no_learning", "divergence", "non_finite"} | extra),
                     None)
    reach = onset if onset is not None else int(np.argmax(Pn >= peak - DELTA))
    li = int(np.argmin(vl))
    loss_rise = vl[-1] / vl[li] - 1
    if (n - 1 - reach >= max(4, int(0.15 * n)) and tl[-1] < FITTING * tl[reach]
            and (peak - Pn[-1] > DELTA or loss_rise > LOSS_RISE) and not rising):
        return Truth("overfitting", frozenset({"overfitting"}), reach)
    if Pn[-1] >= peak - DELTA and rising:
        return Truth("still_improving", frozenset({"still_improving", "underfitting"}), None)
    accepted = {"healthy", "plateau", "underfitting"}
    k = min(max(5, n // 4), n - 1)
    if lr[n - 1] < SCHEDULE_ENDED * lr[:n].max() and Pn[-1] - Pn[-1 - k] >= DELTA:
        accepted.add("still_improving")      # rose until the LR schedule ran out (rule 5)
    return Truth("plateau", frozenset(accepted), None)


# ------------------------------------------------------------------ one run


@dataclass(frozen=True)
class Simulated:
    kind: str
    history: History          # as logged: no validation size given
    n_val: int
    true_level: np.ndarray    # per logged epoch: the checkpoint's expected accuracy on new data
    smooth_level: np.ndarray  # P(t), no checkpoint luck, n + q epochs
    val_loss_true: np.ndarray     # VL(t): expected validation loss, n + q epochs
    train_loss_true: np.ndarray   # TL(t): expected training loss, n + q epochs
    lr: np.ndarray                # relative LR, n + q epochs
    truth: Truth
    noise: float              # epoch-to-epoch noise of the logged validation accuracy (sd)
    effect: float | None      # a borderline scenario's effect
    log_format: str
    extra: dict
    correct: np.ndarray | None = None   # (epochs, N) right/wrong of each validation example

    @property
    def label(self) -> str:
        return self.truth.label

    @property
    def onset_epoch(self) -> float | None:
        """Logged epoch number (from 1) of the true overfitting onset."""
        return None if self.truth.onset is None else float(self.truth.onset + 1)

    def level_at(self, epoch: float) -> float:
        return float(self.true_level[int(round(epoch)) - 1])


def _ar1(rng, n, k, rho, sd):
    """AR(1) with stationary sd ``sd`` (a scalar or per-step array), k parallel series."""
    x = np.empty((n, k))
    x[0] = rng.normal(0, 1, k)
    s = np.sqrt(1 - rho ** 2)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + s * rng.normal(0, 1, k)
    return x * np.reshape(sd, (-1, 1)) if np.ndim(sd) else x * sd


def simulate(kind: str, seed: int = 0, *, n: int | None = None, n_val: int | None = None,
             log_format: str | None = None, keep_correct: bool = False) -> Simulated:
    """One run of scenario ``kind``: 30-150 epochs and a validation set of 100-2,000
    examples (log-uniform; 300-2,000 for the borderline scenarios but border_no_learning)
    unless ``n`` / ``n_val`` say otherwise; ``log_format`` exact, round4 or round3."""
    if kind not in _GENERATORS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind=}")
    rng = np.random.default_rng(seed)
    n = int(n or rng.integers(30, 151))
    lo = 300 if kind in BORDER_KINDS and kind != "border_no_learning" else 100
    N = int(n_val or np.exp(rng.uniform(np.log(lo), np.log(2000))))
    log_format = log_format or str(rng.choice(["exact", "round4", "round3"]))
    q = max(5, n // 4)
    spec = _GENERATORS[kind](rng, n, q, _population(rng))
    pop, K = spec.pop, len(spec.pop.w)
    lr_rel = spec.lr[:n] / spec.lr[:n].max()
    # the checkpoint's luck: real, carried to new data, scaled by sqrt(lr)
    rho_g = rng.uniform(*RHO_G)
    shrink = np.sqrt(lr_rel)
    g = _ar1(rng, n, 1, rho_g, rng.uniform(*S_G) * shrink)[:, 0]
    gk = _ar1(rng, n, K, rho_g, rng.uniform(*S_K) * shrink)
    # the fixed validation set
    cls = rng.choice(K, size=N, p=pop.w)
    base = pop.c[cls] + rng.normal(0, pop.s_d, N)
    rho_e = spec.rho_e if spec.rho_e is not None else rng.uniform(*RHO_E)
    u = _ar1(rng, n, N, rho_e, 1.0)
    a = (spec.L[:n] + g)[:, None] + gk[:, cls] + base + pop.s_u * u
    val_acc = (a > 0).mean(axis=1)
    val_loss = np.logaddexp(0.0, -LOSS_SCALE * spec.kappa[:n, None] * a).mean(axis=1)
    # truth
    true_level = pop.level(spec.L[:n] + g, gk)
    P = pop.level(spec.L)
    VL, TL = pop.loss(spec.L, spec.kappa), pop.loss(spec.L_tr, spec.kappa_tr)
    truth = truth_of(P, VL, TL, spec.lr, n, pop.chance, spec.onset)
    # the training side: averages over many batches, a little noise
    m_train = np.exp(rng.uniform(np.log(2000), np.log(50000)))
    tr_p = pop.level(spec.L_tr[:n])
    train_acc = np.clip(tr_p + rng.normal(0, 1, n) * np.sqrt(tr_p * (1 - tr_p) / m_train), 0, 1)
    train_loss = TL[:n] * np.exp(rng.normal(0, rng.uniform(0.005, 0.03), n))
    if log_format == "round4":
        val_logged = np.round(val_acc, 4)
    elif log_format == "round3":
        val_logged = np.round(val_acc, 3)
    else:
        val_logged = val_acc
    epochs = np.arange(1, n + 1, dtype=float)
    table = pd.DataFrame({"epoch": epochs, "lr": spec.lr_peak * spec.lr[:n],
                          "train_loss": np.round(train_loss, 4),
                          "train_acc": np.round(train_acc, 4),
                          "val_loss": np.round(val_loss, 4), "val_acc": val_logged})
    non_finite = None
    if spec.nan_from is not None:
        table.loc[spec.nan_from:, ["train_loss", "val_loss"]] = np.nan
        non_finite = {"train_loss": float(epochs[spec.nan_from]),
                      "val_loss": float(epochs[spec.nan_from])}
    h = make_history(table, source=f"simulated:{kind}:{seed}", format="simulated",
                     name=f"{kind}-{seed}", non_finite=non_finite)
    resid = val_acc - P[:n]
    noise = float(np.std(np.diff(resid)) / np.sqrt(2))
    flips = float(np.mean((a[n // 2 + 1:] > 0) != (a[n // 2:-1] > 0)))
    extra = dict(spec.extra, n_epochs=n, rho_e=float(rho_e), flips=flips)
    return Simulated(kind, h, N, true_level, P, VL, TL, spec.lr, truth, noise, spec.effect,
                     log_format, extra, (a > 0) if keep_correct else None)

"""Simulated training histories with known truth: overfitting onset, noise, plateau, divergence,
still improving, underfitting. Used by the test-suite and ``bench/diagnosis_accuracy.py``.

Accuracy curves are proportions; the validation curve gets Gaussian noise of standard deviation
``noise`` around its true value, the training curve a third of that."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..history.core import History, make_history

KINDS = ("overfit", "overfit_flat", "stable_gap", "still_improving", "plateau", "divergence",
         "underfit")
# the verdicts that count as a correct label for each kind
ACCEPTED = {
    "overfit": {"overfitting"},
    "overfit_flat": {"overfitting"},
    "stable_gap": {"plateau", "healthy"},
    "still_improving": {"still_improving"},
    "plateau": {"plateau", "healthy"},
    "divergence": {"divergence"},
    "underfit": {"underfitting"},
}
OVERFITTING_KINDS = ("overfit", "overfit_flat")


@dataclass(frozen=True)
class Simulated:
    kind: str
    history: History
    true_val: np.ndarray
    onset: float | None          # true overfitting onset (epoch), None when there is none
    noise: float

    @property
    def true_best(self) -> float:
        return float(self.true_val.max())


def _rise(t: np.ndarray, start: float, end: float, tau: float) -> np.ndarray:
    return start + (end - start) * (1 - np.exp(-t / tau))


def _saturating_to(t: np.ndarray, start: float, peak: float, t_peak: float) -> np.ndarray:
    """Rises from start and reaches ``peak`` exactly at ``t_peak``, still rising there."""
    shape = (1 - np.exp(-3 * t / t_peak)) / (1 - np.exp(-3))
    return start + (peak - start) * shape


def simulate(kind: str, *, n: int = 60, noise: float = 0.01, seed: int = 0) -> Simulated:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind=}")
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    start = rng.uniform(0.2, 0.35)
    peak = rng.uniform(0.6, 0.9)
    onset = None
    if kind in ("overfit", "overfit_flat"):
        t_on = float(rng.integers(int(0.25 * n), int(0.6 * n)))
        val = _saturating_to(np.minimum(t, t_on), start, peak, t_on)
        if kind == "overfit":
            val = val - rng.uniform(0.0015, 0.004) * np.clip(t - t_on, 0, None)
        train = _rise(t, start, 1.0, n / 2.5)
        train = np.maximum(train, val + 0.01)
        onset = t_on
    elif kind == "stable_gap":
        t_on = rng.uniform(0.15, 0.35) * n
        val = _rise(t, start, peak, t_on / 3)
        train = _rise(t, start, min(peak + rng.uniform(0.1, 0.25), 0.99), t_on / 3)
    elif kind == "still_improving":
        val = _rise(t, start, peak, rng.uniform(1.0, 2.0) * n)
        train = np.maximum(_rise(t, start, 1.0, n / 3), val + 0.01)   # fits, but val still rises
    elif kind == "plateau":
        tau = rng.uniform(0.05, 0.12) * n
        val = _rise(t, start, peak, tau)
        train = _rise(t, start, min(peak + 0.03, 0.99), tau)
    elif kind == "underfit":
        tau = rng.uniform(1.0, 2.0) * n
        val = _rise(t, start, 0.75, tau)
        train = _rise(t, start, 0.78, tau)
    else:  # divergence
        t_div = float(rng.integers(int(0.4 * n), int(0.7 * n)))
        base = _rise(t, start, peak, 0.15 * n)
        drop = np.clip(t - t_div, 0, None)
        val = base - (base - 0.1) * (1 - np.exp(-drop / 4))
        train = np.minimum(_rise(t, start, min(peak + 0.05, 0.99), 0.15 * n), 0.99) - \
            (np.minimum(_rise(t, start, peak + 0.05, 0.15 * n), 0.99) - 0.1) * (1 - np.exp(-drop / 4))
    val_obs = np.clip(val + rng.normal(0, noise, n), 0, 1)
    train_obs = np.clip(train + rng.normal(0, noise / 3, n), 0, 1)
    train_loss = -np.log(np.clip(train, 0.05, 0.995)) * rng.uniform(0.9, 1.1)
    if kind == "divergence":
        train_loss = train_loss * np.exp(np.clip(t - t_div, 0, None) / 3)
    train_loss = train_loss * np.exp(rng.normal(0, noise, n))
    table = pd.DataFrame({"epoch": t, "train_loss": train_loss, "train_acc": train_obs,
                          "val_acc": val_obs})
    h = make_history(table, source=f"simulated:{kind}:{seed}", format="simulated",
                     name=f"{kind}-{seed}")
    return Simulated(kind, h, val, onset, noise)

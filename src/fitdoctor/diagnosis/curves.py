"""A metric series prepared once for every detector: oriented (higher is better), gaps filled,
smoothed, with its noise. Also the run's context: monitored curve, its training counterpart,
the train-val gap, the losses and the LR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..history.core import History
from ..history.names import infer_mode, is_proportion, metric_of
from .stats import MIN_POINTS, fill_gaps, noise_sigma, smooth, smoothing_gain, window_for
from .types import DiagnoseOptions


@dataclass(frozen=True)
class Curve:
    name: str
    mode: str
    raw: np.ndarray          # as logged, NaN where missing
    g: np.ndarray            # oriented (higher is better), gaps filled
    trend: np.ndarray        # smoothed g
    sigma: float             # epoch-to-epoch noise of g (NaN when too short)
    sigma_trend: float       # noise of one smoothed point
    window: int

    @property
    def n(self) -> int:
        return len(self.g)

    @property
    def known(self) -> bool:
        return np.isfinite(self.sigma) and self.n >= MIN_POINTS

    def tol(self, z: float) -> float:
        """The smallest difference between two smoothed points that is beyond noise."""
        return z * np.sqrt(2.0) * self.sigma_trend if self.known else 0.0

    def value(self, g_value: float) -> float:
        """Back from oriented to logged units."""
        return g_value if self.mode == "max" else -g_value


def make_curve(name: str, values: np.ndarray, mode: str | None = None) -> Curve | None:
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    if finite.sum() < 1:
        return None
    mode = mode or infer_mode(name)
    g = fill_gaps(np.where(finite, values, np.nan))
    g = g if mode == "max" else -g
    w = window_for(len(g))
    sigma = noise_sigma(g)
    trend = smooth(g, w) if np.isfinite(sigma) else g.copy()
    sigma_trend = sigma * np.sqrt(smoothing_gain(w)) if np.isfinite(sigma) else float("nan")
    return Curve(name, mode, values, g, trend, sigma, sigma_trend, w)


@dataclass(frozen=True)
class Context:
    history: History
    options: DiagnoseOptions
    epochs: np.ndarray
    val: Curve
    train: Curve | None         # same metric on the training set (for the gap)
    gap: Curve | None           # train - val, oriented so that positive = train better
    train_loss: Curve | None
    val_loss: Curve | None
    lr: np.ndarray | None

    @property
    def n(self) -> int:
        return self.val.n

    def sampling_se(self, level: float) -> float | None:
        """sqrt(p(1-p)/N) for a proportion metric when the validation size is known."""
        h = self.history
        if h.val_size and is_proportion(self.val.name) and 0.0 <= level <= 1.0:
            return float(np.sqrt(max(level * (1 - level), 1e-12) / h.val_size))
        return None


def _counterpart(h: History, monitor: str) -> str | None:
    split, _, rest = monitor.partition("_")
    if split in ("val", "test"):
        for cand in ("train_" + rest, "train_" + metric_of(monitor)):
            if h.has(cand):
                return cand
    return None


def build_context(h: History, options: DiagnoseOptions) -> Context | None:
    if h.monitor is None:
        return None
    val = make_curve(h.monitor, h.values(h.monitor), h.mode)
    if val is None:
        return None
    train_name = _counterpart(h, h.monitor)
    train = make_curve(train_name, h.values(train_name), h.mode) if train_name else None
    gap = None
    if train is not None:
        gap = make_curve("gap", train.g - val.g, "max")
    loss_name = "val_loss" if h.has("val_loss") else None
    lr = h.values("lr") if h.has("lr") else None
    return Context(
        history=h, options=options, epochs=h.epochs, val=val, train=train, gap=gap,
        train_loss=make_curve("train_loss", h.values("train_loss"), "min") if h.has("train_loss") else None,
        val_loss=make_curve(loss_name, h.values(loss_name), "min") if loss_name else None,
        lr=lr,
    )

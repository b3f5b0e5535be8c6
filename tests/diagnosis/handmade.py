"""Hand-built curves and contexts for the detectors' threshold tests: a ``Curve`` is plain data,
so its trend and noise are given directly and every threshold is a number worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from fitdoctor.diagnosis.curves import Context, Curve
from fitdoctor.diagnosis.types import Best, DiagnoseOptions

Z = DiagnoseOptions().z
ST = 0.005                           # sigma of one smoothed point in most curves below
TOL = Z * np.sqrt(2) * ST            # 0.013859: the smallest difference beyond noise


def curve(name, g, *, mode="max", trend=None, sigma=0.01, sigma_trend=ST, raw=None):
    g = np.asarray(g, dtype=float)
    trend = g.copy() if trend is None else np.asarray(trend, dtype=float)
    raw = (g if mode == "max" else -g) if raw is None else np.asarray(raw, dtype=float)
    return Curve(name, mode, raw, g, trend, sigma, sigma_trend, 5)


def context(val, *, train=None, gap=None, train_loss=None, val_loss=None, lr=None, epochs=None,
            non_finite=None, val_size=None, config=None):
    n = val.n
    history = SimpleNamespace(non_finite=non_finite or {}, val_size=val_size, config=config or {})
    e = np.arange(n, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    return Context(history, DiagnoseOptions(), e, val, train, gap, train_loss, val_loss,
                   None if lr is None else np.asarray(lr, dtype=float))


def best_at(epoch, value=0.8, tied=(), sampling_se=None):
    return Best(float(epoch), value, int(epoch), None, None, tuple(float(t) for t in tied), 0.01,
                sampling_se)


def sigma_for_t(slope, k, t):
    """The noise that gives a k-point exact line of this slope the t statistic t."""
    return slope * np.sqrt(k * (k * k - 1) / 12) / t

"""Paired comparison of two runs on the same validation set (the start of `compare`)."""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest


def paired_accuracy(correct_a: np.ndarray, correct_b: np.ndarray, z: float = 1.959963984540054) -> dict:
    """B minus A in accuracy on the same examples: the difference, its 95 % interval (paired
    proportions), and the exact McNemar p-value from the discordant pairs."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"paired predictions need the same examples, got {a.shape} and {b.shape}")
    n = a.size
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(~a & b))
    delta = (only_b - only_a) / n
    se = np.sqrt(max(only_a + only_b - (only_b - only_a) ** 2 / n, 0.0)) / n
    discordant = only_a + only_b
    p = binomtest(min(only_a, only_b), discordant, 0.5).pvalue if discordant else 1.0
    return {"n": n, "acc_a": float(a.mean()), "acc_b": float(b.mean()), "delta": float(delta),
            "ci95": [float(delta - z * se), float(delta + z * se)], "p_value": float(p),
            "only_a": only_a, "only_b": only_b, "significant": bool(p < 0.05)}

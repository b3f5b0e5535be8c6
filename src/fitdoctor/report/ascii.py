"""A small ASCII line plot for the terminal (the LR schedule preview)."""

from __future__ import annotations

from typing import Sequence


def ascii_plot(values: Sequence[float], width: int = 64, height: int = 12, xlabel: str = "epoch") -> str:
    n = len(values)
    if n == 0:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo or (abs(hi) or 1.0)
    cols = min(width, n)
    grid = [[" "] * cols for _ in range(height)]
    for c in range(cols):
        i = round(c * (n - 1) / max(cols - 1, 1))
        r = height - 1 - round((values[i] - lo) / span * (height - 1))
        grid[r][c] = "*"
    labels = [f"{hi:.3g}"] + [""] * (height - 2) + [f"{lo:.3g}"]
    pad = max(len(s) for s in labels)
    lines = [f"{lab:>{pad}} |{''.join(row)}" for lab, row in zip(labels, grid)]
    lines.append(" " * pad + " +" + "-" * cols)
    lines.append(" " * pad + f"  0{xlabel:^{max(cols - 2 - len(str(n - 1)), 1)}}{n - 1}")
    return "\n".join(lines)

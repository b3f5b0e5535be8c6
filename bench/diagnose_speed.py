"""Speed of the diagnosis: 1,000 histories of 200 epochs (with a logged cosine LR, so the
schedule audit runs too), diagnosed one after another. Target: under 5 s in total on the
2-core development machine.

    .venv/bin/python bench/diagnose_speed.py [--histories 1000] [--epochs 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fitdoctor.diagnosis import diagnose
from fitdoctor.history.core import make_history
from fitdoctor.testing.simulate import KINDS, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=200)
    args = ap.parse_args()
    histories = []
    lr = 1e-3 * (1 + np.cos(np.pi * np.arange(args.epochs) / args.epochs)) / 2 + 1e-6
    for i in range(args.histories):
        h = simulate(KINDS[i % len(KINDS)], n=args.epochs, noise=0.01, seed=i).history
        table = h.table.assign(lr=lr)
        histories.append(make_history(table, source=h.source, format="simulated"))
    diagnose(histories[0])                              # imports and caches warm
    t0 = time.perf_counter()
    for h in histories:
        diagnose(h)
    total = time.perf_counter() - t0
    print(f"{args.histories} histories x {args.epochs} epochs (train/val acc, train loss, LR): "
          f"{total:.2f} s in total, {1000 * total / args.histories:.2f} ms per history "
          f"(target: under 5 s in total)")


if __name__ == "__main__":
    main()

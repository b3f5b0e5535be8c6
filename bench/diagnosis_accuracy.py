"""How right is the diagnosis? Runs fitdoctor over simulated curves with known truth and prints
label accuracy, overfitting-onset error, false overfitting alarms and the coverage of the 95 %
interval of the best value.

    .venv/bin/python bench/diagnosis_accuracy.py [--curves 700] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import time

import numpy as np

from fitdoctor.diagnosis import diagnose
from fitdoctor.testing.simulate import ACCEPTED, KINDS, OVERFITTING_KINDS, simulate


def evaluate(curves: int, seed: int) -> tuple[list[dict], float]:
    """Diagnose ``curves`` simulated histories; one row of scores each, and the seconds taken."""
    rng = np.random.default_rng(seed)
    rows = []
    t0 = time.perf_counter()
    for i in range(curves):
        kind = KINDS[i % len(KINDS)]
        n = int(rng.integers(30, 150))
        noise = float(rng.uniform(0.003, 0.02))
        sim = simulate(kind, n=n, noise=noise, seed=int(rng.integers(1 << 31)))
        d = diagnose(sim.history)
        lo, hi = d.best.ci95
        onset = d.overfitting["onset_epoch"]
        rows.append({"kind": kind, "ok": d.verdict in ACCEPTED[kind],
                     "alarm": bool(d.overfitting["detected"]), "overfit": kind in OVERFITTING_KINDS,
                     "covered": lo <= sim.true_best <= hi, "width": hi - lo,
                     "onset_err": None if (onset is None or sim.onset is None) else onset - sim.onset})
    return rows, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--curves", type=int, default=700, help="number of simulated curves (>= 500)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows, elapsed = evaluate(args.curves, args.seed)
    print(f"{args.curves} simulated curves ({', '.join(KINDS)}), 30-150 epochs, "
          f"noise sd 0.003-0.02, seed {args.seed}; {elapsed:.1f} s\n")
    print(f"{'kind':<17}{'n':>5}{'label acc':>11}{'overfit flagged':>17}{'CI coverage':>13}")
    by = collections.defaultdict(list)
    for r in rows:
        by[r["kind"]].append(r)
    for kind in KINDS:
        rs = by[kind]
        print(f"{kind:<17}{len(rs):>5}{np.mean([r['ok'] for r in rs]):>11.1%}"
              f"{np.mean([r['alarm'] for r in rs]):>17.1%}{np.mean([r['covered'] for r in rs]):>13.1%}")
    errs = np.abs([r["onset_err"] for r in rows if r["onset_err"] is not None])
    clean = [r for r in rows if r["kind"] not in OVERFITTING_KINDS]
    print()
    print(f"label accuracy (all):                     {np.mean([r['ok'] for r in rows]):.1%}")
    print(f"overfitting detected on overfitting runs: "
          f"{np.mean([r['alarm'] for r in rows if r['kind'] in OVERFITTING_KINDS]):.1%}")
    print(f"onset error, epochs: median {np.median(errs):.1f}, 90th percentile "
          f"{np.percentile(errs, 90):.1f} (n={len(errs)})")
    print(f"false overfitting alarms (no overfitting): {np.mean([r['alarm'] for r in clean]):.1%} "
          f"(target <= 5%)")
    print(f"95% CI coverage of the true best value:   {np.mean([r['covered'] for r in rows]):.1%} "
          f"(target >= 90%)")


if __name__ == "__main__":
    main()

"""Does bench/simulate.py make noise like real runs? Compares the simulated validation curves
with the truth corpus's per-example correctness (bench/truth/corpus/*/examples.npz; runs that
learned something, at least 10 epochs) on five statistics, quartiles printed side by side:

* sigma / sampling sd: fitdoctor's epoch-to-epoch noise of the validation accuracy over
  sqrt(p (1 - p) / N), the sampling error the fixed validation set shares across epochs;
* flips: the share of validation examples whose right/wrong changes from one epoch to the next
  (second half of the run);
* shared: how much of the validation accuracy's epoch-to-epoch movement (second differences)
  the checkpoint carries to new data: cov(val, truth) / var(val), the truth being the test
  accuracy in the corpus and the expected accuracy on new data in the simulation;
* ac1, low-freq: lag-1 autocorrelation of (validation - truth) over the last two thirds, and the
  variance of its 5-epoch means relative to white noise (1 = white; the corpus's test split
  adds white noise of its own, which pulls both toward white).

    .venv/bin/python bench/simulate_noise.py [--runs 240]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "truth"))

from protocol import load_corpus, truth_of  # noqa: E402
from simulate import KINDS, simulate  # noqa: E402

from fitdoctor.diagnosis.stats import noise_sigma  # noqa: E402

COLUMNS = ("sigma / sampling sd", "flips", "shared", "ac1", "low-freq")


def _stats(val: np.ndarray, truth: np.ndarray, correct: np.ndarray, n_val: int) -> tuple:
    n = len(val)
    p = float(np.median(val[n // 2:]))
    sampling = np.sqrt(max(p * (1 - p), 1e-6) / n_val)
    flips = float(np.mean(correct[n // 2 + 1:] != correct[n // 2:-1]))
    dv = val[:-2] - 2 * val[1:-1] + val[2:]
    dt = truth[:-2] - 2 * truth[1:-1] + truth[2:]
    shared = float(np.mean((dv - dv.mean()) * (dt - dt.mean())) / max(np.var(dv), 1e-12))
    r = (val - truth)[n // 3:]
    r = r - r.mean()
    ac1 = float(np.sum(r[1:] * r[:-1]) / max(np.sum(r * r), 1e-12))
    k = 5
    m = len(r) // k
    low = float(np.var(r[:m * k].reshape(m, k).mean(1)) / max(np.var(r), 1e-12) * k)
    return noise_sigma(val) / sampling, flips, shared, ac1, low


def real_rows(root: str) -> list[tuple]:
    rows = []
    for run in load_corpus(root):
        if truth_of(run).no_learning:
            continue
        z = np.load(os.path.join(run.folder, "examples.npz"))
        vc = np.unpackbits(z["val_correct"], axis=1)[:, :int(z["n_val"])].astype(bool)
        tc = np.unpackbits(z["test_correct"], axis=1)[:, :int(z["n_test"])]
        if len(vc) < 10:
            continue
        rows.append(_stats(vc.mean(1), tc.mean(1), vc, run.n_val))
    return rows


def simulated_rows(runs: int) -> list[tuple]:
    kinds = [k for k in KINDS if "no_learning" not in k and "divergence" not in k]
    rows = []
    for i in range(runs):
        sim = simulate(kinds[i % len(kinds)], seed=i, keep_correct=True)
        rows.append(_stats(sim.history.values("val_acc"), sim.true_level, sim.correct,
                           sim.n_val))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.path.join(HERE, "truth", "corpus"))
    ap.add_argument("--runs", type=int, default=240, help="simulated runs")
    args = ap.parse_args()
    real = pd.DataFrame(real_rows(args.corpus), columns=COLUMNS)
    sim = pd.DataFrame(simulated_rows(args.runs), columns=COLUMNS)
    print(f"quartiles (25 % / median / 75 %): {len(real)} real runs of the truth corpus, "
          f"{len(sim)} simulated runs\n")
    print(f"{'':<22}{'real':>24}{'simulated':>24}")
    for c in COLUMNS:
        q = [" / ".join(f"{x:.3f}" for x in np.nanpercentile(df[c], [25, 50, 75]))
             for df in (real, sim)]
        print(f"{c:<22}{q[0]:>24}{q[1]:>24}")


if __name__ == "__main__":
    main()

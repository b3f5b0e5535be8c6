"""How right is the diagnosis on real runs? fitdoctor diagnoses every run of the truth corpus
(bench/truth/corpus: real training runs with a large held-out test split) from its history.csv
alone, and the answers are scored against the true labels of bench/truth/PROTOCOL.md: coverage of
the 95 % interval of the true level at the chosen epoch (with its mean width), verdict accuracy,
overfitting onset within +-2 epochs, false overfitting alarms, and whether "tied" epochs are tied
in truth. Calibration half (seeds 0, 1), report half (seeds 2, 3), fresh seeds (4, 5) and new
seeds (6, 7; bench/truth/PROTOCOL.md says when each was made) are printed apart; the goals apply
to the report half. The same figures on simulated curves follow.

    .venv/bin/python bench/diagnosis_real.py [--val-size inferred|given] [--half report|calibrate|fresh|new|all] [--misses]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "truth"))

from protocol import load_corpus, truth_of  # noqa: E402

from fitdoctor.diagnosis import diagnose  # noqa: E402
from fitdoctor.history.readers import read_history  # noqa: E402


def _on_validation(run):
    """The run with its validation curves in place of the test curves: the protocol applied to
    what the diagnosis can see (is the overfitting visible in validation at all?)."""
    vt = run.truth.copy()
    vt["test_acc"] = run.history["val_acc"].to_numpy(float)
    vt["test_loss"] = run.history["val_loss"].to_numpy(float)
    return dataclasses.replace(run, truth=vt, n_test=run.n_val)


def score(run, val_size_mode: str) -> dict:
    h = read_history(os.path.join(run.folder, "history.csv"))
    if val_size_mode == "given":
        h = h.with_options(val_size=run.n_val)
    d = diagnose(h)
    t = truth_of(run)
    tv = truth_of(_on_validation(run))
    test = dict(zip(run.truth["epoch"].astype(float), run.truth["test_acc"].astype(float)))
    true_level = test[float(d.best.epoch)]
    lo, hi = d.best.ci95 if d.best.ci95 else (np.nan, np.nan)
    onset = d.overfitting.onset_epoch
    tied = [test[float(e)] for e in d.best.tied_epochs if float(e) in test]
    return {
        "run": run.name, "task": run.task, "scenario": run.scenario, "half": run.half,
        "covered": bool(lo <= true_level <= hi), "width": hi - lo, "level": d.best.expected,
        "true_level": true_level, "best": d.best.value,
        "verdict": d.verdict, "ok": d.verdict in t.accepted, "accepted": sorted(t.accepted),
        "ok_before": d.verdict in t.accepted_before_amendment_2, "both": t.both,
        "true_overfit": t.overfitting, "alarm": bool(d.overfitting.detected),
        "visible": t.overfitting and tv.overfitting,
        # the protocol itself on what the diagnosis sees: its onset against the test's
        "val_onset_ok": (t.overfitting and tv.overfitting
                         and abs(float(run.truth["epoch"].iloc[tv.onset])
                                 - float(run.truth["epoch"].iloc[t.onset])) <= 2),
        "onset_ok": (t.overfitting and onset is not None
                     and abs(onset - float(run.truth["epoch"].iloc[t.onset])) <= 2),
        "tied_true": [abs(x - true_level) <= t.tol for x in tied],
        "val_size": d.val_size,
    }


def summarise(rows: list[dict], label: str) -> None:
    if not rows:
        return
    of = [r for r in rows if r["true_overfit"]]
    clean = [r for r in rows if not r["true_overfit"] and not r.get("both")]
    ties = [x for r in rows for x in r["tied_true"]]
    print(f"{label:<26}{len(rows):>5}{np.mean([r['covered'] for r in rows]):>10.1%}"
          f"{np.nanmean([r['width'] for r in rows]) / 2:>10.3f}{np.mean([r['ok'] for r in rows]):>10.1%}"
          + (f"{np.mean([r['onset_ok'] for r in of]):>10.1%}" if of else f"{'-':>10}")
          + (f"{np.mean([r['alarm'] for r in clean]):>10.1%}" if clean else f"{'-':>10}")
          + (f"{np.mean(ties):>10.1%}" if ties else f"{'-':>10}"))


HEADER = (f"{'':<26}{'runs':>5}{'coverage':>10}{'+-width':>10}{'verdict':>10}{'onset+-2':>10}"
          f"{'false OF':>10}{'ties ok':>10}")


def simulated(curves: int) -> None:
    sys.path.insert(0, HERE)
    from diagnosis_accuracy import evaluate

    rows, elapsed = evaluate(curves, 0)
    print(f"\nSimulated curves ({curves}, bench/diagnosis_accuracy.py; {elapsed:.1f} s):")
    print(HEADER)
    sim = [{"covered": r["covered"], "width": r["width"], "ok": r["ok"], "true_overfit": r["overfit"],
            "onset_ok": r["onset_err"] is not None and abs(r["onset_err"]) <= 2, "alarm": r["alarm"],
            "tied_true": []} for r in rows]
    summarise(sim, "all simulated")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.path.join(HERE, "truth", "corpus"))
    ap.add_argument("--val-size", choices=("inferred", "given"), default="inferred",
                    help="inferred: the CSV alone, as a user's log gives it (fitdoctor infers N "
                         "from the accuracy's granularity where it can); given: --val-size N")
    ap.add_argument("--half", choices=("report", "calibrate", "fresh", "new", "all"), default="all")
    ap.add_argument("--simulated", type=int, default=700, help="simulated curves (0: none)")
    ap.add_argument("--misses", action="store_true", help="list every run scored wrong")
    args = ap.parse_args()
    runs = load_corpus(args.corpus)
    t0 = time.perf_counter()
    rows = [score(r, args.val_size) for r in runs]
    print(f"{len(rows)} real runs from {os.path.relpath(args.corpus)} "
          f"({', '.join(sorted({r['task'] for r in rows}))}), validation size {args.val_size}; "
          f"{time.perf_counter() - t0:.1f} s\n")
    halves = ("calibrate", "report", "fresh", "new") if args.half == "all" else (args.half,)
    for half in halves:
        part = [r for r in rows if r["half"] == half]
        if not part:
            continue
        seeds = ", ".join(str(s) for s in sorted({int(r["run"].rsplit("/s", 1)[1]) for r in part}))
        print(f"== {half} {'seeds' if half in ('fresh', 'new') else 'half'} (seeds {seeds}) ==")
        print(HEADER)
        by = collections.defaultdict(list)
        for r in part:
            by[r["scenario"]].append(r)
        for scen in sorted(by):
            summarise(by[scen], scen)
        for task in sorted({r["task"] for r in part}):
            summarise([r for r in part if r["task"] == task], f"task {task}")
        summarise(part, "ALL")
        of = [r for r in part if r["true_overfit"]]
        seen = [r for r in of if r["visible"]]
        before = [r for r in part if not r["true_overfit"]]
        print(f"  labels before amendment 2 (PROTOCOL.md): verdict {np.mean([r['ok_before'] for r in part]):.1%}, "
              f"false OF {np.mean([r['alarm'] for r in before]):.1%}")
        if of:
            print(f"  overfitting visible in validation (the protocol on the validation curves): "
                  f"{len(seen)} of {len(of)}; onset +-2 among them "
                  f"{np.mean([r['onset_ok'] for r in seen]) if seen else float('nan'):.1%}; the protocol's own "
                  f"onset on the validation curves is within +-2 of the test's in "
                  f"{np.mean([r['val_onset_ok'] for r in of]):.1%} of the {len(of)}")
        print()
    print("goals (report half): coverage >= 90 %, verdict >= 95 %, onset +-2 >= 90 %, false OF <= 5 %")
    if args.misses:
        for r in rows:
            if not (r["covered"] and r["ok"]) or (r["alarm"] and not r["true_overfit"]):
                print(f"  {r['half'][:3]} {r['run']:<34} verdict {r['verdict']:<16} want {','.join(r['accepted']):<40}"
                      f" level {r['level'] if r['level'] is None else round(r['level'], 3)} "
                      f"truth {r['true_level']:.3f} best {r['best']:.3f} width {r['width']:.3f} n={r['val_size']}")
    if args.simulated:
        simulated(args.simulated)


if __name__ == "__main__":
    main()

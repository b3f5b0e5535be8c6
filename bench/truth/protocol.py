"""The true labels of a corpus run, from its **test** curves alone (PROTOCOL.md says why each
rule is what it is). Written before any calibration; the diagnosis never sees truth.csv.

The one input besides the test curves is the training loss from the history, for "the model kept
fitting its training set" (a fact of the run, not an estimate)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import linregress

# accuracy of a constant prediction of the majority class on the test split (stratified splits:
# the classes' shares of the whole dataset)
MAJORITY = {"digits": 0.102, "mnist": 0.1, "animal": 0.1, "sentiment": 0.578}
NO_LEARNING_MARGIN = 0.03        # within 3 points of the majority rate = learned nothing
CALIBRATE_SEEDS = (0, 1)         # the calibration half; seeds 2 and 3 are the report half
REPORT_SEEDS = (2, 3)
FRESH_SEEDS = (4, 5)             # made 2026-11-29 after the rules were fixed: "fresh"
# later seeds (6, 7: made in the second session of 2026-11-29, after the onset rule changed, and
# scored once with that code) are "new": a held-out test of everything, nothing tuned on them


@dataclass(frozen=True)
class Run:
    folder: str
    task: str
    scenario: str
    seed: int
    n_val: int
    n_test: int
    history: pd.DataFrame
    truth: pd.DataFrame

    @property
    def half(self) -> str:
        return ("calibrate" if self.seed in CALIBRATE_SEEDS else "report" if self.seed in REPORT_SEEDS
                else "fresh" if self.seed in FRESH_SEEDS else "new")

    @property
    def name(self) -> str:
        return f"{self.task}/{self.scenario}/s{self.seed}"

    def test_acc(self) -> np.ndarray:
        return self.truth["test_acc"].to_numpy(float)


def load_corpus(root: str) -> list[Run]:
    runs = []
    for dirpath, _, files in sorted(os.walk(root)):
        if "meta.json" not in files:
            continue
        with open(os.path.join(dirpath, "meta.json"), encoding="utf-8") as fh:
            meta = json.load(fh)
        runs.append(Run(dirpath, meta["task"], meta["scenario"], meta["seed"], meta["n_val"],
                        meta["n_test"], pd.read_csv(os.path.join(dirpath, "history.csv")),
                        pd.read_csv(os.path.join(dirpath, "truth.csv"))))
    return runs


def test_tolerance(p: float, n_test: int) -> float:
    """The smallest change of test accuracy taken as real: twice the standard error of a
    difference of two test accuracies (sqrt(2 p (1 - p) / n)), at least half a point."""
    return max(0.005, 2 * np.sqrt(2 * max(p * (1 - p), 1e-4) / n_test))


def _ma(y: np.ndarray, k: int = 3) -> np.ndarray:
    """Centred moving average (shorter at the edges)."""
    return pd.Series(y).rolling(k, center=True, min_periods=1).mean().to_numpy()


def _slope(y: np.ndarray) -> tuple[float, float]:
    """OLS slope per epoch and its t statistic (noise from the residuals: the truth's own,
    independent of fitdoctor's noise estimate)."""
    if len(y) < 4:
        return 0.0, 0.0
    fit = linregress(np.arange(len(y), dtype=float), y)
    if fit.stderr == 0:
        return float(fit.slope), (np.inf * np.sign(fit.slope) if fit.slope else 0.0)
    return float(fit.slope), float(fit.slope / fit.stderr)


@dataclass(frozen=True)
class Truth:
    no_learning: bool
    overfitting: bool
    onset: int | None              # epoch index of the true overfitting onset
    still_improving: bool
    plateau: bool
    tol: float

    rising_at_end: bool = False    # (no-learning runs) the test accuracy leaves chance at the end
    # amendment 2: the test loss says overfitting while the test accuracy still rises (both
    # hold; either verdict is right, and the run is in neither the onset nor the false-alarm
    # figures); the run learned, then collapsed to chance for good
    both: bool = False
    collapsed: bool = False

    @property
    def accepted(self) -> set[str]:
        """The verdicts that count as right for this run."""
        if self.no_learning or self.collapsed:
            return {"no_learning", "divergence", "non_finite"} | (
                {"still_improving", "underfitting"} if self.rising_at_end else set())
        if self.overfitting:
            return {"overfitting"}
        if self.still_improving:
            return {"still_improving", "underfitting"} | ({"overfitting"} if self.both else set())
        return {"healthy", "plateau", "underfitting"}

    @property
    def accepted_before_amendment_2(self) -> set[str]:
        """The labels as they were before amendment 2 (PROTOCOL.md), printed beside."""
        if self.no_learning:
            return {"no_learning", "divergence", "non_finite"} | (
                {"still_improving"} if self.rising_at_end else set())
        if self.overfitting:
            return {"overfitting"}
        if self.still_improving:
            return {"still_improving", "underfitting"}
        return {"healthy", "plateau", "underfitting"}


def truth_of(run: Run) -> Truth:
    acc = run.test_acc()
    n = len(acc)
    sm = _ma(acc)
    peak = float(sm.max())
    tol = test_tolerance(peak, run.n_test)
    majority = MAJORITY[run.task]
    # no learning: the test accuracy stays within 3 points of the majority rate for most
    # (at least three quarters) of the run
    at_chance = acc <= majority + NO_LEARNING_MARGIN
    no_learning = bool(at_chance.mean() >= 0.75)
    # the epoch the smoothed test accuracy first comes within tol of its best level
    reach = int(np.argmax(sm >= peak - tol))
    after = n - 1 - reach
    tail = max(4, n // 3)
    slope, t_tail = _slope(acc[-tail:])
    # a rise that matters: another quarter of the run (at least 5 epochs) at the final slope
    # would gain at least a point (and the tolerance)
    gain = slope * max(5, n // 4)
    train_loss = run.history["train_loss"].to_numpy(float)
    still_fitting = np.isfinite(train_loss[-1]) and train_loss[-1] < 0.8 * train_loss[min(reach, n - 1)]
    loss = run.truth["test_loss"].to_numpy(float)
    sl = _ma(loss)
    li = int(np.argmin(sl))
    loss_rise = (sl[-1] - sl[li]) / max(sl[li], 1e-9)
    decline = peak - float(sm[-1])
    # still rising at the end: a significant slope (t >= 2) that matters (the gain above)
    rising_tail = t_tail >= 2.0 and gain >= max(tol, 0.01)
    # overfitting: the test accuracy reached its best level with at least 4 epochs (and 15 % of
    # the run) still to go, the training loss kept falling after it, and by the end the test
    # accuracy fell below that level beyond tolerance or the test loss rose 20 % above its
    # minimum (the model grows confidently wrong), while the accuracy is not still rising
    overfitting = (not no_learning and after >= max(4, int(0.15 * n)) and still_fitting
                   and (decline > tol or loss_rise > 0.2) and not rising_tail)
    still_improving = (not no_learning and not overfitting and sm[-1] >= peak - tol
                       and rising_tail)
    plateau = not (no_learning or overfitting or still_improving)
    rising = bool(no_learning and acc[-1] > majority + NO_LEARNING_MARGIN and t_tail >= 2.0)
    # amendment 2 (PROTOCOL.md): overfitting but for the rising accuracy; learned, then at
    # chance for the whole last third of the run
    both = bool(still_improving and after >= max(4, int(0.15 * n)) and still_fitting
                and (decline > tol or loss_rise > 0.2))
    collapsed = bool(not no_learning and at_chance[-max(1, n // 3):].all())
    return Truth(no_learning, overfitting, reach if overfitting else None, still_improving,
                 plateau, tol, rising, both, collapsed)

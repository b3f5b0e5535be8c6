"""The diagnosis on real runs whose truth is known (bench/truth/corpus, PROTOCOL.md there): runs
trained by fitdoctor's own trainer with a large held-out test split as the truth."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.history.readers import read_history

from ..conftest import ROOT

CORPUS = ROOT / "bench" / "truth" / "corpus"
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "truth"))


def _diag(run: str, **options):
    return diagnose(read_history(str(CORPUS / run / "history.csv")).with_options(**options))


# (a CSV says nothing of the optimizer: LR 1e-3 is high only for a pretrained encoder, which the
# log does not say, so the cause named there is the constant prediction; LR 0.5 is high for any)
@pytest.mark.parametrize("run, cause, constant", [("sentiment/lr_high/s0", "unknown", True),
                                                  ("mnist/lr_high_sgd/s0", "lr_high", True)])
def test_a_run_that_learned_nothing_is_called_so_with_a_patch(run, cause, constant):
    d = _diag(run)
    assert d.verdict == "no_learning"
    f = d.finding("no_learning")
    assert f.evidence["cause"] == cause
    assert bool(f.evidence["nl_constant"]) is constant
    assert "predicts one class" in f.message
    for code in ("lucky_best", "plateau", "noisy_validation", "overfitting"):
        assert code not in d.codes
    rec = next(r for r in d.recommendations if r.code == "fix_no_learning")
    lr = f.evidence["lr"]
    assert rec.patch["training"]["learning_rate"] == pytest.approx(lr / 10, rel=0.05)


def test_a_run_that_learns_is_not_no_learning():
    for run in ("sentiment/healthy/s2", "mnist/healthy/s2", "digits/lr_low/s2", "animal/overfit/s1"):
        assert "no_learning" not in _diag(run).codes, run


def test_validation_size_inferred_from_granularity_and_said():
    d = _diag("mnist/healthy/s0")                   # val_acc values are multiples of 1/300
    assert d.val_size == 300 and d.val_size_inferred
    assert any("inferred from the granularity" in n for n in d.notes)
    # 3-decimal values of a 500-example set are not proof enough: said, not guessed
    d = _diag("sentiment/healthy/s0")
    assert d.val_size is None
    assert any("leaves out the validation set's sampling error" in n for n in d.notes)
    assert _diag("mnist/healthy/s0", val_size=300).val_size_inferred is False


def test_levels_stay_within_what_the_data_support_on_every_corpus_run():
    from protocol import load_corpus

    for run in load_corpus(str(CORPUS)):
        d = diagnose(read_history(f"{run.folder}/history.csv"))
        b = d.best
        assert b.expected <= b.value + 1e-12, run.name          # never above the best seen
        assert 0.0 <= b.ci95[0] <= b.expected <= b.ci95[1] <= 1.0, run.name


def test_interval_covers_the_test_accuracy_on_the_report_half():
    """The 95 % interval of the chosen checkpoint's level (validation size given) covers its
    accuracy on the held-out test split in >= 90 % of the report half's runs, and is not
    uselessly wide. Dropping the sampling error or the epoch-noise term fails this."""
    from diagnosis_real import score
    from protocol import load_corpus

    rows = [score(r, "given") for r in load_corpus(str(CORPUS)) if r.half == "report"]
    assert len(rows) >= 90
    assert np.mean([r["covered"] for r in rows]) >= 0.90
    assert np.mean([r["width"] for r in rows]) / 2 < 0.06


def test_denominator_from_rounded_values_and_no_guess_from_chance():
    from fitdoctor.diagnosis.stats import infer_denominator

    exact = np.arange(400, 441) / 1101            # the SST dev set's size
    assert infer_denominator(exact) == 1101
    assert infer_denominator(np.round(exact, 4)) == 1101      # 4 decimals still prove it
    assert infer_denominator(np.round(exact, 3)) is None      # 3 decimals fit every N ~ 1000
    assert infer_denominator(np.round(np.random.default_rng(0).random(40), 4)) is None

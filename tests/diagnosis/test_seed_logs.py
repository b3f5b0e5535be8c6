"""The user's own SST-5 logs (seed 004): the diagnoses the notes did by hand, done right."""

import pytest

from fitdoctor.diagnosis import diagnose, to_document
from fitdoctor.history import read_history


def _diag(seed_log, name, val_size=1101):
    return diagnose(read_history(seed_log(name)).with_options(val_size=val_size))


def test_try1_best_is_0419_at_13_lucky_and_overfitting(seed_log):
    d = _diag(seed_log, "sst-try1")
    assert (d.best.epoch, d.best.value) == (13, pytest.approx(0.419))
    assert d.verdict == "overfitting" and d.overfitting.detected
    assert 9 <= d.overfitting.onset_epoch <= 14
    assert "lucky_best" in d.codes                 # 0.419 stands out of a ~0.40 plateau
    lo, hi = d.best.ci95
    # the checkpoint's level lies below the lucky peak, and the interval holds the sampling
    # error of 1,101 sentences (+-0.029) without being useless
    assert lo < d.best.expected < 0.419 < hi and hi - lo < 0.08
    assert len(d.best.tied_epochs) >= 5            # several epochs are within noise of it
    e = d.best.expected                            # the sampling error at the level estimated
    assert d.best.sampling_se == pytest.approx((e * (1 - e) / 1101) ** 0.5)


def test_try3_large_gap_but_no_overfitting_onset(seed_log):
    d = _diag(seed_log, "sst-try3")
    assert not d.overfitting.detected and d.overfitting.onset_epoch is None
    assert d.overfitting.gap_at_end > 0.25       # the gap is large ...
    assert "overfitting" not in d.codes            # ... and that alone is not overfitting
    assert "underfitting" in d.codes               # train acc 0.71 and still rising (dropout 0.8)


def test_try4_overfits_after_its_peak_at_epoch_10(seed_log):
    d = _diag(seed_log, "sst-try4")
    assert d.best.epoch == 10 and d.verdict == "overfitting"
    assert 9 <= d.overfitting.onset_epoch <= 11
    labels = [p.label for p in d.phases]
    assert labels[0] == "underfit" and labels[-1] == "overfit"
    assert d.phases[-1].gap > d.phases[0].gap + 0.3
    codes = [r.code for r in d.recommendations]
    assert codes[0] == "early_stop_at_onset"
    es = d.recommendations[0].patch["training"]["early_stopping"]
    assert es["monitor"] == "val_acc" and es["mode"] == "max" and es["patience"] >= 3
    reg = next(r for r in d.recommendations if r.code == "regularize")
    assert "dropout" not in reg.patch.get("model", {})    # already 0.8: no more dropout advice
    restarts = next(r for r in d.recommendations if r.code == "warm_restarts")
    assert restarts.patch["training"]["scheduler"] == "CosineAnnealingWarmRestarts"
    assert restarts.patch["training"]["scheduler_params"]["eta_min"] == pytest.approx(1e-7)


def test_lr_range_runs_are_short_but_diagnosed(seed_log):
    d = _diag(seed_log, "sst-lr-1e-6")
    assert d.n_points == 5
    assert "underfitting" in d.codes               # train acc 0.30 and rising at 1e-6
    noisy = d.finding("noisy_validation")
    assert noisy is not None and noisy.evidence["val_size"] == 1101


def test_document_keeps_the_schema(seed_log):
    doc = to_document(_diag(seed_log, "sst-try4"))
    assert doc["schema"] == "fitdoctor.diagnosis/1"
    assert doc["monitor"] == {"name": "val_acc", "mode": "max", "reason": "val_accuracy_like"}
    assert doc["n_points"] == 24 and doc["final"] == {"epoch": 23, "value": 0.407}
    assert set(doc["best"]) >= {"epoch", "value", "ci95", "tied_epochs"}
    assert doc["overfitting"]["detected"] is True and 9 <= doc["overfitting"]["onset_epoch"] <= 11
    assert {"label", "start", "end"} <= set(doc["phases"][0])
    for f in doc["findings"]:
        assert f["severity"] in ("info", "warning", "critical") and f["message"] and "code" in f
    for r in doc["recommendations"]:
        assert set(r) >= {"code", "title", "patch", "rationale"}

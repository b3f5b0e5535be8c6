"""The JSON document (schema fitdoctor.diagnosis/1) is a public interface: `--json` prints it and
scripts read it. Its keys are written out here as the contract, and each value must be the
diagnosis's own (not a copy of another field, not dropped)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from fitdoctor.diagnosis import diagnose, to_document
from fitdoctor.diagnosis.document import clean, finding_codes, notes_text
from fitdoctor.diagnosis.types import ScheduleFit
from fitdoctor.history import read_history

from ..conftest import SEED_LOGS

TOP = {"schema", "source", "format", "name", "monitor", "n_points", "verdict", "best", "final",
       "overfitting", "phases", "findings", "recommendations", "lr", "schedule", "val_size",
       "val_size_inferred", "notes"}
BEST = {"epoch", "value", "ci95", "tied_epochs", "expected", "noise_sigma", "sampling_se"}


@pytest.fixture(scope="module")
def try4():
    return diagnose(read_history(SEED_LOGS / "sst-try4.log").with_options(val_size=1101))


def test_every_key_holds_the_diagnosis_value(try4):
    d = try4
    doc = to_document(d)
    assert set(doc) == TOP and doc["schema"] == "fitdoctor.diagnosis/1"
    assert (doc["source"], doc["format"], doc["name"]) == (d.source, d.format, d.name)
    assert doc["verdict"] == d.verdict == "overfitting"
    assert doc["val_size"] == 1101 and doc["val_size_inferred"] is False
    b = d.best
    assert set(doc["best"]) == BEST
    assert doc["best"] == {"epoch": b.epoch, "value": b.value, "ci95": list(b.ci95),
                           "tied_epochs": list(b.tied_epochs), "expected": b.expected,
                           "noise_sigma": b.noise, "sampling_se": b.sampling_se}
    assert doc["final"] == {"epoch": d.final_epoch, "value": d.final_value}
    assert doc["overfitting"] == clean(d.overfitting.to_dict())
    assert [p["label"] for p in doc["phases"]] == [p.label for p in d.phases]
    assert set(doc["phases"][0]) == {"label", "start", "end", "mean_lr", "train", "val", "gap"}
    assert [set(f) for f in doc["findings"]] == [{"code", "severity", "message", "evidence"}] \
        * len(d.findings)
    assert [(f["code"], f["severity"], f["message"]) for f in doc["findings"]] == \
        [(f.code, f.severity, f.message) for f in d.findings]
    assert [f["evidence"] for f in doc["findings"]] == [clean(f.evidence) for f in d.findings]
    assert [set(r) for r in doc["recommendations"]] == \
        [{"code", "title", "patch", "rationale", "because"}] * len(d.recommendations)
    assert [(r["code"], r["title"], r["patch"], r["rationale"], r["because"])
            for r in doc["recommendations"]] == \
        [(r.code, r.title, clean(r.patch), r.rationale, list(r.because))
         for r in d.recommendations]
    assert doc["lr"] == (None if d.lr is None else clean(d.lr.to_dict()))
    assert doc["notes"] == notes_text(d)
    json.dumps(doc, allow_nan=False)                 # strict JSON: no NaN, no numpy types


def test_schedule_and_interval_present_or_null(try4):
    fit = ScheduleFit("cosine", {"T_max": 30}, 1.0, 0.02, "cosine over 30")
    d = dataclasses.replace(try4, schedule=fit)
    assert to_document(d)["schedule"] == {"family": "cosine", "params": {"T_max": 30},
                                          "warmup": 1.0, "rmse": 0.02,
                                          "description": "cosine over 30"}
    assert to_document(dataclasses.replace(try4, schedule=None))["schedule"] is None
    no_ci = dataclasses.replace(try4.best, ci95=None)
    assert to_document(dataclasses.replace(try4, best=no_ci))["best"]["ci95"] is None


def test_finding_codes_are_the_codes_findings_carry(try4):
    """diagnose --fail-on accepts these: every finding's code, and no other message's."""
    codes = finding_codes()
    assert {f.code for f in try4.findings} <= codes
    assert {"overfitting", "no_learning", "divergence", "best", "schedule_mismatch"} <= codes
    assert not codes & {"budget", "config", "note", "plot", "status", "report"}


def test_clean_makes_plain_json():
    out = clean({"a": (np.float32(0.5), np.int64(3), np.bool_(True)), 1: [float("nan"), np.inf],
                 "b": {"c": np.float64(-np.inf), "d": "text", "e": None}})
    assert out == {"a": [0.5, 3, True], "1": [None, None],
                   "b": {"c": None, "d": "text", "e": None}}
    assert type(out["a"][0]) is float and type(out["a"][1]) is int and type(out["a"][2]) is bool
    assert math.isclose(clean(2.5), 2.5) and clean(7) == 7


def test_notes_say_how_the_val_size_was_inferred_or_that_sampling_is_left_out(try4):
    inferred = dataclasses.replace(try4, val_size=500, val_size_inferred=True, notes=("n1",))
    notes = notes_text(inferred)
    assert notes[0] == "n1" and len(notes) == 2 and "500" in notes[1] and "val_acc" in notes[1]
    assert "500" in notes_text(inferred, "zh")[1] and notes_text(inferred, "zh")[1] != notes[1]
    unknown = dataclasses.replace(try4, val_size=None, val_size_inferred=False, notes=())
    (left_out,) = notes_text(unknown)
    assert "sampling" in left_out
    assert notes_text(dataclasses.replace(try4, notes=())) == []          # given: nothing to say
    # a loss has no sampling error of a proportion to leave out
    loss = dataclasses.replace(unknown, monitor="val_loss")
    assert notes_text(loss) == []


def test_the_stable_gap_sentence_names_the_smoothed_gap_not_the_jsons_raw_one():
    """gap_growth says 'smoothed' since c2db988; its sibling stable_gap printed the smoothed gap
    as 'the train-val gap' beside a JSON gap_at_end that is the last raw value (0.00613 against
    0.00884 on this real log)."""
    from fitdoctor.diagnosis import diagnose
    from fitdoctor.history import read_histories

    from ..conftest import public

    h = read_histories(str(public("resnet50-appended-runs")))[2]       # its third run
    d = diagnose(h)
    f = next(f for f in d.findings if f.code == "stable_gap")
    assert f.evidence["gap_end"] != pytest.approx(d.overfitting.gap_at_end, rel=0.01)
    assert f.message.startswith(f"The smoothed train-val gap ({f.evidence['gap_end']:.3g})")

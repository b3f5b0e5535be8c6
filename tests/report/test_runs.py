"""Stored runs' lines and documents (report/runs.py), as the commands print them."""

from __future__ import annotations

from fitdoctor.report.runs import run_info_document, swept_line
from fitdoctor.sweep.run import SweepResult


def test_swept_line_counts_the_trials_and_the_refused_duplicates():
    assert swept_line(SweepResult("lr", 6, 4, [], 0)) == "study lr: 6 trials finished (4 here)"
    assert swept_line(SweepResult("lr", 6, 4, [], 2)) == \
        "study lr: 6 trials finished (4 here, 2 duplicate point(s) refused)"


def test_run_info_document_is_the_run_then_its_epochs():
    doc = run_info_document({"run_id": "r1", "status": "completed"}, [{"epoch": 0}])
    assert list(doc) == ["schema", "run_id", "status", "epochs"]
    assert doc["schema"] == "fitdoctor.run-info/1" and doc["epochs"] == [{"epoch": 0}]

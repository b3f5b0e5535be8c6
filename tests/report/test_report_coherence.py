"""Reports agree with themselves, read from the user's side: `fitdoctor diagnose` on the real
logs, en and zh, each sentence checked against the numbers beside it in the same report."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from fitdoctor.cli import app

from ..conftest import public


def report(log, *more) -> str:
    """The terminal report of ``diagnose`` on a log, its lines joined back into one text."""
    result = CliRunner().invoke(app, ["diagnose", str(log), *map(str, more)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output)


def test_a_linear_decay_after_warmup_reaches_zero_at_the_logs_epoch():
    """YOLOv8 (cwfid): a 33-epoch warmup, then a linear decay fitted to end at epoch 152.5. The
    schedule's description said 'reaching 0 at epoch 119' (119 epochs after the decay began)
    beside 'fitted length 152.515 epochs' in the mismatch finding of the same report."""
    log = public("yolov8-cwfid")
    text = report(log)
    assert "linear decay reaching 0 at epoch 153" in text, text
    assert "fitted length 152.5 epochs" in text and "fitted to 152.5 epochs" in text
    zh = report(log, "--lang", "zh")
    assert "线性衰减，在 epoch 153 降到 0" in zh


def test_the_gap_note_does_not_call_a_small_gap_large():
    """Brain-tumour ResNet50, third appended run: the smoothed train-val gap ends at 0.00613 (the
    phases table's gap -0.0116): the note called it 'large (0.00613)'."""
    text = report(public("resnet50-appended-runs"), "--run", "3")
    assert "The smoothed train-val gap (0.00613) is not growing beyond noise after epoch 3" in text
    assert "gap is large" not in text
    assert "较大" not in report(public("resnet50-appended-runs"), "--run", "3", "--lang", "zh")


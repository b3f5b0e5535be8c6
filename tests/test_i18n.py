"""--lang zh renders what fitdoctor made in English at the last moment: the readers' notes, the
schedule's description, the LR line and the plot labels. Checked over every real log in
../shared: a note or description that stays English (no Chinese character in it) fails."""

import re

import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.errors import FitDoctorError
from fitdoctor.history import read_histories
from fitdoctor.i18n import phrase
from fitdoctor.report.text import headline

from .conftest import FIXTURES, PUBLIC_LOGS, SEED_LOGS

CJK = re.compile(r"[\u4e00-\u9fff]")
LOGS = sorted(p for p in [*PUBLIC_LOGS.iterdir(), *SEED_LOGS.iterdir(), *FIXTURES.iterdir()]
              if p.suffix != ".md")


def _diagnoses():
    for path in LOGS:
        try:
            histories = read_histories(path)
        except FitDoctorError:
            continue
        for h in histories:
            try:
                yield h, diagnose(h)
            except FitDoctorError:
                continue


def test_every_note_and_schedule_description_reads_in_chinese():
    seen_notes = seen_schedules = 0
    for h, d in _diagnoses():
        for note in h.notes:
            seen_notes += 1
            assert CJK.search(phrase(note, "zh")), note
        if d.schedule is not None and d.schedule.description:
            seen_schedules += 1
            zh = phrase(d.schedule.description, "zh")
            assert CJK.search(zh) and "then" not in zh and "epochs" not in zh, d.schedule.description
        if d.lr is not None and d.lr.at_best is not None:
            line = headline(d, "zh")["lr"]
            assert "best" not in line and "peak" not in line and CJK.search(line)
    assert seen_notes >= 10 and seen_schedules >= 10


@pytest.mark.parametrize("text, zh", [
    ("linear warmup for 6 epochs to 3.9e-05, then cosine annealing (T_max~291, eta_min~0.26 of peak)",
     "线性预热 6 个 epoch 到 3.9e-05，然后余弦退火（T_max≈291，eta_min≈峰值的 0.26）"),
    ("step decay every 30 epochs by x0.1", "每 30 个 epoch 阶梯衰减 ×0.1"),
    ("val_acc was in percent; rescaled to 0-1", "val_acc 原为百分数，已换算到 0-1"),
    ("an unknown phrase", "an unknown phrase"),
])
def test_phrases(text, zh):
    assert phrase(text, "zh") == zh and phrase(text, "en") == text

"""Every config in configs/ loads, previews its schedule, and builds its task."""

from pathlib import Path

import pytest

from fitdoctor.schedules import ScheduleSpec, preview
from fitdoctor.training.config import load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loads_and_previews(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first) > 30          # a line saying what it tests
    cfg = load_config(path)
    t = cfg.training
    spec = ScheduleSpec.from_training(t, 10, "max")
    lrs = preview(spec, t.learning_rate, t.epochs, 10)["lr_per_epoch"]
    assert len(lrs) == t.epochs and max(lrs) == pytest.approx(t.learning_rate, rel=1e-6)

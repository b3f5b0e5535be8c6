from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED_LOGS = SHARED / "examples" / "seed-logs"
PUBLIC_LOGS = SHARED / "public-logs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def public(name_part: str) -> Path:
    """A public log by a unique part of its file name."""
    hits = [p for p in PUBLIC_LOGS.iterdir() if name_part in p.name]
    assert len(hits) == 1, f"{name_part!r} matches {hits}"
    return hits[0]


@pytest.fixture
def seed_log():
    return lambda name: SEED_LOGS / f"{name}.log"

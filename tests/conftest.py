from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the real logs live in the project's shared/ folder, beside the clone (CI lays it there)
SHARED = Path(os.environ.get("FITDOCTOR_SHARED", ROOT.parent / "shared"))
if not (SHARED / "public-logs").is_dir():
    raise pytest.UsageError(f"the real logs were not found in {SHARED}: clone the repository next "
                            "to shared/ or set FITDOCTOR_SHARED to its path")
SEED_LOGS = SHARED / "examples" / "seed-logs"
PUBLIC_LOGS = SHARED / "public-logs"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# tokenised datasets go to a cache of the test session's own, not the user's ~/.cache
os.environ.setdefault("FITDOCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="fitdoctor-test-cache-"))


def public(name_part: str) -> Path:
    """A public log by a unique part of its file name."""
    hits = [p for p in PUBLIC_LOGS.iterdir() if name_part in p.name]
    assert len(hits) == 1, f"{name_part!r} matches {hits}"
    return hits[0]


@pytest.fixture
def seed_log():
    return lambda name: SEED_LOGS / f"{name}.log"

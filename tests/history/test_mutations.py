"""Damaged copies of the real logs (truncated, random bytes, NaN and huge numbers, a line
dropped, the wrong encoding) give a History or a FitDoctorError, never another exception.
The heavier fuzzing belongs to the reliability suite."""

import random

import pytest

from fitdoctor.diagnosis import diagnose
from fitdoctor.errors import FitDoctorError
from fitdoctor.history import read_histories

from ..conftest import FIXTURES, PUBLIC_LOGS, SEED_LOGS

SOURCES = sorted([p for p in PUBLIC_LOGS.iterdir() if p.name != "README.md"] +
                 list(SEED_LOGS.glob("*.log")) +
                 [p for p in FIXTURES.iterdir() if p.is_file()])   # mlruns/: its own test


def mutate(data: bytes, rng: random.Random) -> bytes:
    op = rng.choice(["truncate", "bytes", "nan", "huge", "dropline", "utf16"])
    if op == "truncate":
        return data[: rng.randrange(len(data))]
    if op == "bytes":
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if op == "nan":
        return data.replace(b"0.", b"nan", rng.randint(1, 5))
    if op == "huge":
        return data.replace(b"0.", b"1e308", rng.randint(1, 5))
    if op == "dropline":
        lines = data.split(b"\n")
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    return data.decode("utf-8", "replace").encode("utf-16")


@pytest.mark.parametrize("seed", range(8))
def test_mutated_logs_never_raise_anything_but_a_fitdoctor_error(tmp_path, seed):
    rng = random.Random(seed)
    for i in range(25):
        src = rng.choice(SOURCES)
        path = tmp_path / f"{i}-{src.name}"
        path.write_bytes(mutate(src.read_bytes(), rng))
        try:
            for h in read_histories(path):
                diagnose(h)
        except FitDoctorError:
            pass

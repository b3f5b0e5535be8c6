"""Sweeps on Optuna. A trial is one config (grid point or sampled point) trained once per seed
through the trainer; its value is the mean smoothed best of the monitored metric. The study
lives in the run store's SQLite file by default, so a sweep survives interruption and several
processes (``--worker``) can share it; ``--storage`` takes any RDB URL (PostgreSQL for several
machines) or ``journal:PATH`` (Optuna's journal file)."""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UsageError

SPACE_KINDS = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Dimension:
    key: str
    kind: str                 # grid | log | float | int | choice
    values: tuple             # grid/choice values, or (low, high)


def _value(text: str) -> Any:
    import yaml

    from ..training.config import _number
    return _number(yaml.safe_load(text))


def parse_grid(items: list[str]) -> list[Dimension]:
    dims = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not raw:
            raise UsageError(f"--grid expects key=v1,v2,... (e.g. training.learning_rate=1e-4,3e-4), got {item!r}.")
        dims.append(Dimension(key.strip(), "grid", tuple(_value(v) for v in raw.split(","))))
    return dims


def parse_space(items: list[str]) -> list[Dimension]:
    dims = []
    for item in items:
        key, sep, raw = item.partition("=")
        kind, _, rest = raw.partition(":")
        if not sep or kind not in SPACE_KINDS or not rest:
            raise UsageError(f"--space expects key=log:LOW:HIGH, float:LOW:HIGH, int:LOW:HIGH or "
                             f"choice:A,B,...; got {item!r}.")
        if kind == "choice":
            dims.append(Dimension(key.strip(), kind, tuple(_value(v) for v in rest.split(","))))
            continue
        try:
            low, high = (float(v) for v in rest.split(":"))
        except ValueError:
            raise UsageError(f"--space {item!r}: LOW and HIGH must be numbers.") from None
        if not low < high or (kind == "log" and low <= 0):
            raise UsageError(f"--space {item!r}: need LOW < HIGH (and LOW > 0 for log).")
        dims.append(Dimension(key.strip(), kind, (int(low), int(high)) if kind == "int" else (low, high)))
    return dims


def grid_size(dims: list[Dimension]) -> int:
    return math.prod(len(d.values) for d in dims)


def suggest(trial, dims: list[Dimension]) -> dict[str, Any]:
    out = {}
    for d in dims:
        if d.kind in ("grid", "choice"):
            out[d.key] = trial.suggest_categorical(d.key, list(d.values))
        elif d.kind == "int":
            out[d.key] = trial.suggest_int(d.key, d.values[0], d.values[1])
        else:
            out[d.key] = trial.suggest_float(d.key, d.values[0], d.values[1], log=d.kind == "log")
    return out


def make_storage(storage: str | None, store_path: str):
    """Optuna's storage for ``--storage`` (an RDB URL or journal:PATH; default the run store).
    One that cannot be opened is a UsageError naming it and why."""
    try:
        return _open_storage(storage, store_path)
    except UsageError:
        raise
    except Exception as exc:          # an unknown dialect, a missing driver or directory, ...
        raise UsageError(f"--storage {storage or store_path}: cannot open it ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else exc!r}). Give sqlite:///PATH, "
                         "journal:PATH or a database URL whose driver is installed.") from None


def _need_directory(storage: str, path: str) -> None:
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise UsageError(f"--storage {storage}: the directory of {path} does not exist.")


def _open_storage(storage: str | None, store_path: str):
    import optuna

    if storage is None:
        storage = f"sqlite:///{store_path}"
    if storage.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
        path = storage[len("journal:"):]
        _need_directory(storage, path)
        return JournalStorage(JournalFileBackend(path))
    if storage.startswith("sqlite:///") and storage[len("sqlite:///"):] not in ("", ":memory:"):
        _need_directory(storage, storage[len("sqlite:///"):])
    import time

    import sqlalchemy.exc

    for attempt in range(8):          # workers starting together race to create the schema
        try:
            return optuna.storages.RDBStorage(
                storage, engine_kwargs={"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else None)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
            if attempt == 7:
                raise
            time.sleep(0.5 * (attempt + 1))


def all_grid_points(dims: list[Dimension]) -> list[dict]:
    return [dict(zip([d.key for d in dims], combo)) for combo in itertools.product(*(d.values for d in dims))]


Objective = Callable[[Any], float]

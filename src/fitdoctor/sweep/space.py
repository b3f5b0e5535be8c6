"""A sweep's search space: --grid and --space parsed into Dimensions, the grid's points, and
the values a trial suggests."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

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


def all_grid_points(dims: list[Dimension]) -> list[dict]:
    return [dict(zip([d.key for d in dims], combo)) for combo in itertools.product(*(d.values for d in dims))]

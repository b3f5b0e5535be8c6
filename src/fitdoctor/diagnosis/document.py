"""The JSON document of a diagnosis (schema ``fitdoctor.diagnosis/1``), as plain data."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from ..history.names import is_proportion
from ..i18n import MESSAGES, message, phrase
from .types import Diagnosis

SCHEMA = "fitdoctor.diagnosis/1"


def finding_codes() -> set[str]:
    """The code of every finding a diagnosis can report: each has its message (the budget,
    config and note messages word comparisons and notes, not findings)."""
    return {key.split(".", 1)[0] for key in MESSAGES} - {"budget", "config", "note"}


def notes_text(d: Diagnosis, lang: str = "en") -> list[str]:
    """The reader's notes, and what a report must say about the validation size: how it was
    inferred, or that the interval of the best level leaves out the sampling error."""
    out = [phrase(n, lang) for n in d.notes]
    if d.val_size_inferred:
        out.append(message("note.val_size_inferred", {"n": d.val_size, "monitor": d.monitor}, lang))
    elif d.val_size is None and is_proportion(d.monitor):
        out.append(message("note.sampling_left_out", {}, lang))
    return out


def clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def to_document(d: Diagnosis) -> dict[str, Any]:
    b = d.best
    doc = {
        "schema": SCHEMA,
        "source": d.source,
        "format": d.format,
        "name": d.name,
        "monitor": {"name": d.monitor, "mode": d.mode, "reason": d.monitor_reason},
        "n_points": d.n_points,
        "verdict": d.verdict,
        "best": {"epoch": b.epoch, "value": b.value, "ci95": list(b.ci95) if b.ci95 else None,
                 "tied_epochs": list(b.tied_epochs), "expected": b.expected,
                 "noise_sigma": b.noise, "sampling_se": b.sampling_se},
        "final": {"epoch": d.final_epoch, "value": d.final_value},
        "overfitting": d.overfitting.to_dict(),
        "phases": [dataclasses.asdict(p) for p in d.phases],
        "findings": [{"code": f.code, "severity": f.severity, "message": f.message,
                      "evidence": f.evidence} for f in d.findings],
        "recommendations": [{"code": r.code, "title": r.title, "patch": r.patch,
                             "rationale": r.rationale, "because": list(r.because)}
                            for r in d.recommendations],
        "lr": d.lr.to_dict() if d.lr is not None else None,
        "schedule": dataclasses.asdict(d.schedule) if d.schedule else None,
        "val_size": d.val_size, "val_size_inferred": d.val_size_inferred,
        "notes": notes_text(d),
    }
    return clean(doc)

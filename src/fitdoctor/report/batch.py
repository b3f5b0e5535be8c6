"""The report files of ``diagnose --out`` over one run or several: one run's in the folder itself,
several runs' each in a sub-folder named after its run (sharing the folder's plotly.min.js); a run
read from the run store also keeps its report there, as an artifact."""

from __future__ import annotations

import os
from typing import Iterator

from ..diagnosis.types import Diagnosis
from ..history.core import History
from .documents import write_reports
from .explore import slug, unique


def write_diagnosis_reports(results: list[tuple[History, Diagnosis]], out: str, lang: str,
                            store: str) -> Iterator[str]:
    """Write each (history, diagnosis)'s reports under ``out``, yielding each report.html as it is
    written; a stored run's (format fitdoctor-store) is added to its run in ``store``."""
    folders = unique([slug(h.name) for h, _ in results])      # runs may share a name
    for (h, d), folder in zip(results, folders):
        target = out if len(results) == 1 else os.path.join(out, folder)
        written = write_reports(h, d, target, lang, asset_dir=out)
        if h.format == "fitdoctor-store":            # keep the report with the run
            from ..store import RunStore
            RunStore(store).add_artifact(h.source.rsplit("#", 1)[-1], "report", written["html"])
        yield written["html"]

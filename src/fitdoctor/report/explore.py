"""The explorable parts of the comparison and sweep pages: every run's own report (written under
``runs/`` next to the page, sharing the page's plotly.min.js), the overlay of all runs, and a
sweep's parameters against its result."""

from __future__ import annotations

import os
import re

from markupsafe import Markup

from ..diagnosis import diagnose
from ..diagnosis.types import Diagnosis
from ..history.core import History
from ..i18n import label
from .documents import write_reports
from .figures import COLOURS, overlay_figure, params_figure
from .interactive import figure_block
from .page import render_fragment
from .text import fmt


def slug(name: str) -> str:
    """A run's name as a folder name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "run"


def unique(names: list[str]) -> list[str]:
    """The names, a repeated one suffixed -2, -3, ... (two MLflow runs called "baseline")."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def run_reports(histories: dict[str, History], out_dir: str, lang: str = "en",
                sub: str = "runs", diagnoses: dict[str, Diagnosis] | None = None
                ) -> dict[str, tuple[Diagnosis, str]]:
    """Each run's report in ``out_dir``/``sub``/<name>/, with one plotly.min.js in ``out_dir``:
    name -> (diagnosis, link to its report.html from ``out_dir``). A run's diagnosis is taken
    from ``diagnoses`` where given (the comparison's own), else made here."""
    out = {}
    diagnoses = diagnoses or {}
    for (name, h), folder in zip(histories.items(), unique([slug(n) for n in histories])):
        d = diagnoses.get(name) or diagnose(h)
        written = write_reports(h, d, os.path.join(out_dir, sub, folder), lang, asset_dir=out_dir)
        out[name] = (d, os.path.relpath(written["html"], out_dir).replace(os.sep, "/"))
    return out


def colours_by_entry(entries) -> dict[str, str]:
    """A colour per ranked entry (a run, or a configuration's seeds), by member name."""
    return {m: COLOURS[k % len(COLOURS)] for k, e in enumerate(entries) for m in e.members}


def comparison_blocks(c, histories: dict[str, History], reports: dict[str, tuple[Diagnosis, str]],
                      params: list[str] | None, lang: str = "en") -> Markup:
    """HTML (templates/comparison_blocks.html): the overlay, the list of runs linked to their
    reports, and for a sweep the parameters-vs-result view."""
    colour = colours_by_entry(c.entries)
    names = [m for entry in c.entries for m in entry.members if m in histories]
    runs = [(n, histories[n], colour[n]) for n in names]
    links = []
    for n in names:
        d, href = reports[n]
        links.append({"name": n, "colour": colour[n], "href": href, "verdict": label(f"verdict.{d.verdict}", lang),
                      "best": f"{fmt(d.best.value)} @ {d.best.epoch:g}"})
    params_block = None
    if params:
        points = []
        for n in names:
            d = reports[n][0]
            points.append({"name": n, "colour": colour[n], "config": dict(histories[n].config),
                           "value": d.best.expected if d.best.expected is not None else d.best.value,
                           "ci95": d.best.ci95})
        params_block = figure_block(params_figure(points, params, c.monitor, lang), "params", lang)
    return render_fragment("comparison_blocks.html", lang=lang, runs=links, params=params_block,
                           overlay=figure_block(overlay_figure(runs, c.monitor, c.mode, lang), "overlay", lang,
                                                fallback="comparison.png"))

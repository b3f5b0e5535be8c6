"""``fitdoctor report --store S --out DIR``: an index page of every stored run (name, status,
verdict, best with the interval of its true level, a link to its report), each run's report
under DIR/runs/<run id>/, and the overlay of the runs that share the most common monitored
metric. The store is only read."""

from __future__ import annotations

import os
from collections import Counter

from ..diagnosis import diagnose
from ..errors import FitDoctorError, UsageError
from ..i18n import label
from ..store import RunStore
from .documents import asset_link, report_dir, write_atomic, write_reports
from .explore import slug, unique
from .figures import COLOURS, overlay_figure
from .interactive import figure_block, scripts
from .page import render_page
from .text import fmt


def _best_text(d) -> str:
    b = d.best
    text = f"{fmt(b.value)} @ {b.epoch:g}"
    if b.ci95 is not None and b.expected is not None:
        text += f"; {fmt(b.expected)} [{fmt(b.ci95[0])}, {fmt(b.ci95[1])}]"
    return text


def write_store_index(store: str, out_dir: str, lang: str = "en") -> str:
    """DIR/index.html and a report per run with epochs; the path of index.html."""
    runs = RunStore(store, create=False)
    listed = runs.list_runs()
    if not listed:
        raise UsageError(f"{store}: no run stored yet, nothing to report (train one, or log one "
                         "with track()).")
    report_dir(out_dir, "index.html and a report folder per run")
    rows, shown = [], []
    # a store is a file that may come from elsewhere: its ids name no folder outside runs/
    folders = unique([slug(r["run_id"]) for r in listed])
    for r, folder in zip(listed, folders):
        row = {"id": r["run_id"], "name": r["name"] or r["run_id"], "status": r["status"],
               "epochs": r["epochs"], "verdict": None, "best": "", "href": None, "note": ""}
        rows.append(row)
        if not r["epochs"]:
            row["note"] = label("no_epochs", lang)
            continue
        try:
            h = runs.history(r["run_id"])
            d = diagnose(h)
        except FitDoctorError as exc:          # one unreadable run does not hide the others
            row["note"] = str(exc)
            continue
        written = write_reports(h, d, os.path.join(out_dir, "runs", folder), lang, asset_dir=out_dir)
        row.update(verdict=label(f"verdict.{d.verdict}", lang), best=_best_text(d),
                   href=os.path.relpath(written["html"], out_dir).replace(os.sep, "/"), monitor=d.monitor)
        shown.append((row, h, d))
    path = os.path.join(out_dir, "index.html")
    write_atomic(path, _page(rows, shown, asset_link(out_dir, out_dir), lang))
    return path


def _status(status: str, lang: str) -> str:
    """A run's status in the page's language (one a store of a newer version may add: as stored)."""
    text = label(f"status.{status}", lang)
    return status if text == f"status.{status}" else text


def _page(rows: list[dict], shown: list, asset: str, lang: str) -> str:
    """index.html (templates/store_index.html)."""
    head = ["run_id", label("run", lang), label("status", lang), label("epoch_count", lang),
            label("verdict", lang), f"{label('best', lang)} (epoch); {label('plot.true_level', lang)}"]
    rows = [{**r, "status": _status(r["status"], lang)} for r in rows]
    monitor, overlay, others = None, None, []
    if shown:
        monitor, _ = Counter(row["monitor"] for row, _, _ in shown).most_common(1)[0]
        mode = next(d.mode for row, _, d in shown if row["monitor"] == monitor)
        runs = [(f"{row['name']} ({row['id']})", h, COLOURS[k % len(COLOURS)])
                for k, (row, h, _) in enumerate(r for r in shown if r[0]["monitor"] == monitor)]
        overlay = figure_block(overlay_figure(runs, monitor, mode, lang), "overlay", lang)
        others = [f"{row['name']} ({row['monitor']})" for row, _, _ in shown if row["monitor"] != monitor]
    return render_page("store_index.html", lang=lang, head=head, rows=rows, monitor=monitor, overlay=overlay,
                       left_out=others, scripts=scripts(asset))

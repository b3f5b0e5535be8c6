"""``fitdoctor report --store S --out DIR``: an index page of every stored run (name, status,
verdict, best with the interval of its true level, a link to its report), each run's report
under DIR/runs/<run id>/, and the overlay of the runs that share the most common monitored
metric. The store is only read."""

from __future__ import annotations

import html
import os
from collections import Counter

from ..diagnosis import diagnose
from ..errors import FitDoctorError, UsageError
from ..i18n import label
from ..store import RunStore
from .documents import asset_link, report_dir, write_atomic, write_reports
from .explore import slug, unique
from .figures import COLOURS, overlay_figure
from .interactive import CSS, figure_block, scripts
from .text import fmt

_PAGE_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI','Noto Sans CJK SC',sans-serif;
max-width:1100px;margin:2em auto;padding:0 1em;color:#222}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left}table{border-collapse:collapse;margin:.5em 0}.muted{color:#777}"""


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
    e = html.escape
    head = ["run_id", label("run", lang), label("status", lang), label("epoch_count", lang),
            label("verdict", lang), f"{label('best', lang)} (epoch); {label('plot.true_level', lang)}"]
    body = []
    for r in rows:
        name = f"<a href='{e(r['href'])}'>{e(r['name'])}</a>" if r["href"] else e(r["name"])
        verdict = e(r["verdict"]) if r["verdict"] else f"<span class='muted'>{e(r['note'])}</span>"
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            f"<code>{e(r['id'])}</code>", name, e(_status(r["status"], lang)), str(r["epochs"]), verdict,
            e(r["best"]))) + "</tr>")
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
             f"<title>{e(label('index_title', lang))}</title><style>{_PAGE_CSS}{CSS}</style></head><body>",
             f"<h1>{e(label('index_title', lang))}</h1><table><tr>"
             + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" + "".join(body) + "</table>"]
    if shown:
        monitor, _ = Counter(row["monitor"] for row, _, _ in shown).most_common(1)[0]
        mode = next(d.mode for row, _, d in shown if row["monitor"] == monitor)
        runs = [(f"{row['name']} ({row['id']})", h, COLOURS[k % len(COLOURS)])
                for k, (row, h, _) in enumerate(r for r in shown if r[0]["monitor"] == monitor)]
        parts.append(f"<h2>{e(label('overlay_title', lang))}: {e(monitor)}</h2>")
        parts.append(figure_block(overlay_figure(runs, monitor, mode, lang), "overlay", lang))
        others = [f"{row['name']} ({row['monitor']})" for row, _, _ in shown if row["monitor"] != monitor]
        if others:
            parts.append(f"<p class='muted'>{e(label('overlay_left_out', lang))}: {e(', '.join(others))}</p>")
    parts.append(scripts(asset) + "</body></html>")
    return "".join(parts)

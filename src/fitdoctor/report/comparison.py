"""Rendering of a Comparison: terminal tables, Markdown, HTML with an overlay plot, JSON."""

from __future__ import annotations

import base64
import html
import json
import os

from rich.console import Console
from rich.table import Table

from ..diagnosis.comparison import Comparison
from ..diagnosis.document import clean
from ..i18n import label
from .documents import report_dir, write_atomic
from .plots import save_figure
from .text import fmt

SCHEMA = "fitdoctor.comparison/1"


def comparison_document(c: Comparison) -> dict:
    return clean({
        "schema": SCHEMA, "monitor": {"name": c.monitor, "mode": c.mode},
        "runs": [{"name": e.name, "best": e.raw_best, "best_epoch": e.best_epoch,
                  "smoothed_best": e.value, "members": list(e.members), **{k: v for k, v in e.row.items()
                                                                             if k not in ("best", "best_epoch")}}
                 for e in c.entries],
        "pairs": [{"a": p.a, "b": p.b, "delta": p.delta, "ci95": list(p.ci95), "p_value": p.p_value,
                   "p_holm": p.p_holm, "significant": p.significant, "method": p.method,
                   "p_b_better": p.p_b_better} for p in c.pairs],
        "best_group": list(c.best_group), "differing_keys": list(c.differing_keys),
        "expected_max": list(c.expected_max) if c.expected_max else None, "notes": list(c.notes)})


def _run_rows(c: Comparison, lang: str) -> tuple[list[str], list[list[str]]]:
    head = ["#", label("run", lang), label("config", lang), label("best", lang),
            label("smoothed", lang), label("last_k", lang), "test", label("train_at_best", lang),
            label("gap", lang), label("onset", lang), label("verdict", lang)]
    rows = []
    for i, e in enumerate(c.entries, 1):
        r = e.row
        conf = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in r["config"].items())
        test = ", ".join(f"{k}={v:.3g}" for k, v in r["test"].items())
        rows.append([str(i), e.name, conf, f"{fmt(e.raw_best)} ({e.best_epoch:g})", fmt(e.value),
                     fmt(r["last_mean"]), test or "-", fmt(r["train_at_best"]), fmt(r["gap_at_best"], 3),
                     "-" if r["onset"] is None else f"{r['onset']:g}", label(f"verdict.{r['verdict']}", lang)])
    return head, rows


def _pair_rows(c: Comparison, lang: str) -> tuple[list[str], list[list[str]]]:
    head = ["A", "B", "B - A", "95% CI", "p", "p (Holm)", label("significant", lang), label("method", lang)]
    rows = [[p.a, p.b, f"{p.delta:+.4f}", f"[{p.ci95[0]:+.4f}, {p.ci95[1]:+.4f}]",
             fmt(p.p_value, 3), fmt(p.p_holm, 3), label("yes" if p.significant else "no", lang), p.method]
            for p in c.pairs]
    return head, rows


def render_comparison_terminal(c: Comparison, console: Console, lang: str = "en") -> None:
    for title, (head, rows) in ((label("runs", lang), _run_rows(c, lang)),
                                (label("pairs", lang), _pair_rows(c, lang))):
        t = Table(title=title, title_justify="left", show_edge=False)
        for h in head:
            t.add_column(h)
        for r in rows:
            t.add_row(*r)
        console.print(t)
    console.print(f"{label('best_group', lang)}: " + ", ".join(c.best_group), highlight=False)
    if c.expected_max:
        console.print(f"{label('expected_max', lang)}: " +
                      ", ".join(f"n={i}: {v:.4g}" for i, v in enumerate(c.expected_max, 1)), highlight=False)
    for n in c.notes:
        console.print(n, style="dim", highlight=False)


def _md_table(head, rows) -> list[str]:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    return ["| " + " | ".join(map(esc, head)) + " |", "|" + "---|" * len(head)] + \
        ["| " + " | ".join(map(esc, r)) + " |" for r in rows]


def plot_comparison(histories: dict, c: Comparison, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 2 if c.expected_max else 1
    fig, axes = plt.subplots(1, cols, figsize=(6 * cols, 3.6), squeeze=False)
    ax = axes[0][0]
    for name, h in histories.items():
        ax.plot(h.epochs, h.values(c.monitor), "-", lw=1.2, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(c.monitor)
    ax.legend(fontsize=7)
    if c.expected_max:
        bx = axes[0][1]
        bx.plot(range(1, len(c.expected_max) + 1), c.expected_max, "o-")
        bx.set_xlabel("trials")
        bx.set_ylabel(f"expected best {c.monitor}")
    fig.tight_layout()
    save_figure(fig, path)


def write_comparison(c: Comparison, histories: dict, out_dir: str, lang: str = "en") -> dict[str, str]:
    report_dir(out_dir, "comparison.md, comparison.html, comparison.png and comparison.json")
    paths = {k: os.path.join(out_dir, n) for k, n in (("png", "comparison.png"), ("md", "comparison.md"),
                                                      ("html", "comparison.html"), ("json", "comparison.json"))}
    plot_comparison(histories, c, paths["png"])
    runs, pairs = _run_rows(c, lang), _pair_rows(c, lang)
    md = [f"# {label('comparison_title', lang)}: {c.monitor} ({c.mode})", "", "![](comparison.png)", "",
          f"## {label('runs', lang)}", "", *_md_table(*runs), "", f"## {label('pairs', lang)}", "",
          *_md_table(*pairs), "", f"**{label('best_group', lang)}**: {', '.join(c.best_group)}", ""]
    md += [f"- {n}" for n in c.notes]
    write_atomic(paths["md"], "\n".join(md) + "\n")
    e = html.escape
    with open(paths["png"], "rb") as fh:
        png = base64.b64encode(fh.read()).decode("ascii")

    def table(head, rows):
        return ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>" +
                "".join("<tr>" + "".join(f"<td>{e(str(x))}</td>" for x in r) + "</tr>" for r in rows) +
                "</table>")
    page = (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>"
            f"{e(label('comparison_title', lang))}</title><style>body{{font-family:system-ui,sans-serif;"
            "max-width:1100px;margin:2em auto}td,th{border:1px solid #ccc;padding:.25em .5em}"
            "table{border-collapse:collapse;margin:.5em 0}img{max-width:100%}</style></head><body>"
            f"<h1>{e(label('comparison_title', lang))}: {e(c.monitor)} ({e(c.mode)})</h1>"
            f"<img alt='' src='data:image/png;base64,{png}'>"
            f"<h2>{e(label('runs', lang))}</h2>{table(*runs)}<h2>{e(label('pairs', lang))}</h2>{table(*pairs)}"
            f"<p><b>{e(label('best_group', lang))}</b>: {e(', '.join(c.best_group))}</p>"
            + "".join(f"<p>{e(n)}</p>" for n in c.notes) + "</body></html>")
    write_atomic(paths["html"], page)
    write_atomic(paths["json"], json.dumps(comparison_document(c), indent=2, ensure_ascii=False))
    return paths


"""Rendering of a Comparison: terminal tables, Markdown, HTML with an overlay plot (templates/
comparison.html), JSON."""

from __future__ import annotations

import json
import os

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..diagnosis.comparison import Comparison
from ..diagnosis.configs import MAX_SEEDS, Budget, ConfigComparison, ConfigPair, entry_row
from ..diagnosis.document import clean
from ..i18n import label, message
from .documents import asset_link, md_text, report_dir, write_atomic
from .page import render_page
from .plots import save_figure
from .text import fmt

SCHEMA = "fitdoctor.comparison/1"
CONFIG_SCHEMA = "fitdoctor.config-comparison/1"


def comparison_document(c: Comparison) -> dict:
    return clean({
        "schema": SCHEMA, "monitor": {"name": c.monitor, "mode": c.mode},
        "runs": [{"name": e.name, "best": e.raw_best, "best_epoch": e.best_epoch,
                  "smoothed_best": e.value, "members": list(e.members), **e.row.to_dict()}
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
        conf = ", ".join(f"{k.split('.')[-1]}={'-' if v is None else v}"     # "-": not in its log
                         for k, v in r.config.items())
        test = ", ".join(f"{k}={v:.3g}" for k, v in r.test.items())
        rows.append([str(i), e.name, conf, f"{fmt(e.raw_best)} ({e.best_epoch:g})", fmt(e.value),
                     fmt(r.last_mean), test or "-", fmt(r.train_at_best), fmt(r.gap_at_best, 3),
                     "-" if r.onset is None else f"{r.onset:g}", label(f"verdict.{r.verdict}", lang)])
    return head, rows


def _pair_rows(c: Comparison, lang: str) -> tuple[list[str], list[list[str]]]:
    head = ["A", "B", "B - A", "95% CI", "p", "p (Holm)", label("significant", lang), label("method", lang)]
    rows = [[p.a, p.b, f"{p.delta:+.4f}", f"[{p.ci95[0]:+.4f}, {p.ci95[1]:+.4f}]",
             fmt(p.p_value, 3), fmt(p.p_holm, 3), label("yes" if p.significant else "no", lang), p.method]
            for p in c.pairs]
    return head, rows


def budget_text(p: ConfigPair, lang: str = "en", monitor: str = "") -> str:
    """One line: the seeds per configuration (at today's N) and the validation size (at
    today's seeds) that would resolve the pair, or why not."""
    b: Budget = p.budget
    n_a, n_b = b.at_seeds
    count = f"{n_a}" if n_a == n_b else f"{n_a}+{n_b}"
    seeds_now = f"{count} 个种子" if lang == "zh" else f"{count} seed{'' if count == '1' else 's'}"
    ev = {"seeds": b.seeds, "n0": b.at_val_size, "max_seeds": MAX_SEEDS, "val_size": b.val_size,
          "val_size_low": b.val_size_low, "seeds_now": seeds_now, "monitor": monitor}
    seeds_key = "ok_no_n" if b.seeds_status == "ok" and not b.at_val_size else b.seeds_status
    val_key = "ok_same" if b.val_status == "ok" and b.val_size == b.val_size_low else b.val_status
    return message("budget.line", {"a": p.a, "b": p.b, "delta": p.delta,
                                   "seeds_text": message(f"budget.seeds.{seeds_key}", ev, lang),
                                   "val_text": message(f"budget.val.{val_key}", ev, lang)}, lang)


def config_document(c: ConfigComparison) -> dict:
    def budget(b: Budget | None):
        if b is None:
            return None
        return {"seeds_per_config": b.seeds, "seeds_status": b.seeds_status, "val_size": b.val_size,
                "val_size_if_epoch_noise_shrinks": b.val_size_low,
                "val_status": b.val_status, "at_seeds": list(b.at_seeds), "at_val_size": b.at_val_size,
                "between_seed_variance_measured": b.tau2_known}
    return clean({
        "schema": CONFIG_SCHEMA, "monitor": {"name": c.monitor, "mode": c.mode}, "group": c.pattern,
        "configs": [entry_row(e) for e in c.entries],
        "pairs": [{"a": p.a, "b": p.b, "delta": p.delta, "ci95": list(p.ci95), "p_value": p.p_value,
                   "p_holm": p.p_holm, "significant": p.significant, "method": p.method,
                   "method_text": label(f"test.{p.method}"), "df": p.df, "budget": budget(p.budget),
                   "budget_text": budget_text(p, monitor=c.monitor) if p.budget else None} for p in c.pairs],
        "best_group": list(c.best_group),
        "notes": [message(code, ev) for code, ev in c.notes]})


def _config_rows(c: ConfigComparison, lang: str, full: bool = True) -> tuple[list[str], list[list[str]]]:
    """One row per configuration; ``full`` adds the best raw peak and the runs (reports)."""
    head = ["#", label("configuration", lang), label("seeds_n", lang), label("mean_smoothed", lang),
            label("interval95", lang), label("seeds_sd", lang), label("between_sd", lang),
            label("within_se", lang), label("interval_how", lang)]
    head += [label("best_raw", lang), label("members", lang)] if full else []
    rows = []
    for i, e in enumerate(c.entries, 1):
        r = entry_row(e)
        ci = "-" if e.ci95 is None else f"[{fmt(e.ci95[0])}, {fmt(e.ci95[1])}]"
        row = [str(i), e.name, str(r["n"]), fmt(r["mean"]), ci, fmt(r["sample_sd"], 3),
               fmt(r["between_seed_sd"], 3), fmt(r["within_run_se"], 3), label(f"interval.{e.interval}", lang)]
        rows.append(row + ([fmt(e.raw_best), ", ".join(e.members)] if full else []))
    return head, rows


def _config_pair_rows(c: ConfigComparison, lang: str) -> tuple[list[str], list[list[str]]]:
    head = ["A", "B", "B - A", "95% CI", "p", "p (Holm)", label("significant", lang), label("method", lang)]
    rows = [[p.a, p.b, f"{p.delta:+.4f}",
             "-" if p.ci95[0] != p.ci95[0] else f"[{p.ci95[0]:+.4f}, {p.ci95[1]:+.4f}]",
             fmt(p.p_value, 3), fmt(p.p_holm, 3), label("yes" if p.significant else "no", lang),
             label(f"test.{p.method}", lang)] for p in c.pairs]
    return head, rows


def _config_text(c: ConfigComparison, lang: str) -> tuple[list[str], list[str]]:
    budgets = [budget_text(p, lang, c.monitor) for p in c.pairs if p.budget]
    return budgets, [message(code, ev, lang) for code, ev in c.notes]


def render_configs_terminal(c: ConfigComparison, console: Console, lang: str = "en") -> None:
    for title, (head, rows), names in (
            (label("configs", lang), _config_rows(c, lang, full=False), {1}),
            (label("pairs", lang), _config_pair_rows(c, lang), {0, 1})):
        t = Table(title=title, title_justify="left", show_edge=False)
        for i, h in enumerate(head):       # a name is folded, never cut: it is what one copies
            t.add_column(h, overflow="fold" if i in names else "ellipsis")
        for r in rows:
            t.add_row(*map(escape, r))
        console.print(t)
    budgets, notes = _config_text(c, lang)
    if budgets:
        console.print(f"{label('budget', lang)}:", highlight=False)
        for line in budgets:
            console.print(f"  {line}", highlight=False, markup=False)
    console.print(f"{label('best_group', lang)}: " + ", ".join(c.best_group), highlight=False, markup=False)
    for n in notes:
        console.print(n, style="dim", highlight=False, markup=False)


def render_comparison_terminal(c: Comparison, console: Console, lang: str = "en") -> None:
    for title, (head, rows), names in ((label("runs", lang), _run_rows(c, lang), {1}),
                                       (label("pairs", lang), _pair_rows(c, lang), {0, 1})):
        t = Table(title=title, title_justify="left", show_edge=False)
        for i, h in enumerate(head):       # a name is folded, never cut: it is what one copies
            t.add_column(h, overflow="fold" if i in names else "ellipsis")
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
    return ["| " + " | ".join(map(md_text, head)) + " |", "|" + "---|" * len(head)] + \
        ["| " + " | ".join(map(md_text, r)) + " |" for r in rows]


def plot_comparison(histories: dict, c: Comparison | ConfigComparison, path: str) -> None:
    """The runs' curves; for configurations, one colour per configuration and a second panel
    with each configuration's interval (a band) and its runs' smoothed bests (dots)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grouped = isinstance(c, ConfigComparison)
    cols = 2 if grouped or c.expected_max else 1
    fig, axes = plt.subplots(1, cols, figsize=(6 * cols, 3.6), squeeze=False)
    ax = axes[0][0]
    if grouped:
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, e in enumerate(c.entries):
            for j, name in enumerate(e.members):
                h = histories[name]
                ax.plot(h.epochs, h.values(c.monitor), "-", lw=1.0, color=colours[k % len(colours)],
                        label=f"{e.name} (n={e.stats.n})" if j == 0 else None)
    else:
        for name, h in histories.items():
            ax.plot(h.epochs, h.values(c.monitor), "-", lw=1.2, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(c.monitor)
    ax.legend(fontsize=7)
    if grouped:
        bx = axes[0][1]
        for k, e in enumerate(c.entries):
            colour = colours[k % len(colours)]
            if e.ci95 is not None:
                bx.fill_betweenx([k - 0.3, k + 0.3], e.ci95[0], e.ci95[1], color=colour, alpha=0.25)
            bx.plot([e.value, e.value], [k - 0.3, k + 0.3], "-", color=colour, lw=2)
            bx.plot(e.values, [k] * len(e.values), "o", color=colour, ms=4)
        bx.set_yticks(range(len(c.entries)), [e.name for e in c.entries], fontsize=7)
        bx.invert_yaxis()
        bx.set_xlabel(f"smoothed best {c.monitor}: 95% interval, runs")
    elif c.expected_max:
        bx = axes[0][1]
        bx.plot(range(1, len(c.expected_max) + 1), c.expected_max, "o-")
        bx.set_xlabel("trials")
        bx.set_ylabel(f"expected best {c.monitor}")
    fig.tight_layout()
    save_figure(fig, path)


def write_comparison(c: Comparison | ConfigComparison, histories: dict, out_dir: str,
                     lang: str = "en", params: list[str] | None = None,
                     diagnoses: dict | None = None) -> dict[str, str]:
    """comparison.md/.html/.png/.json in ``out_dir``, each run's own report under runs/, one
    plotly.min.js; ``params`` (a sweep's keys) adds the parameters-vs-result view; ``diagnoses``
    (by name: what compare_inputs made) spares diagnosing each run again."""
    from .explore import comparison_blocks, run_reports
    from .interactive import scripts

    report_dir(out_dir, "comparison.md, comparison.html, comparison.png and comparison.json")
    paths = {k: os.path.join(out_dir, n) for k, n in (("png", "comparison.png"), ("md", "comparison.md"),
                                                      ("html", "comparison.html"), ("json", "comparison.json"))}
    plot_comparison(histories, c, paths["png"])
    if isinstance(c, ConfigComparison):
        sections = [(label("configs", lang), _config_rows(c, lang)), (label("pairs", lang), _config_pair_rows(c, lang))]
        budgets, notes = _config_text(c, lang)
        doc = config_document(c)
    else:
        sections = [(label("runs", lang), _run_rows(c, lang)), (label("pairs", lang), _pair_rows(c, lang))]
        budgets, notes = [], list(c.notes)
        doc = comparison_document(c)
    md = [f"# {label('comparison_title', lang)}: {md_text(c.monitor)} ({c.mode})", "", "![](comparison.png)", ""]
    for title, table_ in sections:
        md += [f"## {title}", "", *_md_table(*table_), ""]
    if budgets:
        md += [f"## {label('budget', lang)}", "", *[f"- {md_text(b)}" for b in budgets], ""]
    md += [f"**{label('best_group', lang)}**: {md_text(', '.join(c.best_group))}", ""]
    md += [f"- {md_text(n)}" for n in notes]
    reports = run_reports(histories, out_dir, lang, diagnoses=diagnoses)
    md += ["", f"## {label('run_reports', lang)}", ""]
    md += [f"- [{md_text(n)}]({href[:-len('html')]}md)" for n, (_, href) in reports.items()]
    write_atomic(paths["md"], "\n".join(md) + "\n")
    page = render_page("comparison.html", lang=lang, monitor=c.monitor, mode=c.mode,
                       blocks=comparison_blocks(c, histories, reports, params, lang),
                       sections=[(title, *t) for title, t in sections], budgets=budgets,
                       best_group=c.best_group, notes=notes, scripts=scripts(asset_link(out_dir, out_dir)))
    write_atomic(paths["html"], page)
    write_atomic(paths["json"], json.dumps(doc, indent=2, ensure_ascii=False))
    return paths


def document_for(c: Comparison | ConfigComparison) -> dict:
    """The --json document of either comparison."""
    return config_document(c) if isinstance(c, ConfigComparison) else comparison_document(c)


def render_for(c: Comparison | ConfigComparison, console: Console, lang: str = "en") -> None:
    """Either comparison's terminal tables."""
    if isinstance(c, ConfigComparison):
        render_configs_terminal(c, console, lang)
    else:
        render_comparison_terminal(c, console, lang)

"""Markdown and self-contained HTML reports (the HTML from templates, through page.py), and
writing every output file atomically (temp file + rename) so that a crash never leaves half a
report."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets

from ..diagnosis.document import notes_text, to_document
from ..diagnosis.types import Diagnosis
from ..errors import UsageError, arg
from ..history.core import History
from ..i18n import label
from .page import render_page
from .plots import plot_curves
from .text import (finding_text, headline, patch_yaml, phase_header, phase_rows,
                   recommendation_text, shown_findings)


def report_dir(out_dir: str, files: str) -> None:
    """Make ``out_dir`` for the report files, or say plainly why it cannot be one."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise UsageError(f"{arg('out', out_dir, lib=out_dir)}: not a directory. {arg('out', lib='It')} "
                         f"names a directory for {files}; give a new or existing directory.")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{arg('out', out_dir, lib=out_dir)}: cannot create it ({exc.strerror}). Give a directory "
                         "you can write to.") from None


def check_target(path: str) -> None:
    """A UsageError unless ``path`` can be written by write_atomic: its directory exists and
    nothing but a regular file is there (checked before the work that produces the data)."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.lexists(path) and (os.path.islink(path) or not os.path.isfile(path)):
        kind = "a symlink" if os.path.islink(path) else \
            "a directory" if os.path.isdir(path) else "not a regular file"
        raise UsageError(f"{path}: {kind}; give the path of a file to write.")
    if not os.path.isdir(directory):
        raise UsageError(f"{path}: its directory {directory} does not exist.")


def write_atomic(path: str, data: str | bytes) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it). Only a regular file
    is replaced: a directory, a symlink, a device or a FIFO there is a UsageError, never swapped
    for a file; so is a directory that cannot be written. The file gets the mode of the one it
    replaces, or a new file's under the user's umask (the temporary file's 0600 is not kept)."""
    check_target(path)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".tmp-{secrets.token_hex(6)}-{os.path.basename(path)}")
    try:       # 0666: the kernel applies the user's umask (mkstemp's 0600 would stay)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write in {directory} ({exc.strerror}).") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())                 # on disk before the rename makes it the file
        if os.path.exists(path):                  # a replaced file keeps its mode
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def md_text(s: object) -> str:
    """Text from a log or a config in a Markdown report: HTML in it stays text (a run named
    "<img src=x onerror=...>" is shown, not rendered, by a viewer that passes HTML through), so
    does link syntax (a run named "[x](javascript:...)" is not a link: "](" and "][" are escaped;
    an interval "[0.1, 0.2]" is left as it is), and a table cell or list item stays one line."""
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("](", "]\\(").replace("][", "]\\[")
            .replace("|", "\\|").replace("\n", " ").replace("\r", " "))


def md_fence(code: str) -> str:
    """The fence of a Markdown code block holding ``code``: longer than any run of backticks in
    it, so that no line of it (a config value, a metric's name) can close the block; inside the
    block its text is shown as it is, HTML included, never rendered."""
    return "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", code)), default=0))


def render_markdown(d: Diagnosis, lang: str = "en", image: str | None = "curves.png") -> str:
    h = headline(d, lang)
    out = [f"# {label('report_title', lang)}: {md_text(d.name)}", "",
           f"- **{label('source', lang)}**: {md_text(d.source)} ({d.format})",
           f"- **{label('verdict', lang)}**: {h['verdict']}",
           f"- **{label('monitor', lang)}**: {md_text(h['monitor'])}",
           f"- **{label('best', lang)}**: {h['best']}",
           f"- **{label('final', lang)}**: {h['final']}"]
    if "lr" in h:
        out.append(f"- **{label('lr', lang)}**: {h['lr']}")
    out.append("")
    if image:
        out += [f"![{label('curves', lang)}]({image})", ""]
    if d.phases:
        header = phase_header(d, lang)
        out += [f"## {label('phases', lang)}", "", "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in phase_rows(d, lang)]
        out.append("")
    out += [f"## {label('findings', lang)}", ""]
    out += [f"- **{label(f.severity, lang)}** `{f.code}`: {md_text(finding_text(f, lang))}"
            for f in shown_findings(d)]
    out += ["", f"## {label('recommendations', lang)}", ""]
    for i, r in enumerate(d.recommendations, 1):
        title, why = recommendation_text(r, lang)
        patch = patch_yaml(r.patch)
        fence = md_fence(patch)
        out += [f"{i}. **{md_text(title)}** — {md_text(why)}", "", f"   {fence}yaml"]
        out += ["   " + ln for ln in patch.splitlines()]
        out += [f"   {fence}", ""]
    if not d.recommendations:
        out += [label("none", lang), ""]
    notes = notes_text(d, lang)
    if notes:
        out += [f"## {label('notes', lang)}", ""] + [f"- {md_text(n)}" for n in notes] + [""]
    return "\n".join(out)


def render_html(d: Diagnosis, lang: str = "en", png: bytes | None = None, figure: dict | None = None,
                asset: str | None = None) -> str:
    """The report page (templates/report.html). With ``figure`` (figures.run_figure) and
    ``asset`` (the relative link to plotly.min.js): the interactive plot, curves.png next to the
    page as its fallback; else ``png`` embedded."""
    from .interactive import figure_block, scripts

    interactive = figure is not None and bool(asset)
    return render_page(
        "report.html", lang=lang, name=d.name, source=d.source, format=d.format, head=headline(d, lang),
        figure=figure_block(figure, "curves", lang, fallback="curves.png") if interactive else None,
        png=base64.b64encode(png).decode("ascii") if png else None,
        phase_header=phase_header(d, lang), phase_rows=phase_rows(d, lang),
        findings=[(f.severity, f.code, finding_text(f, lang)) for f in shown_findings(d)],
        recommendations=[(*recommendation_text(r, lang), patch_yaml(r.patch)) for r in d.recommendations],
        notes=notes_text(d, lang), scripts=scripts(asset) if interactive else None)


def asset_link(asset_dir: str | None, page_dir: str) -> str:
    """plotly.min.js written (once) in ``asset_dir`` (default: the page's own folder); the
    relative link to it from a page in ``page_dir``."""
    from .interactive import write_asset

    path = write_asset(asset_dir or page_dir)
    return os.path.relpath(path, page_dir).replace(os.sep, "/")


def write_reports(h: History, d: Diagnosis, out_dir: str, lang: str = "en",
                  asset_dir: str | None = None) -> dict[str, str]:
    """report.md, report.html (interactive plot), curves.png and diagnosis.json in ``out_dir``;
    plotly.min.js in ``asset_dir`` (default ``out_dir``), where several reports share one."""
    from .figures import run_figure

    report_dir(out_dir, "report.md, report.html, curves.png and diagnosis.json")
    paths = {k: os.path.join(out_dir, n) for k, n in (("png", "curves.png"), ("md", "report.md"),
                                                      ("html", "report.html"),
                                                      ("json", "diagnosis.json"))}
    plot_curves(h, d, paths["png"], lang)
    asset = asset_link(asset_dir, out_dir)
    write_atomic(paths["md"], render_markdown(d, lang))
    write_atomic(paths["html"], render_html(d, lang, figure=run_figure(h, d, lang), asset=asset))
    write_atomic(paths["json"], json.dumps(to_document(d), indent=2, ensure_ascii=False))
    return paths

"""The terminal summary: verdict first, then phases, findings and recommendations."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..diagnosis.document import notes_text
from ..diagnosis.types import Diagnosis
from ..i18n import label
from .text import (finding_text, headline, patch_yaml, phase_header, phase_rows,
                   recommendation_text, shown_findings)

_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def render_terminal(d: Diagnosis, console: Console, lang: str = "en") -> None:
    h = headline(d, lang)
    colour = "red" if d.verdict in ("non_finite", "divergence", "overfitting") else \
        "yellow" if d.verdict in ("underfitting", "still_improving", "too_short") else "green"
    top = Text()
    top.append(f"{label('verdict', lang)}: ", style="bold")
    top.append(h["verdict"] + "\n", style=f"bold {colour}")
    keys = [k for k in ("monitor", "best", "final", "lr") if k in h]
    for key in keys:
        top.append(f"{label(key, lang)}: ", style="bold")
        top.append(h[key] + ("\n" if key != keys[-1] else ""))
    console.print(Panel(top, title=Text(d.name), title_align="left", border_style=colour))
    if d.phases:
        t = Table(title=label("phases", lang), title_justify="left", show_edge=False)
        for col in phase_header(d, lang):
            t.add_column(col)
        for row in phase_rows(d, lang):
            t.add_row(*row)
        console.print(t)
    if shown_findings(d):
        console.print(Text(label("findings", lang), style="bold"))
        for f in shown_findings(d):
            line = Text("  ")
            line.append(f"[{label(f.severity, lang)}] ", style=_STYLE[f.severity])
            line.append(f"{f.code}: ", style="bold")
            line.append(finding_text(f, lang))
            console.print(line)
    if d.recommendations:
        console.print(Text(label("recommendations", lang), style="bold"))
        blocks = []
        for i, r in enumerate(d.recommendations, 1):
            title, why = recommendation_text(r, lang)
            body = Text()
            body.append(f"{i}. {title}\n", style="bold green")
            body.append(why + "\n", style="default")
            body.append(patch_yaml(r.patch), style="dim")
            blocks.append(body)
        console.print(Panel(Group(*blocks), border_style="green"))
    notes = notes_text(d, lang)
    if notes:
        console.print(Text(f"{label('notes', lang)}: " + "; ".join(notes), style="dim"))

"""The one way fitdoctor writes HTML: Jinja2 templates (report/templates/) with autoescape on
for every template, so that a value put in a page is text, escaped by construction. Strings from
logs and configs (run names, metric names, config values, file paths) never need an escape call.

Raw markup enters a page in two ways only, both greppable:
- ``trusted(...)``: for markup fitdoctor itself produced (the figures' JSON, made safe for its
  script tag by interactive.script_json; the page's own script). Never for a string that comes
  from a log, a config or a path. The templates use no ``|safe`` and turn autoescape off nowhere;
  tests/report/test_escaping.py holds both rules and lists every trusted() call.
- a fragment: the output of ``render_fragment``, a template rendered with the same autoescape
  (a figure block, the runs' list), put whole into another template.

Jinja2 is imported on first use (a CLI command that writes no page does not pay for it)."""

from __future__ import annotations

from functools import cache
from typing import Any

from markupsafe import Markup


@cache
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from ..i18n import label

    env = Environment(loader=PackageLoader("fitdoctor.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=False)
    env.globals["label"] = label
    return env


def render_page(template: str, **values: Any) -> str:
    """A whole page: ``template`` (a file in report/templates/) rendered with ``values``."""
    return _env().get_template(template).render(**values)


def render_fragment(template: str, **values: Any) -> Markup:
    """A part of a page, rendered like a page (values escaped), for another template to hold."""
    return Markup(render_page(template, **values))


def trusted(markup: str) -> Markup:
    """``markup`` put into a page as it is. Only for markup fitdoctor itself made; never for a
    string from a log, a config or a path (those go into a template as plain values)."""
    return Markup(markup)

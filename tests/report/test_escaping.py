"""Every page type fitdoctor writes, fed hostile strings where a log or a config can put them (a
run's name, a metric's name, a config value, a file path): in the HTML the raw tags never
appear and no element or attribute comes from the strings (they are escaped by construction:
report/page.py); in the Markdown reports the HTML in them stays text."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from html.parser import HTMLParser
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from fitdoctor.demo import _index_page
from fitdoctor.diagnosis import diagnose
from fitdoctor.diagnosis.comparison import compare, run_input
from fitdoctor.diagnosis.configs import compare_configs
from fitdoctor.history import make_history
from fitdoctor.integrations.track import track
from fitdoctor.report import render_html, render_markdown, write_reports
from fitdoctor.report.comparison import write_comparison
from fitdoctor.report.index import write_store_index

SCRIPT = "<script>alert(1)</script>"
IMG = "\"><img src=x onerror=alert(1)>"
IMG1 = "'><img src=x onerror=alert(2)>"
EVIL = SCRIPT + IMG + IMG1
RAW = ("<script>alert", "alert(1)</script>", "<img src=x")
METRIC = "val_acc" + SCRIPT + IMG                     # a column name, as a reader keeps it
PATH = "/logs/<img src=x onerror=alert(1)>'\"/run.csv"


class Elements(HTMLParser):
    """The page's elements as a browser's tokenizer sees them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def assert_inert(page: str, where: str) -> None:
    """No hostile tag in ``page``, raw or as an element; no attribute from a hostile string; each
    script is fitdoctor's (the library, the controller, or figure data without a '<')."""
    for raw in RAW:
        assert raw not in page, f"{where}: {raw!r} unescaped"
    els = Elements(page)
    for tag, attrs in els.tags:
        assert not any(k.startswith("on") for k in attrs), f"{where}: <{tag} {attrs}>"
        assert (tag, attrs.get("src")) != ("img", "x"), where
    for attrs, text in els.scripts:
        if "src" in attrs:
            assert re.fullmatch(r"(\.\./)*plotly\.min\.js", attrs["src"]), f"{where}: {attrs}"
        elif attrs.get("type") == "application/json":
            assert "<" not in text and ">" not in text, where
        else:
            assert "alert(" not in text and text.lstrip().startswith("(function ()"), where


def shown(page: str) -> bool:
    """The hostile string is on the page, as text (so the checks above are not vacuous)."""
    return "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def outside_code(md: str) -> str:
    """The Markdown outside its fenced code blocks (inside one, a viewer shows HTML as text). A
    block ends at a line of as many backticks or more, however indented: a stricter reading than
    CommonMark's, so that a line that could end it in some viewer counts as ending it."""
    out, fence = [], 0
    for line in md.splitlines():
        m = re.fullmatch(r"\s*(`{3,})(.*)", line)
        if not fence and m:
            fence = len(m[1])
        elif fence and m and len(m[1]) >= fence and not m[2].strip():
            fence = 0
        elif not fence:
            out.append(line)
    return "\n".join(out)


def assert_md_inert(md: str, where: str) -> None:
    text = outside_code(md)
    assert "<script" not in text and "<img" not in text, where
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text or "&lt;img src=x" in text, where


def history(name: str, k: int, path: str = PATH):
    """A hostile metric name as its monitor, a hostile config value, read from a hostile path."""
    e = np.arange(12, dtype=float)
    acc = 0.5 + 0.3 * (1 - np.exp(-(e + 1) * (k + 1) * 0.2)) + 0.01 * ((e + k) % 2)
    table = pd.DataFrame({"epoch": e, "train_acc": acc + 0.05, METRIC: acc, "train_loss": 1.5 - acc})
    h = make_history(table, source=path, format="csv", name=name,
                     config={"training.learning_rate": 1e-3 * (k + 1), "training.seed": k % 2,
                             "model.head": EVIL if k % 2 == 0 else k, EVIL: k})
    return h.with_options(monitor=METRIC, mode="max")


@pytest.fixture(scope="module")
def runs():
    hs = [history(n, k) for k, n in enumerate((f"{EVIL}-s0", f"{EVIL}-s1", "b-s0", "b-s1"))]
    return {h.name: (h, diagnose(h)) for h in hs}


def test_run_report(runs, tmp_path):
    h, d = runs[f"{EVIL}-s0"]
    assert d.monitor == METRIC
    paths = write_reports(h, d, str(tmp_path))
    page = open(paths["html"], encoding="utf-8").read()
    assert_inert(page, "report.html")
    assert shown(page) and "val_acc&lt;script&gt;" in page and "/logs/&lt;img src=x" in page
    md = open(paths["md"], encoding="utf-8").read()
    assert_md_inert(md, "report.md")
    assert "val_acc&lt;script&gt;" in md and "/logs/&lt;img src=x" in md
    # the other branch: the PNG embedded, no script at all
    png = render_html(d, "zh", png=b"\x89PNG fake")
    assert_inert(png, "render_html(png=)")
    assert shown(png) and "<img alt='曲线' src='data:image/png;base64,iVBORyBmYWtl'>" in png


def test_diagnosis_text_from_a_hostile_metric_and_notes(runs):
    """Findings, recommendations and notes quote the metric's name: escaped there too."""
    h, d = runs[f"{EVIL}-s0"]
    d = dataclasses.replace(d, notes=[*d.notes, f"a note quoting {EVIL}"])
    page = render_html(d)
    assert_inert(page, "render_html")
    assert "The best val_acc&lt;script&gt;" in page and "a note quoting &lt;script&gt;" in page
    md = render_markdown(d)
    assert_md_inert(md, "render_markdown")
    assert "The best val_acc&lt;script&gt;" in md and "a note quoting &lt;script&gt;" in md


def test_a_config_value_cannot_close_a_markdown_code_block(runs):
    """A recommendation's YAML is a code block: shown as it is, and never ended by its text."""
    h, d = runs["b-s0"]
    hostile = "x\n```\n<script>alert(1)</script>\n````\n<img src=x onerror=alert(1)>"
    recs = [dataclasses.replace(r, patch={"monitor": hostile, "training": {"note": hostile}})
            for r in d.recommendations]
    assert recs
    md = render_markdown(dataclasses.replace(d, recommendations=recs, name=EVIL))
    assert_md_inert(md, "render_markdown")
    assert "`````yaml" in md and "<script>alert(1)</script>" in md     # inside the block: as it is


@pytest.mark.parametrize("kind", ["runs", "configs", "sweep"])
def test_comparison_pages(runs, tmp_path, kind):
    inputs = [run_input(n, d, h) for n, (h, d) in runs.items()]
    histories = {n: h for n, (h, _) in runs.items()}
    c = compare_configs(inputs, r"(.*)-s\d") if kind == "configs" else compare(inputs)
    assert c.monitor == METRIC
    params = ["training.learning_rate", "model.head", EVIL] if kind == "sweep" else None
    paths = write_comparison(c, histories, str(tmp_path), params=params,
                             diagnoses={n: d for n, (_, d) in runs.items()})
    page = open(paths["html"], encoding="utf-8").read()
    assert_inert(page, f"comparison.html ({kind})")
    assert shown(page) and "val_acc&lt;script&gt;" in page
    md = open(paths["md"], encoding="utf-8").read()
    assert_md_inert(md, f"comparison.md ({kind})")
    if kind == "runs":                       # the differing config values are in the runs' table
        assert "head=&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "head=&lt;script&gt;alert(1)&lt;/script&gt;" in md
    for sub in (tmp_path / "runs").iterdir():     # each run's own report
        assert_inert((sub / "report.html").read_text(encoding="utf-8"), str(sub))
        assert_md_inert((sub / "report.md").read_text(encoding="utf-8"), str(sub))


def test_store_index(tmp_path):
    store = str(tmp_path / "s.db")
    for i, name in enumerate((EVIL, "plain")):
        with track(name, config={"note": EVIL, EVIL: i}, store=store) as r:
            for e in range(10):
                k = 1 - math.exp(-(e + 1) * 0.3 * (i + 1))
                r.log(epoch=e, train_acc=0.5 + 0.45 * k, val_acc=0.5 + 0.3 * k + 0.01 * (e % 2))
    with track(EVIL + "-empty", store=store):
        pass                                  # listed with its note, no report
    page = open(write_store_index(store, str(tmp_path / "idx")), encoding="utf-8").read()
    assert_inert(page, "index.html")
    assert shown(page) and page.count("<tr>") == 4
    for sub in (tmp_path / "idx" / "runs").iterdir():
        assert_inert((sub / "report.html").read_text(encoding="utf-8"), str(sub))


def test_demo_index():
    def page(name):
        return NS(name=name, verdict="overfitting", best=NS(value=0.8, epoch=3.0)), \
            NS(epochs=7, stop_reason=EVIL), f"{name}/report.html"
    rec = NS(title=EVIL, rationale=EVIL)
    pair = NS(a=EVIL, b="b", delta=0.01, ci95=(-0.01, 0.03), p_value=0.04, method=EVIL, significant=True)
    for args in (([page(EVIL), page("b")], rec, pair), ([page(EVIL)], None, None)):
        text = _index_page(*args)
        assert_inert(text, "demo index.html")
        assert shown(text)


def test_the_checks_catch_an_unescaped_page():
    """The checks themselves: a page with the string put in raw fails each of them."""
    for bad in (f"<p>{EVIL}</p>", f"<a href='{IMG1}'>x</a>", f"<b title=\"{IMG}\">x</b>"):
        with pytest.raises(AssertionError):
            assert_inert(f"<html><body>{bad}</body></html>", "bad")
    with pytest.raises(AssertionError):
        assert_md_inert(f"# {EVIL}", "bad")


def test_raw_markup_only_where_fitdoctor_made_it():
    """The templates escape every value (no |safe, autoescape never off) and raw markup enters
    only through page.trusted(), at the known places: a new one is a deliberate change here."""
    report = Path(__file__).resolve().parents[2] / "src" / "fitdoctor" / "report"
    for t in (report / "templates").iterdir():
        text = t.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|{%-?\s*autoescape|Markup", text), t.name
    calls = {}
    for py in report.parent.rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        for m in re.finditer(r"(?<!def )\btrusted\((\w+)", text):
            calls.setdefault(py.name, []).append(m[1])
        if py.name != "page.py":
            assert "Markup(" not in text, py
    assert calls == {"interactive.py": ["script_json", "_CONTROLLER"]}, calls


def test_link_syntax_from_a_log_is_not_a_link_in_markdown(runs):
    """A run named "[x](javascript:...)" or "![x](http://...)" is not a link or an image in the
    Markdown report (a viewer that blocks HTML still renders Markdown's own links); an interval
    "[0.1, 0.2]" is left as it is."""
    h, d = runs["b-s0"]
    d = dataclasses.replace(d, name="[click](javascript:alert(1)) ![i](http://x/y.png) [r][1]",
                            notes=[*d.notes, "an interval [0.1, 0.2]"])
    md = render_markdown(d)
    assert "](javascript" not in md and "](http" not in md and "][1]" not in md
    assert "[click]\\(javascript:alert(1))" in md and "[r]\\[1]" in md and "an interval [0.1, 0.2]" in md

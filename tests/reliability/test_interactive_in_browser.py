"""The interactive pages opened in headless Chromium (Debian's; `make test-all` installs it),
offline: every proxy refused and every host name unresolvable. The figures draw the number of
traces their JSON holds, moving the mouse over the plot shows the value under it, the axis and
smoothing controls redraw, the page loads nothing but files next to it, and a run named with
script runs none. Marked slow."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app

from ..conftest import SEED_LOGS
from ..report.test_interactive import EVIL, figures, stored_runs

pytestmark = pytest.mark.slow

# Runs in the page after the report's own scripts: waits for the figures, then records what a
# user would see into <body data-*> for --dump-dom to return.
PROBE = r"""<script>
function fdProbe() {
  if (!document.documentElement.hasAttribute('data-fd-ready')) return setTimeout(fdProbe, 50);
  var box = document.querySelector('.fd-figure'), gd = box.querySelector('.fd-plot');
  var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  var drag = gd.querySelector('.nsewdrag'), X = %(x)s, Y = %(y)s, at = gd.getBoundingClientRect();
  var cx = at.left + xa._offset + xa.l2p(X), cy = at.top + ya._offset + ya.l2p(Y);
  drag.dispatchEvent(new MouseEvent('mousemove', {clientX: cx, clientY: cy, bubbles: true}));
  setTimeout(function () {
    document.body.setAttribute('data-hover', gd.querySelector('.hoverlayer').textContent);
    var sel = box.querySelector('select.fd-axis');
    if (sel) { sel.value = sel.options[sel.options.length - 1].value; sel.dispatchEvent(new Event('change')); }
    var slider = box.querySelector('input.fd-smooth');
    slider.value = '0.9'; slider.dispatchEvent(new Event('input'));
    setTimeout(function () {
      document.body.setAttribute('data-x-title', gd._fullLayout.xaxis.title.text);
      document.body.setAttribute('data-smoothed-y', JSON.stringify(gd.data[1].y.slice(0, 3)));
      document.body.setAttribute('data-done', '1');
    }, 300);
  }, 300);
}
fdProbe();
</script></body>"""


def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "make test-all installs Debian's chromium for this test"
    return found


def open_offline(page, tmp_path) -> str:
    """The DOM after the scripts ran, with no way out to the network."""
    return browse(page, tmp_path)[0]


def browse(page, tmp_path) -> tuple[str, list[str]]:
    """The DOM after the scripts ran, and the URLs the page asked the network for (from
    Chromium's net log: requests with an initiator; the browser's own background requests have
    none), with every proxy refused and no host name resolving."""
    netlog = tmp_path / f"net-{page.stem}.json"
    r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                        f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
                        f"--log-net-log={netlog}", "--window-size=1200,1600", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=180)
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    asked = [e["params"]["url"] for e in log["events"] if e["type"] == start
             and e.get("params", {}).get("initiator", "not an origin") != "not an origin"]
    return r.stdout, asked


def probed(page, tmp_path, x, y) -> dict[str, str]:
    """Open a copy of ``page`` (beside it, so its links hold) with PROBE added; body's data-*."""
    probe = page.with_name("probe-" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE % {"x": x, "y": y}),
                     encoding="utf-8")
    dom = open_offline(probe, tmp_path)
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:2000]
    attrs = dict(re.findall(r'data-([\w-]+)="([^"]*)"', body.group(1)))
    return {k: v.replace("&quot;", '"').replace("&amp;", "&") for k, v in attrs.items()}


def drawn(dom: str) -> dict[str, tuple[int, int]]:
    """Figure id -> (traces in its JSON, traces drawn in its SVG)."""
    out = {}
    for tag in re.findall(r"<div [^>]*class=\"fd-figure\"[^>]*>", dom):
        fid = re.search(r'id="([^"]+)"', tag).group(1)
        out[fid] = (int(re.search(r'data-traces="(\d+)"', tag).group(1)),
                    int(re.search(r'data-rendered="(\d+)"', tag).group(1)))
    return out


def test_run_report_draws_hovers_and_loads_nothing_from_outside(tmp_path):
    r = CliRunner().invoke(app, ["diagnose", str(SEED_LOGS / "sst-try1.log"), "--val-size", "1101",
                                 "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    page = tmp_path / "rep" / "report.html"
    dom, asked = browse(page, tmp_path)
    assert 'data-fd-ready="1"' in dom
    assert drawn(dom) == {"curves": (7, 7)}
    assert asked == []                                # nothing asked of the network
    control = page.with_name("control.html")          # the same page with one outside image asks
    control.write_text(page.read_text().replace("</body>", "<img src='https://cdn.example.org/x.png'></body>"))
    assert browse(control, tmp_path)[1] == ["https://cdn.example.org/x.png"]
    seen = probed(page, tmp_path, 13, 0.419)          # the best epoch: val_acc 0.419
    assert seen.get("done") == "1", seen
    assert "0.419" in seen["hover"] and "val_acc" in seen["hover"], seen["hover"]
    # the smoothing slider at 0.9: validation redrawn as TensorBoard's debiased moving average
    raw = figures(page)["curves"]["figure"]["data"][1]["y"][:3]
    ema, want = 0.0, []
    for k, y in enumerate(raw, 1):
        ema = 0.9 * ema + 0.1 * y
        want.append(ema / (1 - 0.9 ** k))
    assert json.loads(seen["smoothed-y"]) == pytest.approx(want) and want[2] != pytest.approx(raw[2])


def test_comparison_and_index_draw_every_trace_and_switch_axes(tmp_path):
    logs = [str(SEED_LOGS / f"sst-try{i}.log") for i in (1, 3, 4)]
    assert CliRunner().invoke(app, ["compare", *logs, "--out", str(tmp_path / "cmp")]).exit_code == 0
    dom = open_offline(tmp_path / "cmp" / "comparison.html", tmp_path)
    assert drawn(dom) == {"overlay": (12, 12)}
    store = tmp_path / "s.db"
    stored_runs(store, n=3, name=lambda i: EVIL if i == 0 else f"lr-{i}")
    assert CliRunner().invoke(app, ["report", "--store", str(store), "--out", str(tmp_path / "idx")]).exit_code == 0
    index = tmp_path / "idx" / "index.html"
    n = len(figures(index)["overlay"]["figure"]["data"])
    dom, asked = browse(index, tmp_path)
    assert drawn(dom) == {"overlay": (n, n)} and n == 3 * 6     # val, band, trend, 2 losses, LR
    assert asked == []
    assert "<title>fitdoctor runs</title>" in dom and "pwned" not in dom.split("<body")[0]
    assert "&lt;/script&gt;&lt;script&gt;" in dom              # the name is shown as text
    seen = probed(index, tmp_path, 5, 0.6)
    assert seen.get("done") == "1" and seen["x-title"] == "wall clock (s)", seen

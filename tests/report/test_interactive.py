"""The interactive HTML pages as written: one plotly.min.js per report folder, the figures' JSON
(traces, axes, controls), the links between pages, and escaping by construction. Rendering in a
real browser: tests/reliability/test_interactive_in_browser.py (slow)."""

from __future__ import annotations

import json
import math
import re

import pytest
from typer.testing import CliRunner

from fitdoctor import track
from fitdoctor.cli import app
from fitdoctor.report.interactive import ASSET, script_json, write_asset

from ..conftest import SEED_LOGS

EVIL = "</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>"
FIGURE = re.compile(r"<script type='application/json' class='fd-data' data-for='([\w-]+)'>(.*?)</script>", re.S)


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def figures(page) -> dict[str, dict]:
    """The figures embedded in a page: id -> {figure: {data, layout, fd}, words, kinds}."""
    text = page.read_text(encoding="utf-8")
    return {fid: json.loads(body) for fid, body in FIGURE.findall(text)}


def assets(folder) -> list:
    return sorted(p.relative_to(folder) for p in folder.rglob(ASSET))


def stored_runs(store, n=3, name=lambda i: f"lr-{i}"):
    for i in range(n):
        lr = 1e-4 * 3 ** i
        with track(name(i), config={"training": {"learning_rate": lr, "seed": 0}}, store=str(store)) as r:
            for e in range(12):
                k = 1 - math.exp(-(e + 1) * lr * 300)
                r.log(epoch=e, step=50 * (e + 1), epoch_time=2.0, lr=lr, train_loss=1.5 - k,
                      val_loss=1.6 - 0.8 * k + 0.01 * (e % 3), train_acc=0.5 + 0.45 * k,
                      val_acc=0.5 + 0.35 * k + 0.01 * (e % 2))


def test_a_run_report_has_its_figure_and_one_asset(tmp_path):
    r = run("diagnose", SEED_LOGS / "sst-try1.log", "--val-size", "1101", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert assets(tmp_path) == [tmp_path.joinpath(ASSET).relative_to(tmp_path)]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"<script src='{ASSET}'></script>" in page
    assert not re.search(r"https?://", page)          # nothing to fetch: no CDN, no font
    fig = figures(tmp_path / "report.html")["curves"]["figure"]
    kinds = [t["kind"] for t in fig["fd"]["traces"]]
    # train and validation accuracy, the noise band and trend, the best value and the true best
    # level with its interval, the training loss (the log has no LR)
    assert kinds == ["train", "val", "band", "trend", "best", "best", "train"]
    assert len(fig["data"]) == 7 and [t["name"] for t in fig["data"][:2]] == ["train_acc", "val_acc"]
    true_level = fig["data"][5]
    assert true_level["y"][0] == pytest.approx(0.397, abs=0.002)          # the report's figures
    assert true_level["error_y"]["array"][0] > 0 and true_level["x"] == [13.0]
    assert [t["smooth"] for t in fig["fd"]["traces"]] == [True, True, False, False, False, False, True]
    # the phases and the onset are drawn (three shaded spans: underfit 0-10, fit 11-12, overfit
    # 13-49; a dotted line at 13)
    shapes = fig["layout"]["shapes"]
    assert [s["type"] for s in shapes] == ["rect", "rect", "rect", "line"]
    assert [(s["x0"], s["x1"]) for s in shapes] == [(0, 10.5), (10.5, 12.5), (12.5, 49), (13, 13)]
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"      # the PNG stays


def test_the_asset_is_written_once_and_shared_by_every_page_of_a_folder(tmp_path):
    r = run("diagnose", SEED_LOGS / "sst-try3.log", SEED_LOGS / "sst-try4.log", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert [str(p) for p in assets(tmp_path)] == [ASSET]
    for sub in ("sst-try3.log", "sst-try4.log"):
        assert f"<script src='../{ASSET}'></script>" in (tmp_path / sub / "report.html").read_text()
    before = (tmp_path / ASSET).stat()
    write_asset(str(tmp_path))                   # already there, identical: not written again
    after = (tmp_path / ASSET).stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    (tmp_path / ASSET).write_text("stale")       # a different file is replaced
    write_asset(str(tmp_path))
    assert (tmp_path / ASSET).stat().st_size > 1_000_000


def test_compare_overlays_every_run_and_links_each_report(tmp_path):
    logs = [SEED_LOGS / f"sst-try{i}.log" for i in (1, 3, 4)]
    r = run("compare", *logs, "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert [str(p) for p in assets(tmp_path)] == [ASSET]
    page = (tmp_path / "comparison.html").read_text(encoding="utf-8")
    for log in logs:
        assert f"<a href='runs/{log.name}/report.html'>{log.name}</a>" in page
        assert (tmp_path / "runs" / log.name / "report.html").exists()
        assert f"<script src='../../{ASSET}'></script>" in (tmp_path / "runs" / log.name / "report.html").read_text()
    fig = figures(tmp_path / "comparison.html")["overlay"]["figure"]
    kinds = [t["kind"] for t in fig["fd"]["traces"]]
    # per run: val_acc, its noise band and trend, the training loss (no LR, no validation loss)
    assert kinds == ["val", "band", "trend", "train"] * 3
    legend = [t["name"] for t in fig["data"] if t.get("showlegend")]
    assert sorted(legend) == sorted(log.name for log in logs)   # one entry per run toggles it
    assert {t["legendgroup"] for t in fig["data"]} == set(legend)
    md = (tmp_path / "comparison.md").read_text(encoding="utf-8")
    assert "(runs/sst-try1.log/report.md)" in md and "![](comparison.png)" in md


def test_axes_step_and_wall_clock_where_the_history_has_them(tmp_path):
    store = tmp_path / "s.db"
    stored_runs(store, n=2)
    r = run("report", "--store", store, "--out", tmp_path / "idx")
    assert r.exit_code == 0, r.output
    fig = figures(tmp_path / "idx" / "index.html")["overlay"]["figure"]
    assert [a for a, _ in fig["fd"]["axes"]] == ["epoch", "step", "wall"]
    val = fig["fd"]["traces"][0]
    assert val["x"]["step"][:3] == [50.0, 100.0, 150.0] and val["x"]["wall"][:3] == [0.0, 2.0, 4.0]   # from the first epoch's end
    # the LR panel: one trace per run
    assert [t["kind"] for t in fig["fd"]["traces"]].count("lr") == 2


def test_store_index_lists_every_run_with_links_and_escapes_names(tmp_path):
    store = tmp_path / "s.db"
    stored_runs(store, n=3, name=lambda i: EVIL if i == 0 else f"lr-{i}")
    with track("empty", store=str(store)):
        pass                                            # a run with no epoch: listed, no report
    r = run("report", "--store", store, "--out", tmp_path / "idx")
    assert r.exit_code == 0, r.output
    index = tmp_path / "idx" / "index.html"
    page = index.read_text(encoding="utf-8")
    links = re.findall(r"<a href='(runs/[^']+/report.html)'>", page)
    assert len(links) == 3 and all((tmp_path / "idx" / link).exists() for link in links)
    assert "no epochs yet" in page and page.count("<tr>") == 5
    assert [str(p) for p in assets(tmp_path / "idx")] == [ASSET]
    # the name: text in the table, an escaped label in the figure's JSON, never a tag
    assert "<script>document" not in page and "<img src=x" not in page
    assert "&lt;/script&gt;&lt;script&gt;" in page
    for body in FIGURE.findall(page):
        assert "<" not in body[1]
    names = [t["name"] for t in figures(index)["overlay"]["figure"]["data"] if t.get("showlegend")]
    assert any(n.startswith("&lt;/script&gt;") for n in names)        # Plotly shows it as text
    assert "Not in this plot" not in page                           # all monitor val_acc
    run_page = (tmp_path / "idx" / links[0]).read_text(encoding="utf-8")
    assert "<script>document" not in run_page and "<img src=x" not in run_page


def test_store_index_says_which_runs_the_overlay_leaves_out(tmp_path):
    store = tmp_path / "s.db"
    stored_runs(store, n=2)
    with track("loss-only", store=str(store)) as r:
        for e in range(8):
            r.log(epoch=e, train_loss=1.0 / (e + 1), val_loss=1.2 / (e + 1) + 0.05)
    assert run("report", "--store", store, "--out", tmp_path / "idx").exit_code == 0
    page = (tmp_path / "idx" / "index.html").read_text(encoding="utf-8")
    assert "Not in this plot (another monitored metric): loss-only (val_loss)" in page
    assert page.count("<a href='runs/") == 3


def test_report_refuses_a_missing_store(tmp_path):
    r = run("report", "--store", tmp_path / "none.db", "--out", tmp_path / "idx")
    assert r.exit_code == 2 and "no such run store" in r.output
    assert not (tmp_path / "none.db").exists()


def test_report_on_an_empty_store_says_so_and_writes_nothing(tmp_path):
    from fitdoctor.store import RunStore

    RunStore(str(tmp_path / "empty.db"))
    r = run("report", "--store", tmp_path / "empty.db", "--out", tmp_path / "idx")
    assert r.exit_code == 2 and "no run stored yet" in r.output
    assert not (tmp_path / "idx").exists()


def test_sweep_page_plots_parameters_against_the_result(tmp_path):
    from fitdoctor.diagnosis.comparison import compare
    from fitdoctor.inputs import compare_inputs
    from fitdoctor.report.comparison import write_comparison
    from fitdoctor.store import RunStore

    store = tmp_path / "s.db"
    stored_runs(store, n=4)
    ids = [r["run_id"] for r in RunStore(str(store)).list_runs()]
    inputs, histories = compare_inputs(ids, str(store), None, None, None)
    write_comparison(compare(inputs), histories, str(tmp_path / "sw"), params=["training.learning_rate"])
    fig = figures(tmp_path / "sw" / "comparison.html")["params"]["figure"]
    assert len(fig["data"]) == 4 and fig["layout"]["xaxis"]["type"] == "log"     # 1e-4 .. 2.7e-3
    assert sorted(t["x"][0] for t in fig["data"]) == pytest.approx([1e-4 * 3 ** i for i in range(4)])
    assert all(t["error_y"]["array"][0] >= 0 for t in fig["data"])


def test_script_json_cannot_close_its_tag():
    text = script_json({"name": EVIL + "<!-- & \u2028", "v": [1.0, float("nan"), float("inf")]})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": EVIL + "<!-- & \u2028", "v": [1.0, None, None]}


def test_chinese_controls(tmp_path):
    r = run("diagnose", SEED_LOGS / "sst-try4.log", "--out", tmp_path, "--lang", "zh")
    assert r.exit_code == 0
    spec = figures(tmp_path / "report.html")["curves"]
    assert spec["words"]["smoothing"] == "平滑" and spec["kinds"]["val"] == "验证"


def test_store_index_keeps_run_folders_under_runs_and_says_epochs_in_chinese(tmp_path):
    """A store is a file that may come from elsewhere: a run id written into it as '../../x' or
    an absolute path wrote that run's report outside DIR (os.path.join drops DIR before '/').
    The count column said 'Epoch 范围' (epoch range) in Chinese."""
    import sqlite3

    store = tmp_path / "s.db"
    stored_runs(store, n=2)
    con = sqlite3.connect(store)
    old = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY created")]
    for run_id, new in zip(old, ("../../escaped", str(tmp_path / "abs"))):
        for table in ("runs", "epochs", "artifacts", "predictions"):
            con.execute(f"UPDATE {table} SET run_id = ? WHERE run_id = ?", (new, run_id))
    con.commit()
    con.close()
    out = tmp_path / "a" / "b" / "idx"
    r = run("report", "--store", store, "--out", out, "--lang", "zh")
    assert r.exit_code == 0, r.output
    assert not (out.parent / "escaped").exists() and not (tmp_path / "abs").exists()
    page = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r"<a href='(runs/[^']+/report.html)'>", page)
    assert len(links) == 2 and all((out / link).exists() for link in links)
    assert "<th>Epoch 数</th>" in page and "Epoch 范围" not in page
    assert "<td>已完成</td>" in page and "<td>completed</td>" not in page     # the status in Chinese

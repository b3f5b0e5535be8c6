"""`fitdoctor demo`: train a deliberately overfitting run on real bundled data, diagnose it, run
its top recommendation, compare the two runs on the same validation examples, and write the
HTML reports. Everything goes through the same library calls a user makes."""

from __future__ import annotations

import os
from importlib import resources
from typing import Callable

from .diagnosis import diagnose
from .diagnosis.comparison import compare, run_input
from .report import write_reports
from .store import DEFAULT_PATH
from .report.documents import write_atomic
from .report.explore import slug, unique
from .report.page import render_page
from .store import RunStore
from .training.config import apply_patch, build_config, config_dict, load_config
from .training.runner import train


def run_demo(out_dir: str, *, lang: str = "en", say: Callable[[str], None] = print,
             warn: Callable[[str], None] = print, progress: bool = True,
             config: str | None = None) -> str:
    """Returns the path of the index page. ``config`` replaces the bundled demo config."""
    os.makedirs(out_dir, exist_ok=True)
    store_path = os.path.join(out_dir, DEFAULT_PATH)
    runs_dir = os.path.join(out_dir, "runs")
    if config is None:
        with resources.as_file(resources.files("fitdoctor") / "data" / "demo_overfit.yaml") as p:
            first_cfg = load_config(p)
    else:
        first_cfg = load_config(config)
    say(f"1/4  training a deliberately overfitting run ({first_cfg.name})")
    first = train(first_cfg, store_path=store_path, out_dir=runs_dir, say=say, warn=warn, progress=progress)
    store = RunStore(store_path)
    h1 = store.history(first.run_id)
    d1 = diagnose(h1)
    say(f"2/4  diagnosis: {d1.verdict}" + (f", onset at epoch {d1.overfitting.onset_epoch:g}"
                                           if d1.overfitting.onset_epoch is not None else ""))
    pages = []
    if not d1.recommendations:
        say("     no finding calls for another run: nothing to compare")
        write_reports(h1, d1, os.path.join(out_dir, slug(d1.name)), lang, asset_dir=out_dir)
        index = os.path.join(out_dir, "index.html")
        write_atomic(index, _index_page([(d1, first, f"{slug(d1.name)}/report.html")], None, None))
        return index
    rec = d1.recommendations[0]
    second_cfg = build_config({**apply_patch(config_dict(first_cfg), rec.patch),
                               "name": f"demo-{rec.code}"}, where="demo recommendation")
    say(f"3/4  running the top recommendation: {rec.title}")
    second = train(second_cfg, store_path=store_path, out_dir=runs_dir, say=say, warn=warn, progress=progress)
    h2 = store.history(second.run_id)
    d2 = diagnose(h2)
    inputs = []
    for h, d, r in ((h1, d1, first), (h2, d2, second)):
        pred = store.predictions(r.run_id, "best")
        inputs.append(run_input(d.name, d, h, correct=pred[1]["correct"] if pred else None))
    pair = compare(inputs).pairs[0]
    say("4/4  comparing the two runs and writing the reports")
    # each run's folder after its name (from the user's config) made safe: no "../" out of --out,
    # no "javascript:" link; two names alike get -2
    for (h, d, r), folder in zip(((h1, d1, first), (h2, d2, second)), unique([slug(d1.name), slug(d2.name)])):
        write_reports(h, d, os.path.join(out_dir, folder), lang, asset_dir=out_dir)
        pages.append((d, r, f"{folder}/report.html"))
    index = os.path.join(out_dir, "index.html")
    write_atomic(index, _index_page(pages, rec, pair))
    a, b = pair.a, pair.b
    say(f"best {d1.monitor}: {d1.best.value:.3f} ({first.epochs} epochs) -> {d2.best.value:.3f} "
        f"({second.epochs} epochs); {b} - {a} = {pair.delta:+.3f}, 95% CI [{pair.ci95[0]:+.3f}, "
        f"{pair.ci95[1]:+.3f}], p = {pair.p_value:.3g} ({pair.method}): "
        f"{'significant' if pair.significant else 'not significant'}")
    return index


def _index_page(pages, rec, pair) -> str:
    """index.html (report/templates/demo_index.html)."""
    rows = [{"name": d.name, "link": link, "epochs": r.epochs, "stop": r.stop_reason, "verdict": d.verdict,
             "best": f"{d.best.value:.4f} @ {d.best.epoch:g}"} for d, r, link in pages]
    comparison = None
    if pair:
        comparison = (f"{pair.b} minus {pair.a}: {pair.delta:+.4f} (95% CI {pair.ci95[0]:+.4f} to "
                      f"{pair.ci95[1]:+.4f}), p = {pair.p_value:.3g} ({pair.method}): "
                      f"{'a real difference' if pair.significant else 'not a significant difference'}.")
    return render_page("demo_index.html", lang="en", rows=rows, rec=rec, comparison=comparison)

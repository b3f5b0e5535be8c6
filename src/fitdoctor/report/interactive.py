"""Interactive figures in the HTML pages: the plotting library written once per report folder
(``plotly.min.js``, the copy bundled in the ``plotly`` Python package: no CDN, nothing fetched
when a page is opened), each figure's data as JSON in a ``<script type="application/json">``
tag, and a small script that draws them and wires the controls: x axis (epoch, step, wall
clock), a smoothing slider, series on/off. Plotly itself gives zoom, pan, hover values and the
legend's toggles.

A figure's JSON is made safe for its script tag by construction: every ``<``, ``>`` and ``&``
is written as a \\u escape, so no string from a log can close the tag."""

from __future__ import annotations

import hashlib
import json
import math
import os
from importlib import resources

from markupsafe import Markup

from ..errors import UsageError
from ..i18n import label
from .page import render_fragment, trusted

ASSET = "plotly.min.js"


def _bundled() -> bytes:
    try:
        return resources.files("plotly").joinpath("package_data", ASSET).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        raise UsageError("the interactive HTML reports need the plotly package (its bundled "
                         "plotly.min.js): pip install 'plotly>=5.20'.") from None


def write_asset(folder: str) -> str:
    """``folder``/plotly.min.js, written unless the same file is already there; its path."""
    path = os.path.join(folder, ASSET)
    data = _bundled()
    if os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) == len(data):
        with open(path, "rb") as fh:
            if hashlib.sha256(fh.read()).digest() == hashlib.sha256(data).digest():
                return path
    from .documents import write_atomic     # documents imports this module

    write_atomic(path, data)
    return path


def script_json(obj: object) -> str:
    """JSON for inside a <script> tag: NaN/inf as null, and <, >, & escaped (no "</script>",
    no "<!--" can appear in it)."""
    text = json.dumps(_finite(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item"):                 # numpy scalars
        return _finite(obj.item())
    return obj


def figure_block(payload: dict, fig_id: str, lang: str = "en", fallback: str | None = None) -> Markup:
    """The figure's placeholder, its controls (filled in by the script) and its data
    (templates/figure.html). ``fallback``: a PNG next to the page, shown when the script or the
    library cannot run."""
    words = {"axis": label("plot.axis", lang), "smoothing": label("plot.smoothing", lang),
             "series": label("plot.series", lang), "missing": label("plot.missing_library", lang)}
    kinds = {k: label(f"plot.kind.{k}", lang) for k in ("train", "val", "trend", "band", "best", "lr", "param")}
    # trusted: script_json writes no <, > or & (no string from a log can close the script tag)
    data = trusted(script_json({"figure": payload, "words": words, "kinds": kinds}))
    return render_fragment("figure.html", fig_id=fig_id, lang=lang, fallback=fallback, data=data)


def scripts(asset_href: str) -> Markup:
    """The library (relative link to the folder's one copy) and the controller; goes at the end
    of <body>."""
    return render_fragment("scripts.html", asset=asset_href, controller=trusted(_CONTROLLER))


# Draws every figure of the page; sets data-traces (traces in the figure) and data-rendered
# (traces drawn in the SVG) on each .fd-figure, and data-fd-ready on <html> when all are drawn.
_CONTROLLER = r"""
(function () {
  function ema(ys, w) {            // TensorBoard's debiased exponential moving average
    var out = [], last = 0, n = 0;
    for (var i = 0; i < ys.length; i++) {
      var y = ys[i];
      if (y === null || !isFinite(y)) { out.push(null); continue; }
      last = last * w + (1 - w) * y; n++;
      out.push(w > 0 ? last / (1 - Math.pow(w, n)) : y);
    }
    return out;
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function draw(box, spec) {
    var fig = spec.figure, fd = fig.fd, plot = box.querySelector('.fd-plot');
    var controls = box.querySelector('.fd-controls');
    var raw = fig.data.map(function (t) { return t.y.slice(); });
    var state = {axis: fd.axes.length ? fd.axes[0][0] : null, w: 0};
    function restyleY() {
      var idx = [], ys = [];
      fd.traces.forEach(function (t, i) {
        if (t.smooth) { idx.push(i); ys.push(ema(raw[i], state.w)); }
      });
      if (idx.length) Plotly.restyle(plot, {y: ys}, idx);
    }
    function setAxis(a) {
      state.axis = a;
      var xs = fd.traces.map(function (t) { return t.x[a]; });
      var upd = {'xaxis.title.text': fd.axes.filter(function (p) { return p[0] === a; })[0][1],
                 'xaxis.autorange': true};
      fd.shapes.forEach(function (s, i) { upd['shapes[' + i + '].x0'] = s[a][0]; upd['shapes[' + i + '].x1'] = s[a][1]; });
      fd.annotations.forEach(function (s, i) { upd['annotations[' + i + '].x'] = s[a]; });
      Plotly.update(plot, {x: xs}, upd);
    }
    if (fd.axes.length > 1) {
      var lab = el('label', {}, spec.words.axis + ' ');
      var sel = el('select', {'class': 'fd-axis'});
      fd.axes.forEach(function (p) { sel.appendChild(el('option', {value: p[0]}, p[1])); });
      sel.addEventListener('change', function () { setAxis(sel.value); });
      lab.appendChild(sel); controls.appendChild(lab);
    }
    if (fd.traces.some(function (t) { return t.smooth; })) {
      var sl = el('label', {}, spec.words.smoothing + ' ');
      var r = el('input', {type: 'range', min: '0', max: '0.99', step: '0.01', value: '0', 'class': 'fd-smooth'});
      var v = el('span', {}, '0');
      r.addEventListener('input', function () { state.w = parseFloat(r.value); v.textContent = r.value; restyleY(); });
      sl.appendChild(r); sl.appendChild(v); controls.appendChild(sl);
    }
    var kinds = [];
    fd.traces.forEach(function (t) { if (kinds.indexOf(t.kind) < 0) kinds.push(t.kind); });
    if (kinds.length > 1) {
      controls.appendChild(el('span', {}, spec.words.series + ':'));
      kinds.forEach(function (k) {
        var l = el('label', {}), c = el('input', {type: 'checkbox', 'class': 'fd-kind', 'data-kind': k});
        c.checked = true;
        c.addEventListener('change', function () {
          var idx = [];
          fd.traces.forEach(function (t, i) { if (t.kind === k) idx.push(i); });
          Plotly.restyle(plot, {visible: c.checked ? true : false}, idx);
        });
        l.appendChild(c); l.appendChild(document.createTextNode(' ' + (spec.kinds[k] || k))); controls.appendChild(l);
      });
    }
    var config = {displaylogo: false, responsive: true, scrollZoom: false};
    return Plotly.newPlot(plot, fig.data, fig.layout, config).then(function () {
      box.setAttribute('data-traces', String(fig.data.length));
      box.setAttribute('data-rendered', String(plot.querySelectorAll('g.trace').length));
    });
  }
  function start() {
    var boxes = document.querySelectorAll('.fd-figure'), pending = [];
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var data = document.querySelector('script.fd-data[data-for="' + box.id + '"]');
      var spec = JSON.parse(data.textContent);
      if (typeof Plotly === 'undefined') {
        var t = box.querySelector('template.fd-fallback');
        box.appendChild(el('p', {'class': 'fd-missing'}, spec.words.missing));
        if (t) box.appendChild(t.content.cloneNode(true));
        continue;
      }
      pending.push(draw(box, spec));
    }
    Promise.all(pending).then(function () { document.documentElement.setAttribute('data-fd-ready', String(pending.length)); });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
"""

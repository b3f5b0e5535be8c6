"""The interactive figures as plain data: Plotly figure dicts (``data`` and ``layout``) plus
``fd``, what the page's controls need per trace (its kind, whether the smoothing slider applies,
its x values on every available axis). Pure: no file is read or written here; interactive.py
turns a figure into HTML.

Every string from a log or a config that Plotly draws (a run's name in a legend, a hover text) is
HTML-escaped here: Plotly reads a small set of HTML tags in its labels."""

from __future__ import annotations

import html
import math
from typing import Any, Iterable

import numpy as np

from ..diagnosis.types import Z95, Diagnosis
from ..history.core import History
from ..i18n import label

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
PHASE_COLOURS = {"underfit": "#dbe9f6", "fit": "#dff0d8", "overfit": "#f8d7da",
                 "plateau": "#eeeeee", "diverged": "#f5c6cb", "no_learning": "#e2e3e5"}
TREND, BEST, ONSET, LR = "#e67e22", "#27ae60", "#8e44ad", "#16a085"
# a run's wall clock: a column of seconds per epoch (fitdoctor's own runs), else one of elapsed time
_EPOCH_SECONDS = ("train_epoch_time", "epoch_time")
_ELAPSED = ("train_wall_time", "wall_time", "train_elapsed", "elapsed")


def ptext(s: object) -> str:
    """A string from a log or config as Plotly label text: shown, never read as markup."""
    return html.escape(str(s), quote=False)


def numbers(a: Iterable[float]) -> list[float | None]:
    """JSON-ready floats: NaN and inf become null (a gap in the line)."""
    return [float(v) if v is not None and math.isfinite(v) else None for v in np.asarray(a, dtype=float)]


def trend_band(name: str, values: np.ndarray, mode: str) -> tuple[np.ndarray, float] | None:
    """The smoothed trend of a monitored curve (logged units) and the half-width of its 95 %
    noise band (Z95 x epoch-to-epoch noise), or None when the curve is too short to know them.
    The PNG and the interactive figures draw the same band from here."""
    from ..diagnosis.curves import make_curve

    c = make_curve(name, values, mode)
    if c is None or not c.known:
        return None
    return np.asarray(c.value(c.trend), dtype=float), float(Z95 * c.sigma)


def x_axes(h: History) -> dict[str, np.ndarray]:
    """The axes a history can be drawn on: epoch always; step and wall clock where its table has
    them for every row and they never go back. Wall clock is seconds since the first logged epoch
    ended, from per-epoch durations or from an elapsed time or timestamp column alike (a timestamp
    says nothing of when training began), so runs of either kind line up."""
    out = {"epoch": h.epochs}
    if h.has("step"):
        step = h.values("step")
        if np.all(np.isfinite(step)) and np.all(np.diff(step) >= 0):
            out["step"] = step
    for col in _EPOCH_SECONDS:
        t = h.values(col)
        if h.has(col) and np.all(np.isfinite(t)) and np.all(t >= 0):
            out["wall"] = np.cumsum(t) - t[0] if len(t) else t
            return out
    for col in _ELAPSED:
        t = h.values(col)
        if h.has(col) and np.all(np.isfinite(t)) and np.all(np.diff(t) >= 0):
            out["wall"] = t - t[0] if len(t) else t
            return out
    return out


def axis_title(axis: str, lang: str) -> str:
    return label(f"plot.{axis}", lang)


class Figure:
    """Traces and their control data, built up panel by panel."""

    def __init__(self, axes: list[str]):
        self.axes = axes                      # the x axes every trace can be drawn on
        self.data: list[dict] = []
        self.fd: list[dict] = []
        self.shapes: list[dict] = []
        self.shape_x: list[dict] = []         # per shape: {axis: [x0, x1]}
        self.annotations: list[dict] = []
        self.annotation_x: list[dict] = []

    def trace(self, xs: dict[str, np.ndarray], y, *, kind: str, smooth: bool = False, **kw) -> None:
        xa = {a: numbers(xs[a]) for a in self.axes}
        self.data.append({"type": "scatter", "x": xa[self.axes[0]], "y": numbers(y), **kw})
        self.fd.append({"kind": kind, "smooth": smooth, "x": xa})

    def band(self, xs: dict[str, np.ndarray], lo, hi, *, kind: str = "band", **kw) -> None:
        """A filled band (a closed polygon: along ``hi``, back along ``lo``); no hover."""
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        keep = np.isfinite(lo) & np.isfinite(hi)
        ring = {a: np.concatenate([xs[a][keep], xs[a][keep][::-1]]) for a in self.axes}
        self.trace(ring, np.concatenate([hi[keep], lo[keep][::-1]]), kind=kind, mode="lines",
                   fill="toself", line={"width": 0}, hoverinfo="skip", **kw)

    def vspan(self, xs: dict[str, float], *, x1: dict[str, float] | None = None, **kw) -> None:
        """A vertical line (``x1`` None) or span, in data x and paper y."""
        x1 = x1 or xs
        self.shapes.append({"type": "line" if x1 is xs else "rect", "xref": "x", "yref": "paper",
                            "x0": xs[self.axes[0]], "x1": x1[self.axes[0]], "y0": 0, "y1": 1, **kw})
        self.shape_x.append({a: [xs[a], x1[a]] for a in self.axes})

    def note(self, xs: dict[str, float], text: str, **kw) -> None:
        self.annotations.append({"x": xs[self.axes[0]], "text": text, "showarrow": False, **kw})
        self.annotation_x.append({a: xs[a] for a in self.axes})

    def payload(self, layout: dict, lang: str) -> dict:
        xaxis = layout.setdefault("xaxis", {})
        xaxis.setdefault("title", {"text": axis_title(self.axes[0], lang)})
        layout.update(shapes=self.shapes, annotations=self.annotations)
        return {"data": self.data, "layout": layout,
                "fd": {"traces": self.fd, "shapes": self.shape_x, "annotations": self.annotation_x,
                       "axes": [[a, axis_title(a, lang)] for a in self.axes]}}


def _at(axes: dict[str, np.ndarray], epochs: np.ndarray, epoch: float) -> dict[str, float]:
    """An epoch (a phase edge, the onset) placed on every axis, interpolating between rows."""
    order = np.argsort(epochs)
    return {a: float(np.interp(epoch, epochs[order], v[order])) for a, v in axes.items()}


def _panels(names: list[str], gap: float = 0.06) -> dict[str, dict]:
    """y axes stacked top to bottom, the first twice as tall as the others."""
    weights = [2.0] + [1.0] * (len(names) - 1)
    usable = 1.0 - gap * (len(names) - 1)
    out, top = {}, 1.0
    for i, (name, w) in enumerate(zip(names, weights)):
        height = usable * w / sum(weights)
        key = "yaxis" if i == 0 else f"yaxis{i + 1}"
        out[name] = {"key": key, "ref": "y" if i == 0 else f"y{i + 1}",
                     "layout": {"domain": [max(top - height, 0.0), top], "title": {"text": name},
                                "zeroline": False}}
        top -= height + gap
    return out


def _layout(panels: dict[str, dict], height: int, title: str = "", hover: str = "x unified") -> dict:
    bottom = list(panels.values())[-1]["ref"]
    layout = {"height": height, "margin": {"l": 70, "r": 20, "t": 40 if title else 20, "b": 50},
              "hovermode": hover, "legend": {"orientation": "h", "y": -0.12},
              "xaxis": {"anchor": bottom, "zeroline": False, "showspikes": True, "spikemode": "across", "spikethickness": 1},
              "plot_bgcolor": "#ffffff", "paper_bgcolor": "#ffffff"}
    if title:
        layout["title"] = {"text": title, "font": {"size": 14}}
    for p in panels.values():
        layout[p["key"]] = {**p["layout"], "gridcolor": "#eeeeee"}
    return layout


def run_figure(h: History, d: Diagnosis, lang: str = "en") -> dict:
    """One run: the monitored metric and its training counterpart with the trend, its noise band,
    the best epoch with the interval of the true best level, the onset and the phases; the losses;
    the LR."""
    axes = x_axes(h)
    fig = Figure(list(axes))
    e = h.epochs
    losses = [c for c in ("train_loss", "val_loss") if h.has(c) and c not in (d.monitor, d.train_column)]
    names = [d.monitor] + ([label("plot.loss", lang)] if losses else []) + ([label("plot.lr", lang)] if h.has("lr") else [])
    panels = _panels(names)
    y1 = panels[d.monitor]["ref"]
    val = h.values(d.monitor)
    line = {"mode": "lines+markers", "marker": {"size": 4}, "hovertemplate": "%{y:.4g}"}
    if d.train_column:
        fig.trace(axes, h.values(d.train_column), kind="train", smooth=True, name=ptext(d.train_column),
                  yaxis=y1, line={"color": "#2c3e50", "width": 1.5}, **line)
    fig.trace(axes, val, kind="val", smooth=True, name=ptext(d.monitor), yaxis=y1,
              line={"color": "#c0392b", "width": 1.5}, **line)
    tb = trend_band(d.monitor, val, d.mode)
    if tb is not None:
        trend, half = tb
        fig.band(axes, trend - half, trend + half, name=label("plot.band", lang), yaxis=y1,
                 fillcolor="rgba(230,126,34,0.15)")
        fig.trace(axes, trend, kind="trend", name=label("plot.trend", lang), yaxis=y1, mode="lines",
                  line={"color": TREND, "width": 1.5}, hovertemplate="%{y:.4g}")
    _best(fig, axes, e, d, y1, lang)
    for p in d.phases:
        fig.vspan(_at(axes, e, p.start - 0.5), x1=_at(axes, e, p.end + 0.5), layer="below",
                  fillcolor=PHASE_COLOURS.get(p.label, "#ffffff"), opacity=0.5, line={"width": 0})
        fig.note(_at(axes, e, (p.start + p.end) / 2), label(p.label, lang), yref="paper", y=1.0,
                 yanchor="bottom", font={"size": 10, "color": "#555555"})
    onset = d.overfitting.onset_epoch
    if onset is not None:
        at = _at(axes, e, onset)
        fig.vspan(at, line={"color": ONSET, "dash": "dot", "width": 1.5})
        fig.note(at, label("plot.onset", lang), yref="paper", y=0.0, xanchor="left",
                 font={"size": 10, "color": ONSET})
    if losses:
        ref = panels[label("plot.loss", lang)]["ref"]
        for col, colour in zip(losses, ("#2c3e50", "#c0392b")):
            fig.trace(axes, h.values(col), kind="train" if col.startswith("train") else "val", smooth=True,
                      name=ptext(col), yaxis=ref, line={"color": colour, "width": 1.2}, **line)
    if h.has("lr"):
        fig.trace(axes, h.values("lr"), kind="lr", name=label("plot.lr", lang),
                  yaxis=panels[label("plot.lr", lang)]["ref"], mode="lines",
                  line={"color": LR, "width": 1.5, "shape": "hv"}, hovertemplate="%{y:.3g}")
    title = f"{ptext(d.name)} - {label('verdict', lang)}: {label('verdict.' + d.verdict, lang)}"
    return fig.payload(_layout(panels, 300 + 160 * len(names), title), lang)


def _best(fig: Figure, axes: dict, e: np.ndarray, d: Diagnosis, yref: str, lang: str) -> None:
    """The best logged value, and the true best level with its 95 % interval as an error bar."""
    at = {a: [v] for a, v in _at(axes, e, d.best.epoch).items()}
    fig.trace(at, [d.best.value], kind="best", name=f"{label('plot.best', lang)} ({d.best.epoch:g})",
              yaxis=yref, mode="markers", marker={"symbol": "star", "size": 12, "color": BEST},
              hovertemplate="%{y:.4g}")
    if d.best.ci95 is not None and d.best.expected is not None:
        lo, hi = d.best.ci95
        fig.trace(at, [d.best.expected], kind="best", name=label("plot.true_level", lang), yaxis=yref,
                  mode="markers", marker={"symbol": "diamond", "size": 9, "color": BEST},
                  error_y={"type": "data", "symmetric": False, "array": [hi - d.best.expected],
                           "arrayminus": [d.best.expected - lo], "color": BEST, "thickness": 2},
                  hovertemplate=f"%{{y:.4g}} [{lo:.4g}, {hi:.4g}]")


def common_axes(histories: Iterable[History]) -> dict[int, dict[str, np.ndarray]]:
    """Each history's axes, cut to the ones every history has (epoch at least)."""
    found = {id(h): x_axes(h) for h in histories}
    shared = [a for a in ("epoch", "step", "wall") if all(a in ax for ax in found.values())]
    return {k: {a: ax[a] for a in shared} for k, ax in found.items()}


def overlay_figure(runs: list[tuple[str, History, str]], monitor: str, mode: str,
                   lang: str = "en") -> dict:
    """Several runs on one page: the monitored metric (raw, trend, noise band), train (dotted) and
    validation losses, the LR. ``runs``: (name, history, colour); one legend entry per run
    toggles all its traces."""
    axes_of = common_axes([h for _, h, _ in runs])
    loss_cols = [c for c in ("train_loss", "val_loss") if c != monitor and any(h.has(c) for _, h, _ in runs)]
    has_lr = any(h.has("lr") for _, h, _ in runs)
    names = [monitor] + ([label("plot.loss", lang)] if loss_cols else []) + ([label("plot.lr", lang)] if has_lr else [])
    panels = _panels(names)
    first = next(iter(axes_of.values()))
    fig = Figure(list(first))
    for name, h, colour in runs:
        axes, who = axes_of[id(h)], ptext(name)
        common = {"legendgroup": who, "showlegend": False}
        val = h.values(monitor)
        fig.trace(axes, val, kind="val", smooth=True, name=who, yaxis=panels[monitor]["ref"],
                  mode="lines", line={"color": colour, "width": 1.2}, opacity=0.8,
                  hovertemplate=f"%{{y:.4g}}<extra>{who}</extra>", **{**common, "showlegend": True})
        tb = trend_band(monitor, val, mode)
        if tb is not None:
            trend, half = tb
            fig.band(axes, trend - half, trend + half, name=who, yaxis=panels[monitor]["ref"],
                     fillcolor=_rgba(colour, 0.12), **common)
            fig.trace(axes, trend, kind="trend", name=who, yaxis=panels[monitor]["ref"], mode="lines",
                      line={"color": colour, "width": 2.2},
                      hovertemplate=f"{label('plot.trend', lang)} %{{y:.4g}}<extra>{who}</extra>", **common)
        for col in loss_cols:
            if h.has(col):
                fig.trace(axes, h.values(col), kind="train" if col.startswith("train") else "val",
                          smooth=True, name=who, yaxis=panels[label("plot.loss", lang)]["ref"], mode="lines",
                          line={"color": colour, "width": 1.2, "dash": "dot" if col.startswith("train") else "solid"},
                          hovertemplate=f"{col} %{{y:.4g}}<extra>{who}</extra>", **common)
        if h.has("lr"):
            fig.trace(axes, h.values("lr"), kind="lr", name=who, yaxis=panels[label("plot.lr", lang)]["ref"],
                      mode="lines", line={"color": colour, "width": 1.2, "shape": "hv"},
                      hovertemplate=f"LR %{{y:.3g}}<extra>{who}</extra>", **common)
    layout = _layout(panels, 320 + 170 * len(names), hover="closest")
    layout["legend"]["groupclick"] = "togglegroup"
    lrs = np.concatenate([h.values("lr") for _, h, _ in runs]) if has_lr else np.array([])
    lrs = lrs[np.isfinite(lrs)]
    if len(lrs) and lrs.min() > 0 and lrs.max() / lrs.min() >= 10:     # runs decades apart
        layout[panels[label("plot.lr", lang)]["key"]]["type"] = "log"
    return fig.payload(layout, lang)


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def params_figure(points: list[dict], params: list[str], monitor: str, lang: str = "en") -> dict:
    """A sweep's parameters against its result: one panel per parameter, a point per run at its
    smoothed best with the 95 % interval of the true level. ``points``: {name, colour, config,
    value, ci95}."""
    data, layout = [], {"height": 380, "hovermode": "closest", "showlegend": False,
                        "margin": {"l": 70, "r": 20, "t": 20, "b": 60}, "plot_bgcolor": "#ffffff"}
    width = 1.0 / max(len(params), 1)
    for i, key in enumerate(params):
        suffix = "" if i == 0 else str(i + 1)
        xs = [p["config"].get(key) for p in points]
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
        log = numeric and min(xs) > 0 and max(xs) / min(xs) >= 10
        layout[f"xaxis{suffix}"] = {"domain": [i * width + 0.03, (i + 1) * width - 0.03], "anchor": f"y{suffix}",
                                    "title": {"text": ptext(key)}, "type": "log" if log else "-",
                                    "gridcolor": "#eeeeee"}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "gridcolor": "#eeeeee",
                                    **({"title": {"text": ptext(monitor)}} if i == 0 else {"matches": "y"})}
        for p in points:
            ci = p.get("ci95")
            err = {"type": "data", "symmetric": False, "array": [ci[1] - p["value"]],
                   "arrayminus": [p["value"] - ci[0]], "color": p["colour"]} if ci else {"visible": False}
            x = p["config"].get(key)
            data.append({"type": "scatter", "mode": "markers", "x": [x if numeric else ptext(x)],
                         "y": numbers([p["value"]]), "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                         "marker": {"size": 10, "color": p["colour"]}, "error_y": err, "name": ptext(p["name"]),
                         "hovertemplate": f"{ptext(key)}=%{{x}}<br>{ptext(monitor)} %{{y:.4g}}"
                                          f"<extra>{ptext(p['name'])}</extra>"})
    return {"data": data, "layout": layout,
            "fd": {"traces": [{"kind": "param", "smooth": False, "x": {}} for _ in data],
                   "shapes": [], "annotations": [], "axes": []}}

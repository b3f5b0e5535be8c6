"""curves.png: train/val metric, gap (or the losses, where overfitting was read off them) and LR
on one epoch axis, phases shaded, best epoch, onset and the noise band marked. matplotlib is imported here only, when a plot is asked for."""

from __future__ import annotations

import io

import numpy as np

from ..diagnosis.types import Diagnosis
from ..history.core import History
from ..i18n import label
from .figures import PHASE_COLOURS as _PHASE_COLOURS
from .figures import trend_band


def save_figure(fig, path: str) -> None:
    """Write a figure as PNG with write_atomic (whole or not at all, only over a regular file,
    the umask's or the replaced file's mode) and close it."""
    import matplotlib.pyplot as plt

    from .documents import write_atomic     # documents imports this module

    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
    finally:
        plt.close(fig)
    write_atomic(path, buf.getvalue())


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    wanted = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
              "SimHei", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC")
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((w for w in wanted if w in names), None)


def _shade(ax, d: Diagnosis, lang: str = "en", names: bool = False) -> None:
    for p in d.phases:
        ax.axvspan(p.start - 0.5, p.end + 0.5, color=_PHASE_COLOURS.get(p.label, "#ffffff"),
                   alpha=0.6, lw=0)
        if names:
            ax.text((p.start + p.end) / 2, 1.0, label(p.label, lang), fontsize=7, ha="center",
                    va="bottom", transform=ax.get_xaxis_transform(), color="#555555")


def plot_curves(h: History, d: Diagnosis, path: str, lang: str = "en") -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lang = _plot_lang(lang)
    has_lr = h.has("lr")
    rows = 2 + int(has_lr)
    fig, axes = plt.subplots(rows, 1, figsize=(9, 2.6 * rows + 0.6), sharex=True,
                             gridspec_kw={"height_ratios": [3] + [1.4] * (rows - 1)})
    val = h.values(d.monitor)
    _metric_panel(axes, h, d, val, lang)
    _gap_panel(axes[1], h, d, val, lang)
    if has_lr:
        lx = axes[2]
        lx.plot(h.epochs, h.values("lr"), "-", color="#16a085")
        lx.set_ylabel(label("plot.lr", lang))
        lx.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    axes[-1].set_xlabel(label("plot.epoch", lang))
    fig.tight_layout()
    save_figure(fig, path)
    return path


def _plot_lang(lang: str) -> str:
    """The labels' language: Chinese only where a CJK font is installed (then set as the font)."""
    import matplotlib.pyplot as plt

    if lang == "zh":
        font = _cjk_font()
        if font is None:
            return "en"
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
    return lang


def _metric_panel(axes, h: History, d: Diagnosis, val, lang: str) -> None:
    """The top panel: the monitored metric (and its training twin), its trend and noise band, the
    best epoch, the phases named; the overfitting onset is marked on every panel."""
    e, ax = h.epochs, axes[0]
    _shade(ax, d, lang, names=True)
    ax.plot(e, val, "o-", ms=3, lw=1.2, color="#c0392b", label=d.monitor)
    if d.train_column:
        ax.plot(e, h.values(d.train_column), "o-", ms=3, lw=1.2, color="#2c3e50",
                label=d.train_column)
    tb = trend_band(d.monitor, val, d.mode)
    if tb is not None:
        trend, band = tb
        ax.plot(e, trend, "-", lw=1, color="#e67e22", label=label("plot.trend", lang))
        ax.fill_between(e, trend - band, trend + band, color="#e67e22", alpha=0.15,
                        label=label("plot.band", lang))
    ax.axvline(d.best.epoch, color="#27ae60", ls="--", lw=1)
    ax.annotate(f"{label('plot.best', lang)} {d.best.value:.4g}", (d.best.epoch, d.best.value),
                textcoords="offset points", xytext=(4, 6), fontsize=8, color="#27ae60")
    onset = d.overfitting.onset_epoch
    if onset is not None:
        for a in axes:
            a.axvline(onset, color="#8e44ad", ls=":", lw=1.2)
        ax.annotate(label("plot.onset", lang), (onset, np.nanmin(val)), textcoords="offset points",
                    xytext=(4, 0), fontsize=8, color="#8e44ad")
    ax.set_ylabel(d.monitor)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{d.name} - {label('verdict', lang)}: {label('verdict.' + d.verdict, lang)}",
                 fontsize=10, pad=14)


def _gap_panel(gx, h: History, d: Diagnosis, val, lang: str) -> None:
    """The second panel: the train-val gap, or the losses where overfitting was read off them
    (its evidence is in the loss panel, not in the gap) or there is no training metric."""
    _shade(gx, d)
    of = d.finding("overfitting")
    by_loss = of is not None and of.evidence.get("kind") == "loss"
    if d.train_column and not by_loss:
        gap = h.values(d.train_column) - val
        gx.plot(h.epochs, gap if d.mode == "max" else -gap, "-", color="#34495e")
        gx.axhline(0, color="k", lw=0.5)
        gx.set_ylabel(label("gap", lang))
    else:
        for col in ("train_loss", "val_loss"):
            if h.has(col):
                gx.plot(h.epochs, h.values(col), "-", label=col)
        gx.set_ylabel(label("plot.loss", lang))
        gx.legend(fontsize=8)


def plot_lr(lr_per_epoch: list[float], path: str, lr_per_step: list[float] | None = None,
            title: str = "") -> str:
    """The previewed LR schedule as a PNG (per step when the schedule steps per batch)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    if lr_per_step:
        steps_per_epoch = len(lr_per_step) / max(len(lr_per_epoch), 1)
        ax.plot(np.arange(len(lr_per_step)) / steps_per_epoch, lr_per_step, "-", color="#16a085")
    else:
        ax.step(np.arange(len(lr_per_epoch)), lr_per_epoch, where="post", color="#16a085")
    ax.set_xlabel("epoch")
    ax.set_ylabel("LR")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
    return path


def plot_lr_find(curves, suggestions: dict, path: str) -> str:
    """Smoothed loss against LR (log axis) for each repeat, with the rules' suggestions."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    smooth = [c.smooth for c in curves]           # a property that smooths anew on each read
    for i, (c, sm) in enumerate(zip(curves, smooth)):
        ax.plot(c.lr, sm, "-", lw=1.2, label=f"repeat {i + 1}" if len(curves) > 1 else "smoothed loss")
    colours = {"steepest": "#8e44ad", "half_drop": "#2980b9", "valley": "#27ae60", "min_div_10": "#e67e22"}
    for rule, lr in suggestions.items():
        if lr:
            ax.axvline(lr, ls="--", lw=1, color=colours.get(rule, "k"), label=f"{rule} {lr:.2g}")
    ax.set_xscale("log")
    losses = [v for sm in smooth for v in sm]
    if losses:                         # keep the descent visible: do not let the blow-up set the scale
        start = max(sm[0] for c, sm in zip(curves, smooth) if c.raw)
        ax.set_ylim(min(losses) * 0.95, max(start * 1.3, min(losses) * 1.5))
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss (centred smoothing)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
    return path

"""Localised text of a diagnosis' parts, shared by every renderer."""

from __future__ import annotations

import yaml

from ..diagnosis.types import Diagnosis, Finding, Recommendation
from ..i18n import VERDICTS, label, message, recommendation, verdict


def shown_findings(d: Diagnosis) -> list[Finding]:
    """Findings a report lists: the ``best`` summary is already in the headline."""
    return [f for f in d.findings if f.code != "best"]


def finding_text(f: Finding, lang: str) -> str:
    kind = f.evidence.get("kind")
    return message(f"{f.code}.{kind}" if kind else f.code, f.evidence, lang)


def recommendation_text(r: Recommendation, lang: str) -> tuple[str, str]:
    return recommendation(r.code, r.evidence, lang)


def patch_yaml(patch: dict) -> str:
    return yaml.safe_dump(patch, sort_keys=False, default_flow_style=False, allow_unicode=True).strip()


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}g}"


def verdict_text(d: Diagnosis, lang: str) -> str:
    """The verdict, in the variant its finding's kind names when there is one (still improving
    as the LR schedule ran out is not "stopped too early")."""
    f = d.finding(d.verdict)
    variant = f"{d.verdict}.{f.evidence.get('kind')}" if f is not None else None
    return verdict(variant if variant in VERDICTS else d.verdict, lang)


def headline(d: Diagnosis, lang: str) -> dict[str, str]:
    b = d.best
    ci = ""
    if b.ci95 and b.expected is not None:
        ci = {"en": f"; true level {fmt(b.expected, 3)} (95% CI {fmt(b.ci95[0], 3)}-"
                    f"{fmt(b.ci95[1], 3)}), {len(b.tied_epochs)} epoch(s) tied",
              "zh": f"；真实水平 {fmt(b.expected, 3)}（95% 置信区间 {fmt(b.ci95[0], 3)}-"
                    f"{fmt(b.ci95[1], 3)}），{len(b.tied_epochs)} 个 epoch 并列"}[lang]
    elif b.ci95:
        ci = f" (95% CI {fmt(b.ci95[0], 3)}-{fmt(b.ci95[1], 3)})"
    out = {
        "verdict": verdict_text(d, lang),
        "monitor": f"{d.monitor} ({d.mode}) - {label('reason.' + d.monitor_reason, lang)}",
        "best": f"{fmt(b.value)} @ epoch {b.epoch:g}{ci}",
        "final": f"{fmt(d.final_value)} @ epoch {d.final_epoch:g}",
    }
    if d.lr is not None and d.lr.at_best is not None:
        # the fraction of the peak is None when the peak is 0 (an LR logged as 0 throughout)
        best_frac, onset_frac = d.lr.at_best_frac, d.lr.at_onset_frac
        parts = [label("lr.at_best", lang).format(lr=fmt(d.lr.at_best, 3))
                 + (label("lr.of_peak", lang).format(frac=_share(best_frac))
                    if best_frac is not None else "")]
        if d.lr.at_onset is not None:
            parts.append(label("lr.at_onset", lang).format(lr=fmt(d.lr.at_onset, 3))
                         + (label("lr.share", lang).format(frac=_share(onset_frac))
                            if onset_frac is not None else ""))
        out["lr"] = label("lr.separator", lang).join(parts)
    return out


def _phase_columns(d: Diagnosis) -> list[str]:
    cols = ["phase", "epochs", "mean_lr", "train", "val", "gap"]
    for key, attr in (("mean_lr", "mean_lr"), ("train", "train"), ("gap", "gap")):
        if all(getattr(p, attr) is None for p in d.phases):
            cols.remove(key)
    return cols


def phase_rows(d: Diagnosis, lang: str) -> list[list[str]]:
    cells = {"phase": lambda p: label(p.label, lang), "epochs": lambda p: f"{p.start:g}-{p.end:g}",
             "mean_lr": lambda p: fmt(p.mean_lr, 3), "train": lambda p: fmt(p.train),
             "val": lambda p: fmt(p.val), "gap": lambda p: fmt(p.gap, 3)}
    cols = _phase_columns(d)
    return [[cells[c](p) for c in cols] for p in d.phases]


def phase_header(d: Diagnosis, lang: str) -> list[str]:
    return [label(k, lang) for k in _phase_columns(d)]


def _share(frac: float) -> str:
    """A share of the peak as a percentage; under half a percent but above 0, "<1%" (an LR of
    2e-8 against a peak of 2e-5 is not "0% of peak")."""
    return "<1%" if 0 < frac < 0.005 else f"{frac:.0%}"

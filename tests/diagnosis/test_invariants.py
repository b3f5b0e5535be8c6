"""Every report agrees with itself.

Diagnoses every real log in ../shared (seed logs and public logs, every run of a file that holds
several, as ``--run all`` does), every run of the truth corpus (bench/truth), 1,000 simulated runs of every kind (8-150 epochs, noise
0.002-0.05, the short and the very noisy corners included) and a few constructed edge cases;
renders each report in English and Chinese (the markdown report, not HTML or plots) and checks
properties that must hold whatever the curve:

1. no ``nan``, ``inf`` or ``None`` in any sentence;
2. no number that is an artefact (more than 8 integer digits, such as a robust z of 7e14);
3. an overfitting onset before the best epoch only with a reason the later best does not count,
   and "validation stopped improving at epoch X" agrees with the best epoch Y (X == Y, or the
   sentence says the best at Y is within noise of X, or that it is a lucky peak);
4. nothing about the train-val gap when there is no gap ("grew from nan to nan");
5. underfitting and overfitting together only with the sentence that explains it;
6. no "train longer" advice when the LR at the end is below 1 % of its peak;
plus: the Chinese report has the same findings and nothing left untranslated, and every
recommendation's patch is a valid fitdoctor config.

Each check collects every violation over all reports, so a failure lists them all.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from fitdoctor.diagnosis import Diagnosis, diagnose
from fitdoctor.history import read_histories
from fitdoctor.history.core import History, make_history
from fitdoctor.i18n import FRAGMENTS, LABELS, MESSAGES, RECOMMENDATIONS, VERDICTS, label
from fitdoctor.report.documents import render_markdown
from fitdoctor.report.text import finding_text, headline, recommendation_text
from fitdoctor.testing.simulate import KINDS, simulate
from fitdoctor.training.config import build_config

from ..conftest import PUBLIC_LOGS, ROOT, SEED_LOGS

LANGS = ("en", "zh")
N_SIMULATED = 1000
SEED_VAL_SIZE = 1101          # the SST-5 dev set of the seed logs (their README)


# ---------------------------------------------------------------- inputs


def _frame(n: int, **cols) -> History:
    return make_history(pd.DataFrame({"epoch": np.arange(n, dtype=float), **cols}),
                        source="constructed", format="test")


def cosine_to_floor_history() -> History:
    """Cosine LR from 1e-3 down to 1e-6 at the last epoch, validation accuracy still rising."""
    n = 40
    t = np.arange(n, dtype=float)
    rng = np.random.default_rng(7)
    lr = 1e-6 + (1e-3 - 1e-6) * 0.5 * (1 + np.cos(np.pi * t / (n - 1)))
    return _frame(n, lr=lr, train_loss=np.exp(-t / 20) * (1 + rng.normal(0, 0.01, n)),
                  train_acc=0.5 + 0.45 * (1 - np.exp(-t / 15)) + rng.normal(0, 0.003, n),
                  val_acc=0.4 + 0.01 * t + rng.normal(0, 0.005, n))


def constructed() -> list[tuple[str, History]]:
    """Edge cases no simulation draws: noise-free curves (a noise estimate near 0 makes z and
    t statistics explode), a flat run, an LR that ends at 0 or is 0 throughout, 1-3 points."""
    n = 40
    t = np.arange(n, dtype=float)
    rng = np.random.default_rng(0)
    rising = 0.4 + 0.4 * t / n + rng.normal(0, 0.005, n)
    return [
        ("constructed:cosine-to-1e-6", cosine_to_floor_history()),
        ("constructed:exact-loss-with-a-blip",
         _frame(n, train_loss=np.where(t == 20, 1.05, 1.0) * 2 * np.exp(-t / 10),
                val_acc=0.4 + 0.4 * (1 - np.exp(-t / 8)) + rng.normal(0, 0.005, n))),
        ("constructed:exact-linear", _frame(n, train_acc=0.3 + 0.01 * t, val_acc=0.3 + 0.009 * t)),
        ("constructed:flat", _frame(n, train_acc=np.full(n, 0.5), val_acc=np.full(n, 0.5),
                                    lr=np.full(n, 1e-3))),
        ("constructed:lr-ends-at-0", _frame(n, val_acc=rising, lr=np.r_[np.full(n - 1, 1e-3), 0.0])),
        ("constructed:lr-all-0", _frame(n, val_acc=rising, lr=np.zeros(n))),
        ("constructed:quantised", _frame(n, train_acc=np.round(0.5 + 0.45 * (1 - np.exp(-t / 15)), 2),
                                         val_acc=np.round(0.4 + 0.3 * (1 - np.exp(-t / 8)), 2))),
        ("constructed:3-points", _frame(3, val_acc=np.array([0.1, 0.2, 0.3]),
                                        train_acc=np.array([0.1, 0.2, 0.35]))),
        ("constructed:1-point", _frame(1, val_acc=np.array([0.1]))),
    ]


def log_histories() -> list[tuple[str, History]]:
    out = []
    files = sorted(SEED_LOGS.glob("*.log")) + sorted(p for p in PUBLIC_LOGS.iterdir()
                                                     if p.is_file() and p.name != "README.md")
    for path in files:
        runs = read_histories(path)                    # what `diagnose --run all` reads
        for i, h in enumerate(runs, 1):
            if path.parent == SEED_LOGS:
                h = h.with_options(val_size=SEED_VAL_SIZE)
            out.append((f"{path.name}#{i}", h))
    return out


def corpus_histories() -> list[tuple[str, History]]:
    """Every run of the truth corpus (bench/truth/corpus), as its history.csv gives it."""
    corpus = ROOT / "bench" / "truth" / "corpus"
    return [(f"corpus:{p.parent.relative_to(corpus)}", read_histories(p)[0])
            for p in sorted(corpus.glob("*/*/s*/history.csv"))]


def simulated_histories() -> list[tuple[str, History]]:
    """N_SIMULATED runs: each kind at the four corners (8 and 150 epochs x noise 0.002 and
    0.05), the rest with n uniform in 8-150 and noise log-uniform in 0.002-0.05."""
    rng = np.random.default_rng(20240611)
    specs = [(k, n, s) for k in KINDS for n in (8, 150) for s in (0.002, 0.05)]
    while len(specs) < N_SIMULATED:
        specs.append((KINDS[len(specs) % len(KINDS)], int(rng.integers(8, 151)),
                      float(np.exp(rng.uniform(np.log(0.002), np.log(0.05))))))
    return [(f"sim:{k}:n={n}:noise={s:.4f}:seed={i}", simulate(k, n=n, noise=s, seed=i).history)
            for i, (k, n, s) in enumerate(specs)]


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class Report:
    name: str
    history: History
    d: Diagnosis
    findings: dict[str, dict[str, str]]      # lang -> code(.kind) -> rendered message
    recs: dict[str, list[tuple[str, str]]]   # lang -> [(title, rationale)]
    markdown: dict[str, str]                 # lang -> report.md (no image)

    def sentences(self, lang: str) -> list[str]:
        """Everything a reader reads as prose: headline values, findings, recommendations."""
        out = list(headline(self.d, lang).values()) + list(self.findings[lang].values())
        out += [s for pair in self.recs[lang] for s in pair]
        if lang == "en":       # the stored English texts of the JSON document too
            out += [f.message for f in self.d.findings]
            out += [s for r in self.d.recommendations for s in (r.title, r.rationale)]
        return out

    def finding_text(self, code: str, lang: str) -> str | None:
        return next((v for k, v in self.findings[lang].items() if k.split(".")[0] == code), None)

    def rec(self, code: str):
        return next((r for r in self.d.recommendations if r.code == code), None)


def _key(f) -> str:
    kind = f.evidence.get("kind")
    return f"{f.code}.{kind}" if kind else f.code


def make_report(name: str, h: History) -> Report:
    d = diagnose(h)
    keys: list[str] = []
    for f in d.findings:            # a second instability or schedule_mismatch gets "#2"
        k = _key(f)
        keys.append(k if k not in keys else f"{k}#{keys.count(k) + 1}")
    findings = {lang: {k: finding_text(f, lang) for k, f in zip(keys, d.findings)}
                for lang in LANGS}
    recs = {lang: [recommendation_text(r, lang) for r in d.recommendations] for lang in LANGS}
    md = {lang: render_markdown(d, lang, image=None) for lang in LANGS}
    return Report(name, h, d, findings, recs, md)


def reports() -> tuple[Report, ...]:
    # keyed by the mutant under test (make mutate): a mutation run forks every mutant from a
    # process that already built the clean reports, which must not be reused
    return _reports(os.environ.get("MUTANT_UNDER_TEST"))


@functools.lru_cache(maxsize=1)
def _reports(mutant: str | None) -> tuple[Report, ...]:
    inputs = log_histories() + corpus_histories() + simulated_histories() + constructed()
    return tuple(make_report(name, h) for name, h in inputs)


def _fail(what: str, bad: list) -> None:
    """bad: tuples whose first item is the report's name."""
    lines = "\n  ".join(str(b) for b in bad[:25])
    more = f"\n  ... and {len(bad) - 25} more" if len(bad) > 25 else ""
    n = len({b[0] for b in bad})
    pytest.fail(f"{what}: {n} of {len(reports())} reports ({len(bad)} violations)\n  {lines}{more}",
                pytrace=False)


def _body(md: str) -> str:
    """The markdown without its title and source lines (file names may hold long numbers)."""
    return "\n".join(ln for ln in md.splitlines()
                     if not ln.startswith("# ") and not ln.startswith("- **Source")
                     and not ln.startswith("- **来源"))


def test_inputs_cover_every_log_kind_and_corner():
    rs = reports()
    names = [r.name for r in rs]
    assert sum(n.startswith("sim:") for n in names) == N_SIMULATED
    assert {n.split(":")[1] for n in names if n.startswith("sim:")} == set(KINDS)
    assert any(r.d.n_points == 8 for r in rs) and any(":noise=0.0500" in n for n in names)
    assert sum(n.endswith("#2") for n in names) >= 2          # files with several runs: each run
    assert len([n for n in names if not n.startswith(("sim:", "constructed:", "corpus:"))]) >= 28
    assert sum(n.startswith("corpus:") for n in names) >= 200


# ---------------------------------------------------------------- 1. nan / inf / None

# Python's renderings of a missing or non-finite number; "NaN or infinite" in the non_finite
# message is a sentence about the log, not an artefact, and is removed before matching.
_ARTEFACT = re.compile(r"(?<![\w.-])-?(?:nan|inf|infinity)(?![\w])|(?<![\w.])None(?![\w])",
                       re.IGNORECASE)
_LEGIT = ("NaN or infinite", "NaN 或无穷大")


def _artefacts(text: str) -> list[str]:
    for phrase in _LEGIT:
        text = text.replace(phrase, "")
    hits = _ARTEFACT.findall(text)
    # "none" (lower case) is the report's own word for "no recommendation"
    return [h for h in hits if h != "none"]


def test_1_no_nan_inf_or_none_in_any_sentence():
    bad = []
    for r in reports():
        for lang in LANGS:
            texts = r.sentences(lang) + [_body(r.markdown[lang])]
            hits = sorted({h for s in texts for h in _artefacts(s)})
            if hits:
                first = next(s for s in texts if _artefacts(s))
                bad.append((r.name, lang, hits, first[:160]))
    if bad:
        _fail("nan/inf/None in a sentence", bad)


# ---------------------------------------------------------------- 2. artefact numbers

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w])")
MAX_INTEGER_DIGITS = 8


def _huge_numbers(text: str) -> list[str]:
    """Numbers written with more than 8 digits before the point: "751335664937620.0" is an
    artefact; a diverged loss written "4.745e+11" is a real value, written as such."""
    return [m.group() for m in _NUMBER.finditer(text)
            if len(re.split(r"[.eE]", m.group().lstrip("-"))[0]) > MAX_INTEGER_DIGITS]


def test_2_no_number_with_more_than_8_integer_digits():
    bad = []
    for r in reports():
        for lang in LANGS:
            for s in r.sentences(lang) + [_body(r.markdown[lang])]:
                if _huge_numbers(s):
                    bad.append((r.name, lang, _huge_numbers(s)[:3], s[:160]))
                    break
    if bad:
        _fail("artefact numbers", bad)


def test_2_a_robust_z_above_100_reads_above_100():
    r = next(r for r in reports() if r.name == "constructed:exact-loss-with-a-blip")
    f = r.d.finding("instability")
    assert f is not None and f.evidence["max_z"] > 100      # a noise estimate of ~1e-16
    assert "robust z up to > 100" in r.findings["en"]["instability"]
    assert "> 100" in r.findings["zh"]["instability"]
    r = next(r for r in reports() if r.name == "constructed:exact-linear")   # noise-free: t ~ 1e15
    assert r.d.finding("underfitting").evidence["t"] > 100
    assert "t > 100" in r.findings["en"]["underfitting"] and "t > 100" in r.findings["zh"]["underfitting"]


# ---------------------------------------------------------------- 3. onset, best, "stopped"

_STOPPED = {"en": re.compile(r"stopped improving at epoch (-?[\d.]+?)(?=[ ,:;()]|$)"),
            "zh": re.compile(r"在 epoch (-?[\d.]+?) 停止提升")}
_TIED = {"en": "is within noise of epoch {x:g}", "zh": "与 epoch {x:g} 在噪声范围内无差别"}
_LUCKY = {"en": "a lucky peak", "zh": "运气峰值"}


def test_3_onset_before_best_only_when_the_best_does_not_count():
    bad = []
    for r in reports():
        f = r.d.finding("overfitting")
        if f is None:
            continue
        onset, y = f.evidence["onset"], r.d.best.epoch
        if onset >= y or "lucky_best" in r.d.codes:
            continue
        for lang in LANGS:
            text = r.finding_text("overfitting", lang)
            m = _STOPPED[lang].search(text)
            x = float(m.group(1)) if m else None
            explained = (x is not None and x <= onset and x in r.d.best.tied_epochs
                         and _TIED[lang].format(x=x) in text and f"epoch {y:g}" in text)
            if not explained:
                bad.append((r.name, lang, f"onset {onset:g} < best {y:g}", text[:200]))
    if bad:
        _fail("overfitting onset before the best epoch, with no reason the best does not count", bad)


def test_3_stopped_improving_agrees_with_the_best_epoch():
    bad = []
    for r in reports():
        f = r.d.finding("overfitting")
        if f is None:
            continue
        y, tied = r.d.best.epoch, r.d.best.tied_epochs
        for lang in LANGS:
            text = r.finding_text("overfitting", lang)
            m = _STOPPED[lang].search(text)
            if m is None:
                bad.append((r.name, lang, "no 'stopped improving at epoch X'", text[:200]))
                continue
            x = float(m.group(1))
            if x == y:
                continue
            tie = x in tied and _TIED[lang].format(x=x) in text and f"epoch {y:g}" in text
            luck = "lucky_best" in r.d.codes and _LUCKY[lang] in text and f"epoch {y:g}" in text
            if not (tie or luck):
                bad.append((r.name, lang, f"stopped at {x:g}, best at {y:g}, tied {x in tied}",
                            text[:220]))
            # every other sentence of the report that says where validation stopped agrees
            others = [s for s in r.sentences(lang) if s != text]
            for s in others:
                for m2 in _STOPPED[lang].finditer(s):
                    if float(m2.group(1)) != x:
                        bad.append((r.name, lang, f"another sentence says {m2.group(1)}, not {x:g}",
                                    s[:160]))
    if bad:
        _fail("'validation stopped improving at epoch X' vs the best epoch", bad)


# ---------------------------------------------------------------- 4. no gap, no gap sentence

_GAP = {"en": "gap grew", "zh": "差距从"}


def test_4_nothing_about_a_gap_when_there_is_none():
    bad = []
    for r in reports():
        for lang in LANGS:
            for s in r.sentences(lang):
                if re.search(r"gap grew from -?nan|差距从 -?nan", s, re.IGNORECASE):
                    bad.append((r.name, lang, s[:200]))
        f = r.d.finding("overfitting")
        if f is not None and r.d.train_column is None:        # no same-metric training curve
            for lang in LANGS:
                texts = [r.finding_text("overfitting", lang)]
                texts += [why for (_, why), rec in zip(r.recs[lang], r.d.recommendations)
                          if rec.code == "regularize"]
                for s in texts:
                    if _GAP[lang] in s:
                        bad.append((r.name, lang, "no gap but a gap sentence", s[:200]))
    if bad:
        _fail("a train-val gap sentence without a gap", bad)


# ---------------------------------------------------------------- 5. under- and overfitting

_BOTH = {"en": "no longer generalising better", "zh": "不再带来更好的泛化"}


def test_5_underfitting_with_overfitting_only_with_an_explanation():
    bad = []
    for r in reports():
        if not {"underfitting", "overfitting"} <= set(r.d.codes):
            continue
        for lang in LANGS:
            if not any(_BOTH[lang] in s for s in r.sentences(lang)):
                bad.append((r.name, lang, r.finding_text("underfitting", lang)[:200]))
        # and no advice that pulls both ways: less regularization and more epochs next to
        # early stopping and more regularization
        if r.rec("reduce_regularization") is not None:
            bad.append((r.name, "-", "reduce_regularization next to regularize"))
    if bad:
        _fail("underfitting and overfitting claimed together without an explanation", bad)


# ---------------------------------------------------------------- 6. the schedule had ended

LR_ENDED = 0.01
_TRAIN_LONGER = {"en": re.compile(r"train longer|stopped too early", re.IGNORECASE),
                 "zh": re.compile(r"训练更久|停得太早")}


def _lr_end_fraction(h: History) -> float | None:
    if not h.has("lr"):
        return None
    lr = h.values("lr")
    lr = lr[np.isfinite(lr)]
    if len(lr) < 2 or lr.max() <= 0:
        return None
    return float(lr[-1] / lr.max())


def _schedule_ended_violations(r: Report) -> list:
    frac = _lr_end_fraction(r.history)
    if frac is None or frac >= LR_ENDED:
        return []
    bad = []
    if r.rec("train_longer") is not None:
        bad.append((r.name, f"LR at {frac:.2%} of peak", "train_longer recommended"))
    for lang in LANGS:
        for s in r.sentences(lang):
            if _TRAIN_LONGER[lang].search(s):
                bad.append((r.name, lang, f"LR at {frac:.2%} of peak", s[:160]))
    if "still_improving" in r.d.codes:
        rec = r.rec("schedule_ended")
        if rec is None:
            bad.append((r.name, "still improving as the LR ended, but no schedule_ended advice"))
        else:
            t = rec.patch.get("training", {})
            params = t.get("scheduler_params", {})
            if not ({"eta_min", "T_max", "T_0"} & set(params) or "lr_floor" in t):
                bad.append((r.name, "schedule_ended patch changes no schedule key", rec.patch))
    return bad


def test_6_no_train_longer_advice_when_the_lr_has_ended():
    bad = [b for r in reports() for b in _schedule_ended_violations(r)]
    if bad:
        _fail("train-longer advice after the LR schedule ended", bad)


def test_6_cosine_to_1e6_with_rising_accuracy():
    r = make_report("cosine", cosine_to_floor_history())
    assert _lr_end_fraction(r.history) < LR_ENDED
    assert "still_improving" in r.d.codes          # the accuracy does rise at the end ...
    assert _schedule_ended_violations(r) == []      # ... but the advice is about the schedule
    rec = r.rec("schedule_ended")
    params = rec.patch["training"]["scheduler_params"]
    assert params["eta_min"] == pytest.approx(1e-5, rel=0.01)     # 1 % of the peak LR
    assert params["T_max"] == rec.patch["training"]["epochs"] > 40
    build_config(rec.patch)


def test_recommendation_patches_are_valid_configs():
    bad = []
    for r in reports():
        for rec in r.d.recommendations:
            try:
                build_config(rec.patch)
            except Exception as exc:            # noqa: BLE001 - report every one
                bad.append((r.name, rec.code, str(exc)[:160]))
    if bad:
        _fail("recommendation patches that are not valid configs", bad)


# ---------------------------------------------------------------- Chinese


_CJK = re.compile(r"[\u4e00-\u9fff]")
_RAW_KEY = re.compile(r"\b(?:reason|verdict|schedule_mismatch)\.[a-z_]+\b")


def test_every_text_has_both_languages():
    tables = {"MESSAGES": MESSAGES, "RECOMMENDATIONS": RECOMMENDATIONS, "FRAGMENTS": FRAGMENTS,
              "VERDICTS": VERDICTS, "LABELS": LABELS}
    missing = [(t, k) for t, table in tables.items() for k, v in table.items()
               if set(LANGS) - set(v)]
    assert missing == []


def test_chinese_report_has_the_same_findings_and_nothing_untranslated():
    bad = []
    finding_line = re.compile(r"^- \*\*[^*]+\*\* `([a-z_]+)`:", re.MULTILINE)
    for r in reports():
        en, zh = r.markdown["en"], r.markdown["zh"]
        if finding_line.findall(en) != finding_line.findall(zh):
            bad.append((r.name, "findings differ", finding_line.findall(en), finding_line.findall(zh)))
        if list(r.findings["en"]) != list(r.findings["zh"]):
            bad.append((r.name, "finding keys differ"))
        texts = list(r.findings["zh"].values()) + [s for pair in r.recs["zh"] for s in pair]
        for s in texts:
            if not _CJK.search(s):
                bad.append((r.name, "no Chinese in", s[:120]))
        for key, s in r.findings["zh"].items():
            if s == r.findings["en"][key]:
                bad.append((r.name, "zh text equals en", key))
        if _RAW_KEY.search(zh):
            bad.append((r.name, "raw key", _RAW_KEY.findall(zh)))
        keys = ([p.label for p in r.d.phases] + [f.severity for f in r.d.findings]
                + ["reason." + r.d.monitor_reason])
        untranslated = [k for k in keys if label(k, "zh") == k]
        if untranslated:
            bad.append((r.name, "labels without zh", untranslated))
    if bad:
        _fail("the Chinese report", bad)


# ---------------------------------------------------------------- 7. (best.py, being reworked)


def test_7_true_level_no_better_than_the_best_observed_beyond_noise():
    bad = []
    for r in reports():
        b = r.d.best
        if b.expected is None or b.noise is None or not math.isfinite(b.noise):
            continue
        sign = 1.0 if r.d.mode == "max" else -1.0
        excess = sign * (b.expected - b.value)
        if excess > b.noise:
            bad.append((r.name, f"true level {b.expected:.4g} vs best {b.value:.4g}, "
                                f"noise {b.noise:.3g}"))
    if bad:
        _fail("true level better than the best observed by more than the noise", bad)


# ---------------------------------------------------------------- 8. counts, shares, directions

_ONE_EPOCHS = re.compile(r"(?<![\d.])1 epochs\b")
_AT_ONE_EPOCHS = re.compile(r"\bat epochs \d+(?:\.\d+)?(?![\d.]|, \d)")


def test_8_counts_shares_and_directions_read_right():
    """No '1 epochs' or 'at epochs 40' (one epoch named in the plural); no '0% of peak' for an
    LR above 0; a loss still improving is never said to rise (it falls)."""
    bad = []
    for r in reports():
        texts = r.sentences("en") + [_body(r.markdown["en"])]
        for s in texts:
            for pattern in (_ONE_EPOCHS, _AT_ONE_EPOCHS):
                m = pattern.search(s)
                if m:
                    bad.append((r.name, m.group(), s[max(0, m.start() - 60):m.end() + 20]))
        lr = r.d.lr
        if lr is not None and lr.at_best and any("(0% of peak)" in s for s in texts):
            bad.append((r.name, f"LR {lr.at_best:.3g} at best called 0% of its peak"))
        f = r.d.finding("still_improving")
        if f is not None and r.d.mode == "min" and re.search(r"\b(rose|rising)\b", f.message):
            bad.append((r.name, "a loss still improving said to rise", f.message[:160]))
    if bad:
        _fail("a count, share or direction that reads wrong", bad)

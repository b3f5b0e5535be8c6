"""Mutation testing of the statistics, readers, schedules, comparison and early stopping:
`make mutate` (not in CI: an hour or more on two cores).

Runs mutmut (configured in pyproject.toml, [tool.mutmut]: which modules are mutated and which
tests judge them) and writes bench/results/mutation-<date>.json:

    {"modules": {module: {"killed": k, "survived": s, "timeout": t, "no_tests": u,
                          "not_checked": c, "score": ...}},
     "score": killed / (killed + survived + no_tests), "equivalent": {mutant: why}, ...}

A mutant that no test reaches ("no tests") counts as survived in the score: nothing would catch
it. Timeouts are listed but not scored; mutants mutmut marks suspicious or skipped are left out;
"not checked" are those a run stopped at its time limit did not reach. Survivors judged equivalent (no input the callers can give behaves differently) are listed in
EQUIVALENT with the reason, and reported beside the score, never removed from it.

Why mutmut (3.x) and not cosmic-ray: mutmut forks each mutant from a warm pytest process and
runs only the tests that reached the mutated function (it records them in one clean run), so a
mutant costs about a second here; cosmic-ray starts the whole test command per mutant (torch and
the suite's imports alone take several seconds). Both are maintained; mutmut needs no session
database or per-module config.

    .venv/bin/python bench/mutation.py [--max-children N] [--skip-run]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATUS = {"killed": "killed", "survived": "survived", "timeout": "timeout", "no tests": "no_tests",
          "suspicious": "suspicious", "skipped": "skipped", "segfault": "killed",
          "caught by type check": "killed", "not checked": "not_checked"}

# mutant -> why no input the callers can give tells it apart from the original
_ES = "fitdoctor.training.early_stopping."
EQUIVALENT: dict[str, str] = {
    _ES + "x_train_val_gap__mutmut_9": "split('_', 1) has at most two parts: [+1] is [-1] "
    "whenever the name has an underscore, and a monitor without one has no train_ counterpart "
    "either way",
    _ES + "xǁStopRuleǁ__init____mutmut_16": "wait = None: the first update always improves "
    "(best is None) and sets wait to 0 before it is read",
    _ES + "xǁStopRuleǁ__init____mutmut_17": "wait = 1: as above, reset by the first update",
    _ES + "xǁStopRuleǁ__init____mutmut_20": "hold_until = '': as above, the first update "
    "(always an improvement) sets it to None",
    _ES + "xǁStopRuleǁupdate__mutmut_68": "the PATIENCE decision without improved=: an epoch "
    "that improves resets wait to 0, so with patience >= 1 (the config's bound) the stop "
    "never comes on an improving epoch and improved is False either way",
}
_C = "fitdoctor.diagnosis.comparison."
_DF = "the getattr(t, 'df', ...) fallback: scipy's Welch result always has df (scipy >= 1.11)"
_SIGN = "sign set to +-2 instead of +-1: it only scales an argmax, a sort key or a '> 0' test"
EQUIVALENT.update({
    _C + "x__holm__mutmut_6": "adj starts at 1.0 instead of None: every slot is overwritten",
    _C + "x__paired__mutmut_24": "binomtest's p=0.5 dropped: 0.5 is its default",
    _C + "x__paired__mutmut_31": "only_a - only_b as the test's condition: with equal counts "
    "scipy's two-sided p is exactly 1.0, the fallback anyway",
    _C + "x__paired__mutmut_39": "rng.integers(n) is rng.integers(0, n): the same stream",
    _C + "x_expected_max_curve__mutmut_4": "no float dtype: the caller passes floats, and ints "
    "give the same result",
    _C + "x_expected_max_curve__mutmut_6": "as _4",
    _C + "x_compare__mutmut_39": "the 'run' label of the grouping key: a pair of strings never "
    "equals a config key (a tuple of pairs)",
    _C + "x_compare__mutmut_40": "as _39",
    _C + "x_compare__mutmut_67": _SIGN, _C + "x_compare__mutmut_72": _SIGN,
    _C + "x_compare__mutmut_151": _SIGN, _C + "x_compare__mutmut_156": _SIGN,
    _C + "x_compare__mutmut_183": "equal_var=None: scipy reads it as false, still Welch",
    **{_C + f"x_compare__mutmut_{k}": _DF for k in (208, 211, 214, 215, 216)},
    _C + "x_compare__mutmut_411": "_holm([]) is [], as empty as iter(())",
    _C + "x_compare__mutmut_449": "nan < 0.05 is already False",
    _C + "x_run_input__mutmut_7": "tail_length(0) is 0 anyway",
})
_R = "fitdoctor.diagnosis.recommend.x_recommend__mutmut_"
_UNUSED = "a key of the recommendation's evidence that no rationale template (en or zh) reads"
EQUIVALENT.update({
    _R + "165": "n_reach floored at 2 instead of 1: below 2 the patience is 3 and T_0 is 2 "
    "either way",
    _R + "194": _UNUSED + " (reach)", _R + "195": _UNUSED + " (reach)",
    **{_R + str(k): "the fragment's default None renamed: a missing key and None both leave the "
       "optional clause out" for k in (420, 421, 422, 423)},
    _R + "452": _UNUSED + " (epochs, in the cosine branch)", _R + "454": _UNUSED + " (epochs)",
    _R + "733": "float('NAN') is float('nan')",
})

# judged by the helpers who wrote the readers', statistics' and schedule audit's tests (each
# one read against the mutant's diff; the rest of those modules' survivors are not claimed)
EQUIVALENT.update({
    'fitdoctor.diagnosis.lr.x_last_restart__mutmut_23':
        'NaN comparisons raise no warning to silence',
    'fitdoctor.diagnosis.lr.x_last_restart__mutmut_4': 'Context.lr is a float array already',
    'fitdoctor.diagnosis.lr.x_last_restart__mutmut_6': 'as 4',
    'fitdoctor.diagnosis.lr.x_last_restart__mutmut_7':
        'with 2 values the first pair cannot be below its running peak',
    'fitdoctor.diagnosis.lr.x_last_restart__mutmut_8': 'as 7',
    'fitdoctor.diagnosis.schedule_audit.x__cosine_fit__mutmut_29':
        'var 0 comes with a numerator of 0',
    'fitdoctor.diagnosis.schedule_audit.x__cosine_fit__mutmut_34': 'sum(c - cm) is 0',
    'fitdoctor.diagnosis.schedule_audit.x__cosine_fit__mutmut_35': 'as 34',
    'fitdoctor.diagnosis.schedule_audit.x__cosine_fit__mutmut_43': 'as 29',
    'fitdoctor.diagnosis.schedule_audit.x__cosine_fit__mutmut_45': 'as 29',
    'fitdoctor.diagnosis.schedule_audit.x__lsq__mutmut_6': "numpy's default rcond is None already",
    'fitdoctor.diagnosis.schedule_audit.x__smooth_families__mutmut_36':
        "log(0) gives NaN coefficients and a NaN gamma fails '< 1'",
    'fitdoctor.diagnosis.schedule_audit.x__smooth_families__mutmut_95':
        't[-1] <= 0 means every t is 0: nothing fits at any span',
    'fitdoctor.diagnosis.stats.x_infer_denominator__mutmut_111':
        'any base above 1 already makes the chance >= 1e-6',
    'fitdoctor.diagnosis.stats.x_infer_denominator__mutmut_24':
        'd = 0 never matches a value strictly between 0 and 1',
    'fitdoctor.diagnosis.stats.x_infer_denominator__mutmut_63':
        'an integer n array gives the same arithmetic',
    'fitdoctor.diagnosis.stats.x_infer_denominator__mutmut_66': 'as 63',
    'fitdoctor.diagnosis.stats.x_slope_test__mutmut_19': "float('NAN') is NaN",
    'fitdoctor.diagnosis.stats.x_slope_test__mutmut_22': 'as 19',
    'fitdoctor.diagnosis.stats.x_slope_test__mutmut_25': 'an integer x gives the same sums',
    'fitdoctor.diagnosis.stats.x_slope_test__mutmut_27': 'as 25',
    'fitdoctor.diagnosis.stats.x_slope_test__mutmut_40': 'adds mean * sum(xc) = 0',
    'fitdoctor.diagnosis.stats.x_smooth__mutmut_10': 'as 9',
    'fitdoctor.diagnosis.stats.x_smooth__mutmut_15':
        'both code paths compute the same Savitzky-Golay result',
    'fitdoctor.diagnosis.stats.x_smooth__mutmut_28': "mode= dropped: scipy's default is the same",
    'fitdoctor.diagnosis.stats.x_smooth__mutmut_29': 'axis= dropped: the default is the same',
    'fitdoctor.diagnosis.stats.x_smooth__mutmut_35': 'min(2, w + 1) is 2 either way',
    'fitdoctor.diagnosis.stats.x_smooth__mutmut_9':
        'a 3-point window with a quadratic returns the input',
    'fitdoctor.diagnosis.stats.x_window_for__mutmut_15':
        'w == n only for odd n: both branches return n',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_100':
        "numpy accepts kind 'STABLE' as 'stable'",
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_104':
        'a bin edge of -2 instead of -1 matters only for negative steps',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_111': 'astype(None) is float64 too',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_119':
        'right=True is the default it names',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_80':
        'train[keep] on an empty frame is the same frame',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_83':
        'evaluation rows are keyed by step: no ties to sort',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_85': 'as 83',
    'fitdoctor.history.readers.hf.x_read_trainer_state__mutmut_91': 'as 83',
    'fitdoctor.history.readers.tensorboard.x_read_tensorboard__mutmut_16':
        "Tags() always has a 'scalars' key",
    'fitdoctor.history.readers.tensorboard.x_read_tensorboard__mutmut_18': 'as 16',
    'fitdoctor.history.readers.text.x_clean_line__mutmut_5':
        'with [-1] the maxsplit does not matter',
    'fitdoctor.history.readers.text.x_clean_line__mutmut_8': 'as 5',
    'fitdoctor.history.readers.text.x_read_text__mutmut_105': "float('INF') is float('inf')",
    'fitdoctor.history.readers.text.x_read_text__mutmut_108': 'as 105',
    'fitdoctor.history.readers.text.x_read_text__mutmut_156':
        'with no runs the row sum is 0 anyway',
    'fitdoctor.history.readers.text.x_read_text__mutmut_69':
        'both vote counters step by 2: the comparison is unchanged',
    'fitdoctor.history.readers.text.x_read_text__mutmut_78':
        'a run always has rows once last_epoch is set',
    'fitdoctor.history.readers.text.x_read_text__mutmut_98': "'EPOCH' is lowercased to 'epoch'",
    'fitdoctor.history.readers.x__read_json__mutmut_18': 'read_trainer_state never uses path',
    'fitdoctor.history.readers.x__read_json__mutmut_45':
        "the flavour is only compared with 'mmcv-json' and 'jsonl'",
    'fitdoctor.history.readers.x__read_json__mutmut_49': 'as 45',
    'fitdoctor.history.readers.x__read_json__mutmut_50': 'as 45',
    'fitdoctor.history.readers.xǁ_Sourceǁlines__mutmut_11': 'every consumer strips each line',
    'fitdoctor.history.readers.xǁ_Sourceǁlines__mutmut_12': 'as 11',
    'fitdoctor.history.readers.xǁ_Sourceǁlines__mutmut_8': 'codec names are case-insensitive',
    'fitdoctor.history.readers.xǁ_Sourceǁtext__mutmut_8': 'codec names are case-insensitive',
})


def module_of(mutant: str) -> str:
    """'fitdoctor.diagnosis.stats.x_smooth__mutmut_3' -> 'fitdoctor.diagnosis.stats'."""
    return re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]


def results() -> list[tuple[str, str]]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep and name.startswith("fitdoctor."):
            rows.append((name, STATUS.get(status.strip(), status.strip())))
    return rows


def summarise(rows: list[tuple[str, str]]) -> dict:
    per: dict[str, Counter] = defaultdict(Counter)
    for name, status in rows:
        per[module_of(name)][status] += 1
    modules = {m: {k: c.get(k, 0) for k in ("killed", "survived", "timeout", "no_tests",
                                             "not_checked")}
               for m, c in sorted(per.items())}
    for m, c in modules.items():
        judged = c["killed"] + c["survived"] + c["no_tests"]
        c["score"] = round(c["killed"] / judged, 4) if judged else None
    surviving = {n for n, s in rows if s in ("survived", "no_tests")}
    return _totals({"date": dt.date.today().isoformat(), "tool": "mutmut " + _version(),
                    "modules": modules}, surviving)


def _totals(doc: dict, surviving: set[str]) -> dict:
    modules = doc["modules"]
    killed = sum(c["killed"] for c in modules.values())
    survived = sum(c["survived"] + c["no_tests"] for c in modules.values())
    return {**doc, "killed": killed, "survived": survived,
            "not_checked": sum(c.get("not_checked", 0) for c in modules.values()),
            "score": round(killed / (killed + survived), 4) if killed + survived else None,
            "equivalent": {n: why for n, why in EQUIVALENT.items() if n in surviving},
            "survivors": sorted(surviving)}


def merge(docs: list[dict]) -> dict:
    """Runs of parts of the mutants (a run stopped at a time limit, another on the modules it did
    not reach): per module, the run that checked the most of its mutants."""
    def checked(c: dict) -> int:
        return c["killed"] + c["survived"] + c["no_tests"] + c["timeout"]

    modules, source, total = {}, {}, {}
    for i, doc in enumerate(docs):
        for m, c in doc["modules"].items():
            total[m] = max(total.get(m, 0), checked(c) + c.get("not_checked", 0))
            if m not in modules or checked(c) >= checked(modules[m]):
                modules[m], source[m] = dict(c), i
    for m, c in modules.items():       # a run that did not list its unchecked mutants
        c["not_checked"] = total[m] - checked(c)
    surviving = {n for i, doc in enumerate(docs) for n in doc["survivors"]
                 if source.get(module_of(n)) == i}
    return _totals({"date": docs[-1]["date"], "tool": docs[-1]["tool"], "modules": modules,
                    "merged_from": [d.get("part", "") for d in docs]}, surviving)


def _version() -> str:
    from importlib.metadata import version
    return version("mutmut")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--skip-run", action="store_true", help="summarise the last run only")
    ap.add_argument("--out", default=None)
    ap.add_argument("--part", default="", help="a label for this run when it covers a part")
    ap.add_argument("--note", default="", help="what the summary is made of, kept in the JSON")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="merge the summaries of partial "
                    "runs (per module, the run that checked most of it) instead of running")
    ap.add_argument("patterns", nargs="*", help="mutant name patterns (mutmut run's filter)")
    args = ap.parse_args()
    if args.merge:
        doc = merge([json.loads(Path(p).read_text()) for p in args.merge])
    else:
        if not args.skip_run:
            subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                            str(args.max_children), *args.patterns], cwd=ROOT, check=True)
        doc = {**summarise(results()), "part": args.part}
    if args.note:
        doc["note"] = args.note
    out = Path(args.out or ROOT / "bench" / "results" / f"mutation-{doc['date']}.json")
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    width = max(len(m) for m in doc["modules"]) if doc["modules"] else 10
    print(f"{'module':{width}s}  killed  survived  no tests  timeout  unchecked  score")
    for m, c in doc["modules"].items():
        print(f"{m:{width}s}  {c['killed']:6d}  {c['survived']:8d}  {c['no_tests']:8d}  "
              f"{c['timeout']:7d}  {c.get('not_checked', 0):9d}  "
              f"{c['score'] if c['score'] is not None else '-'}")
    print(f"score {doc['score']} ({doc['killed']} killed, {doc['survived']} survived incl. "
          f"no tests, {doc['not_checked']} not checked; {len(doc.get('equivalent', {}))} of the "
          f"survivors judged equivalent) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

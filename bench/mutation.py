"""Mutation testing of the statistics, readers, schedules, comparison and early stopping:
`make mutate` (not in CI: an hour or more on two cores).

Runs mutmut (configured in pyproject.toml, [tool.mutmut]: which modules are mutated and which
tests judge them) and writes bench/results/mutation-<date>.json:

    {"modules": {module: {"killed": k, "survived": s, "timeout": t, "no_tests": u}},
     "score": killed / (killed + survived), "equivalent": {mutant: why}, ...}

A mutant that no test reaches ("no tests") counts as survived in the score: nothing would catch
it. Survivors judged equivalent (no input the callers can give behaves differently) are listed in
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
          "caught by type check": "killed"}

# mutant -> why no input the callers can give tells it apart from the original
EQUIVALENT: dict[str, str] = {}


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
    modules = {m: {k: c.get(k, 0) for k in ("killed", "survived", "timeout", "no_tests")}
               for m, c in sorted(per.items())}
    for m, c in modules.items():
        judged = c["killed"] + c["survived"] + c["no_tests"]
        c["score"] = round(c["killed"] / judged, 4) if judged else None
    killed = sum(c["killed"] for c in modules.values())
    survived = sum(c["survived"] + c["no_tests"] for c in modules.values())
    surviving = {n for n, s in rows if s in ("survived", "no_tests")}
    return {"date": dt.date.today().isoformat(), "tool": "mutmut " + _version(),
            "modules": modules, "killed": killed, "survived": survived,
            "score": round(killed / (killed + survived), 4) if killed + survived else None,
            "equivalent": {n: why for n, why in EQUIVALENT.items() if n in surviving},
            "survivors": sorted(surviving)}


def _version() -> str:
    from importlib.metadata import version
    return version("mutmut")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--skip-run", action="store_true", help="summarise the last run only")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not args.skip_run:
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children",
                        str(args.max_children)], cwd=ROOT, check=True)
    doc = summarise(results())
    out = Path(args.out or ROOT / "bench" / "results" / f"mutation-{doc['date']}.json")
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    width = max(len(m) for m in doc["modules"]) if doc["modules"] else 10
    print(f"{'module':{width}s}  killed  survived  no tests  timeout  score")
    for m, c in doc["modules"].items():
        print(f"{m:{width}s}  {c['killed']:6d}  {c['survived']:8d}  {c['no_tests']:8d}  "
              f"{c['timeout']:7d}  {c['score'] if c['score'] is not None else '-'}")
    print(f"score {doc['score']} ({doc['killed']} killed, {doc['survived']} survived incl. "
          f"no tests; {len(doc['equivalent'])} of the survivors judged equivalent) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

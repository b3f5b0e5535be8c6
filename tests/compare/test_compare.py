"""compare: real differences come out significant, noise does not."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.diagnosis import diagnose
from fitdoctor.diagnosis.comparison import _holm, compare, expected_max_curve, run_input
from fitdoctor.history.core import make_history
from fitdoctor.store import RunStore

from ..conftest import SEED_LOGS

runner = CliRunner()


def curve_history(name, level, seed, n=30, noise=0.005, config=None):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    val = level - 0.3 * np.exp(-t / 4) + rng.normal(0, noise, n)
    train = val + 0.05 + rng.normal(0, noise / 3, n)
    return make_history(pd.DataFrame({"epoch": t, "train_acc": train, "val_acc": val}),
                        source=name, format="test", name=name, config=config or {})


def inputs(histories, correct=None):
    return [run_input(h.name, diagnose(h), h, correct=None if correct is None else correct[i])
            for i, h in enumerate(histories)]


def test_seed_logs_try_series_are_indistinguishable():
    r = runner.invoke(app, ["compare", *(str(SEED_LOGS / f"sst-try{i}.log") for i in (1, 3, 4)),
                            "--val-size", "1101", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "fitdoctor.comparison/1"
    assert {x["name"] for x in doc["runs"]} == {"sst-try1.log", "sst-try3.log", "sst-try4.log"}
    assert all(set(x) >= {"name", "best", "best_epoch"} for x in doc["runs"])
    assert len(doc["pairs"]) == 3 and not any(p["significant"] for p in doc["pairs"])
    assert all(set(p) >= {"a", "b", "delta", "ci95", "p_value", "significant"} for p in doc["pairs"])
    assert len(doc["best_group"]) == 3                       # the notes' star ratings were noise


def test_lr_range_logs_separate_real_from_noise():
    names = ["sst-lr-1e-7", "sst-lr-1e-5", "sst-lr-2e-5"]
    r = runner.invoke(app, ["compare", *(str(SEED_LOGS / f"{n}.log") for n in names), "--val-size", "1101", "--json"])
    doc = json.loads(r.stdout)
    sig = {(p["a"], p["b"]): p["significant"] for p in doc["pairs"]}
    assert sig[("sst-lr-1e-5.log", "sst-lr-1e-7.log")] or sig[("sst-lr-2e-5.log", "sst-lr-1e-7.log")]
    assert "sst-lr-1e-7.log" not in doc["best_group"]
    assert not sig.get(("sst-lr-1e-5.log", "sst-lr-2e-5.log"), sig.get(("sst-lr-2e-5.log", "sst-lr-1e-5.log")))


def test_paired_predictions_find_a_real_difference_and_not_a_fake_one():
    rng = np.random.default_rng(0)
    n = 2000
    a = rng.random(n) < 0.80
    better = a | (rng.random(n) < 0.25)                  # B fixes a quarter of A's errors (+5 %)
    same = a.copy()                                       # 20 right answers traded for 20 others
    same[rng.choice(np.flatnonzero(a), 20, replace=False)] = False
    same[rng.choice(np.flatnonzero(~a), 20, replace=False)] = True
    hs = [curve_history("A", 0.8, 1), curve_history("B", 0.8, 2), curve_history("C", 0.8, 3)]
    c = compare(inputs(hs, [a, better, same]))
    pairs = {(p.a, p.b): p for p in c.pairs}
    ab = pairs.get(("A", "B")) or pairs.get(("B", "A"))
    ac = pairs.get(("A", "C")) or pairs.get(("C", "A"))
    assert ab.significant and abs(ab.delta) == pytest.approx(better.mean() - a.mean())
    assert "McNemar" in ab.method and ab.ci95[0] * ab.ci95[1] > 0
    assert not ac.significant


def test_repeated_seeds_use_welch_and_p_of_better():
    hs = [curve_history(f"low-{s}", 0.80, s, config={"training.lr": 1.0, "training.seed": s}) for s in range(4)] + \
         [curve_history(f"high-{s}", 0.83, 10 + s, config={"training.lr": 2.0, "training.seed": s}) for s in range(4)]
    c = compare(inputs(hs))
    assert len(c.entries) == 2 and c.entries[0].members[0].startswith("high")
    (pair,) = c.pairs
    assert pair.method == "Welch t-test over seeds" and pair.significant
    assert pair.p_b_better is not None and pair.p_b_better < 0.05      # B (low) better than A (high)?
    assert c.best_group == (c.entries[0].name,)


def test_holm_and_expected_max():
    assert _holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    curve = expected_max_curve([0.5, 0.6, 0.7, 0.8], "max")
    assert curve[0] == pytest.approx(0.65) and all(np.diff(curve) > 0) and curve[-1] < 0.8
    assert expected_max_curve([1.0, 2.0], "min")[0] == pytest.approx(1.5)


def test_compare_stored_runs_uses_their_predictions(tmp_path):
    store = RunStore(str(tmp_path / "s.db"))
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 2, 500)
    ids = []
    for name, acc in (("weak", 0.70), ("strong", 0.85)):
        rid = store.create_run({"training": {"learning_rate": acc}}, name=name, monitor="val_acc",
                               mode="max", val_size=500)
        for e in range(12):
            store.log_epoch(rid, e, {"val_acc": acc - 0.2 * np.exp(-e / 3) + rng.normal(0, 0.003),
                                     "train_acc": acc + 0.05})
        correct = rng.random(500) < acc
        store.save_predictions(rid, "best", 11, {"pred": truth, "target": truth, "correct": correct})
        ids.append(rid)
    r = runner.invoke(app, ["compare", *ids, "--store", str(tmp_path / "s.db"), "--json",
                            "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["runs"][0]["name"] == "strong" and doc["pairs"][0]["significant"]
    assert "McNemar" in doc["pairs"][0]["method"] and doc["differing_keys"] == ["training.learning_rate"]
    assert (tmp_path / "cmp" / "comparison.html").exists() and (tmp_path / "cmp" / "comparison.png").exists()


def test_compare_needs_two_runs():
    r = runner.invoke(app, ["compare", str(SEED_LOGS / "sst-try1.log")])
    assert r.exit_code == 2 and "two or more" in r.stderr


def _mcnemar_exact(only_a, only_b):
    """Two-sided exact McNemar p by hand: twice the binomial tail of the smaller count."""
    n, k = only_a + only_b, min(only_a, only_b)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def test_significance_is_decided_on_the_holm_corrected_p():
    """catches: a pair called significant on its raw p instead of its Holm-corrected p.

    Three runs scored on the same 300 validation examples. B gets right everything A does and
    6 more; C everything B does and 6 more. By hand, exact McNemar: C vs B and B vs A have 6
    discordant examples all one way, p = 2 / 2^6 = 0.03125 (below 0.05); C vs A has 12, p =
    2 / 2^12. Holm over the 3 pairs: the smallest p times 3, the next two times 2 and 1 with the
    running maximum: 0.00146, 0.0625, 0.0625. So only C vs A is significant, and B is in the
    group indistinguishable from the best."""
    n = 300
    a = np.arange(n) < 200
    b = np.arange(n) < 206
    c = np.arange(n) < 212
    hs = [curve_history("A", 0.70, 1), curve_history("B", 0.72, 2), curve_history("C", 0.74, 3)]
    comp = compare(inputs(hs, [a, b, c]))
    assert [e.name for e in comp.entries] == ["C", "B", "A"]
    pairs = {frozenset((p.a, p.b)): p for p in comp.pairs}
    raw = {("C", "B"): _mcnemar_exact(0, 6), ("C", "A"): _mcnemar_exact(0, 12),
           ("B", "A"): _mcnemar_exact(0, 6)}
    assert raw[("C", "B")] == pytest.approx(0.03125) and raw[("C", "A")] == pytest.approx(2 / 4096)
    # Holm by hand: sort the raw p, multiply the k-th smallest by (m - k), keep a running max
    order = sorted(raw, key=raw.get)
    holm, running = {}, 0.0
    for k, key in enumerate(order):
        running = max(running, min(1.0, (len(raw) - k) * raw[key]))
        holm[key] = running
    assert holm[("C", "B")] == pytest.approx(0.0625) and holm[("B", "A")] == pytest.approx(0.0625)
    for key in raw:
        p = pairs[frozenset(key)]
        assert "McNemar" in p.method
        assert p.p_value == pytest.approx(raw[key], rel=1e-9)
        assert p.p_holm == pytest.approx(holm[key], rel=1e-9)
        assert p.significant is (holm[key] < 0.05)
    assert not pairs[frozenset(("C", "B"))].significant        # raw p 0.031 < 0.05, Holm 0.0625
    assert not pairs[frozenset(("B", "A"))].significant
    assert pairs[frozenset(("C", "A"))].significant
    assert comp.best_group == ("C", "B")


def test_bad_arguments_are_a_usage_error_naming_the_fix():
    from fitdoctor.errors import UsageError

    a, b = (curve_history(n, 0.8, s) for n, s in (("a", 1), ("b", 2)))
    runs = inputs([a, b])
    with pytest.raises(UsageError, match=r"needs two or more runs, got 1\. Pass every run"):
        compare(runs[:1])
    with pytest.raises(UsageError, match=r"runs\[1\] is a History, not a RunInput\. Build each with run_input"):
        compare([runs[0], b])
    with pytest.raises(UsageError, match="a list of RunInput, got a RunInput"):
        compare(runs[0])
    with pytest.raises(UsageError, match="run names must differ; repeated: 'a'"):
        compare([runs[0], runs[0]])
    for bad in (0, -5, 2.5, True):
        with pytest.raises(UsageError, match=rf"compare\(val_size={bad!r}\): .*positive whole number"):
            compare(runs, val_size=bad)
    assert compare(runs, val_size=np.int64(500)).entries                 # a numpy count is fine

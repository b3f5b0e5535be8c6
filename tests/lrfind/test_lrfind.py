"""The LR range test restores what it touched, and its suggestion trains."""

import copy
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.lrfind import range_test, suggest
from fitdoctor.store import RunStore

runner = CliRunner()
CONFIG = """
task: {name: image, dataset: digits, train_size: 800, val_size: 300, batch_size: 32}
model: {dropout: 0.1, width: 8}
training: {epochs: 3, learning_rate: 1e-7}
"""


def test_model_and_optimizer_are_restored_exactly():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    loss_fn = torch.nn.CrossEntropyLoss()
    loss_fn(net(x), y).backward()
    opt.step()                                            # the optimizer has state worth keeping
    before_net = {k: v.clone() for k, v in net.state_dict().items()}
    before_opt = copy.deepcopy(opt.state_dict())
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    curve = range_test(net, opt, loss_fn, batches, min_lr=1e-6, max_lr=10, steps=60)
    assert len(curve.lr) > 10
    for k, v in net.state_dict().items():
        assert torch.equal(v, before_net[k]), k
    after = opt.state_dict()
    assert after["param_groups"][0]["lr"] == before_opt["param_groups"][0]["lr"]
    for pid, st in before_opt["state"].items():
        for name, t in st.items():
            assert torch.equal(after["state"][pid][name], t)


def test_no_clear_descent_is_called_out():
    from fitdoctor.lrfind import RangeCurve

    flat = RangeCurve(lr=[10 ** (-7 + i / 10) for i in range(50)], loss=[2.3] * 50, raw=[2.3] * 50, stopped="max_lr")
    rules, message = suggest(flat)
    assert all(v is None for v in rules.values()) and "no clear descent" in message


def test_lr_find_json_apply_and_the_suggestion_converges(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    new = tmp_path / "tuned.yaml"
    r = runner.invoke(app, ["lr-find", str(cfg), "--steps", "80", "--repeats", "2", "--json",
                            "--apply", str(new), "--out", str(tmp_path / "lr.png")])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "fitdoctor.lrfind/2" and set(doc["suggestions"]) >= {"steepest", "valley", "min_div_10"}
    assert 1e-5 < doc["suggestion"] < 1.0 and len(doc["lr"]) == len(doc["loss"]) > 10
    assert 0 < doc["cost_epochs"] < 10 and (tmp_path / "lr.png").exists()
    t = runner.invoke(app, ["train", str(new), "--store", str(tmp_path / "s.db"), "--out",
                            str(tmp_path / "runs"), "--json"])
    assert t.exit_code == 0, t.output
    run = json.loads(t.stdout.strip().splitlines()[-1])
    baseline = runner.invoke(app, ["train", str(cfg), "--store", str(tmp_path / "s.db"), "--out",
                                   str(tmp_path / "runs"), "--json"])
    low = json.loads(baseline.stdout.strip().splitlines()[-1])
    assert run["best"]["value"] > 0.8 > low["best"]["value"]     # converges; 1e-7 does not
    assert RunStore(str(tmp_path / "s.db")).run(run["run_id"]).config["training"]["learning_rate"] == \
        pytest.approx(doc["suggestion"], rel=0.01)


def test_bad_ranges_exit_2(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    r = runner.invoke(app, ["lr-find", str(cfg), "--min-lr", "1", "--max-lr", "0.1"])
    assert r.exit_code == 2 and "--min-lr" in r.stderr


def _curve(raw, beta=0.98):
    from fitdoctor.lrfind import RangeCurve

    avg, smooth = 0.0, []
    for i, v in enumerate(raw):
        avg = beta * avg + (1 - beta) * v
        smooth.append(avg / (1 - beta ** (i + 1)))
    return RangeCurve(lr=[10 ** (-7 + 8 * i / len(raw)) for i in range(len(raw))], loss=smooth, raw=list(raw),
                      stopped="max_lr", beta=beta)


def test_a_small_clear_descent_is_a_suggestion_and_noise_is_not():
    """Fine-tuning a pretrained model on two classes: the loss starts at ln 2 and moves ~3 % in
    100 steps, with batch noise far smaller than that (the shape of the sentiment task's ramp)."""
    rng = np.random.default_rng(0)
    logs = np.linspace(-7, 1, 100)
    level = np.log(2) - 0.04 / (1 + np.exp(-(logs + 4) / 0.4)) + 0.5 * np.clip(logs + 2.7, 0, None) ** 2
    curve = _curve(level + rng.normal(0, 0.003, 100))
    start, low = curve.loss[0], min(curve.loss)
    assert 0.01 < (start - low) / start < 0.03           # under the old fixed 10 % rule: refused
    rules, message = suggest(curve)
    assert message == "" and 1e-5 < rules["valley"] < 1e-2 and 1e-5 < rules["steepest"] < 1e-2
    # the same size of dip drowned in batch noise ten times larger: no suggestion
    flat = np.log(2) + rng.normal(0, 0.1, 100)
    rules, message = suggest(_curve(flat[:60]))
    assert rules["valley"] is None and "no clear descent" in message


def _as_pretrained(monkeypatch):
    from fitdoctor.lrfind import run as lrfind_run
    from fitdoctor.training.tasks import build_task

    def pretrained(c):
        task = build_task(c)
        task.pretrained = True
        return task

    monkeypatch.setattr(lrfind_run, "build_task", pretrained)


def test_a_pretrained_model_gets_the_fine_tuning_policy(tmp_path, monkeypatch):
    """The scratch policy overshot on a pretrained encoder (bench/lrfind_truth.py): a pretrained
    task's suggestion is PRETRAINED_FACTOR x PRETRAINED_RULE, a scratch task's RUN_FACTOR x the
    consensus median, from the same ramp; the JSON names the policy used."""
    from fitdoctor import lrfind
    from fitdoctor.lrfind import run as lrfind_run
    from fitdoctor.training.config import load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    scratch = lrfind_run.find_lr(load_config(cfg), steps=80)
    _as_pretrained(monkeypatch)
    tuned = lrfind_run.find_lr(load_config(cfg), steps=80)
    rules = scratch.suggestions
    assert tuned.suggestions == rules                       # the same ramp, another reading
    median = float(np.exp(np.median(np.log([rules[r] for r in lrfind.CONSENSUS]))))
    assert scratch.suggestion == pytest.approx(lrfind.RUN_FACTOR * median)
    base = median if lrfind.PRETRAINED_RULE == "consensus" else rules[lrfind.PRETRAINED_RULE]
    assert tuned.suggestion == pytest.approx(lrfind.PRETRAINED_FACTOR * base)
    assert tuned.pretrained and not scratch.pretrained
    assert "the model is pretrained" in tuned.message and "pretrained" not in scratch.message
    r = runner.invoke(app, ["lr-find", str(cfg), "--steps", "80", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["policy"].startswith("a pretrained model:")


def test_a_suggestion_most_repeats_do_not_show_is_refused():
    """Three repeats, two of them flat: one curve does not make a suggestion."""
    from fitdoctor.lrfind import summarize

    rng = np.random.default_rng(1)
    logs = np.linspace(-7, 1, 100)
    good = _curve(2.3 - 2.0 / (1 + np.exp(-(logs + 3) / 0.3)) + 3 * np.clip(logs + 1.5, 0, None) ** 2
                  + rng.normal(0, 0.01, 100))
    flat = [_curve(2.3 + rng.normal(0, 0.2, 100)) for _ in range(2)]
    alone = summarize([good], batches_per_epoch=50)
    assert alone.suggestion is not None                   # the good curve alone is a suggestion
    mixed = summarize([good, *flat], batches_per_epoch=50)
    assert mixed.suggestion is None and "only 1 of 3 repeats showed a descent" in mixed.refused


def test_steps_under_12_are_refused_and_a_pretrained_models_suggestion_is_applied(tmp_path, monkeypatch):
    from fitdoctor import lrfind

    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    r = runner.invoke(app, ["lr-find", str(cfg), "--steps", "11"])
    assert r.exit_code == 2 and "--steps must be at least 12" in r.output
    _as_pretrained(monkeypatch)
    new = tmp_path / "tuned.yaml"
    r = runner.invoke(app, ["lr-find", str(cfg), "--steps", "80", "--apply", str(new)])
    assert r.exit_code == 0, r.output
    assert f"{lrfind.PRETRAINED_FACTOR:g}x the {lrfind.PRETRAINED_RULE} rule" in r.output
    written = float(new.read_text().split("learning_rate:")[1].split("}")[0].split("\n")[0])
    suggested = float(r.output.split("suggested LR:")[1].split()[0])
    assert written == pytest.approx(suggested, rel=1e-3)

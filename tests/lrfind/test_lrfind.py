"""The LR range test restores what it touched, and its suggestion trains."""

import copy
import json

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
    assert doc["schema"] == "fitdoctor.lrfind/1" and set(doc["suggestions"]) == {"steepest", "valley", "min_div_10"}
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
    assert RunStore(str(tmp_path / "s.db")).run(run["run_id"])["config"]["training"]["learning_rate"] == \
        pytest.approx(doc["suggestion"], rel=0.01)


def test_bad_ranges_exit_2(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    r = runner.invoke(app, ["lr-find", str(cfg), "--min-lr", "1", "--max-lr", "0.1"])
    assert r.exit_code == 2 and "--min-lr" in r.stderr

"""The schedule family is recovered from LR sequences produced by torch's own schedulers."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.optim import lr_scheduler as S

from fitdoctor.diagnosis import diagnose
from fitdoctor.diagnosis.schedule_audit import fit_schedule, schedule_findings
from fitdoctor.history.core import make_history


def lr_per_epoch(make, epochs=60, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


CASES = {
    "constant": (lambda o: S.ConstantLR(o, factor=1.0), "constant", {}),
    "step": (lambda o: S.StepLR(o, 10, 0.5), "step", {"step_size": 10, "gamma": 0.5}),
    "multistep": (lambda o: S.MultiStepLR(o, [20, 45], 0.1), "multistep", {"milestones": [20, 45]}),
    "exponential": (lambda o: S.ExponentialLR(o, 0.95), "exponential", {"gamma": 0.95}),
    "linear": (lambda o: S.LinearLR(o, 1.0, 0.1, 60), "linear", {}),
    "polynomial": (lambda o: S.PolynomialLR(o, 60, 2.0), "polynomial", {"power": 2.0}),
    "cosine": (lambda o: S.CosineAnnealingLR(o, 60), "cosine", {"T_max": 60}),
    "restarts": (lambda o: S.CosineAnnealingWarmRestarts(o, 10, 2), "cosine_restarts",
                 {"T_0": 10, "T_mult": 2}),
    "warmup+cosine": (lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 5),
                                                   S.CosineAnnealingLR(o, 55)], [5]),
                      "cosine", {"T_max": 55}),
    "one-cycle": (lambda o: S.OneCycleLR(o, 0.1, total_steps=61), "one_cycle", {}),
}


@pytest.mark.parametrize("name", CASES)
def test_family_and_parameters(name):
    make, family, params = CASES[name]
    fit = fit_schedule(np.arange(60.0), lr_per_epoch(make))
    assert fit.family == family, fit
    for key, value in params.items():
        got = fit.params[key]
        assert got == pytest.approx(value, rel=0.05, abs=1.0 if key.startswith("T") else 0.01)
    if name == "warmup+cosine":
        assert fit.warmup == 5


def test_stopped_long_before_the_schedule_ended():
    lr = lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 200), epochs=112)
    fit = fit_schedule(np.arange(112.0), lr)
    (m,) = [f for f in schedule_findings(np.arange(112.0), lr, fit, {}) if f.code == "schedule_mismatch"]
    assert m.evidence["kind"] == "stopped_early"
    assert m.evidence["lr_frac"] == pytest.approx(0.5 * (1 + np.cos(np.pi * 111 / 200)), abs=0.02)
    assert 180 <= m.evidence["length"] <= 220


def test_lr_rises_again_when_t_max_is_shorter_than_the_run():
    lr = lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 25), epochs=60)
    fit = fit_schedule(np.arange(60.0), lr)
    kinds = {f.evidence.get("kind") for f in schedule_findings(np.arange(60.0), lr, fit, {})}
    assert "rises_again" in kinds


def test_declared_config_disagrees_with_the_logged_lr():
    lr = lr_per_epoch(lambda o: S.StepLR(o, 10, 0.5))
    fit = fit_schedule(np.arange(60.0), lr)
    found = schedule_findings(np.arange(60.0), lr, fit, {"lr": 0.01, "scheduler": "CosineAnnealingLR"})
    kinds = {f.evidence.get("kind") for f in found}
    assert {"declared_lr", "declared_scheduler"} <= kinds


def test_lr_and_epoch_confounded_names_the_control_run():
    t = np.arange(50.0)
    rng = np.random.default_rng(0)
    lr = lr_per_epoch(lambda o: S.CosineAnnealingLR(o, 50), epochs=50, lr=1e-3)
    val = 0.4 + 0.3 * (1 - np.exp(-t / 6)) - 0.002 * np.clip(t - 20, 0, None) + rng.normal(0, 0.004, 50)
    train = 0.4 + 0.6 * (1 - np.exp(-t / 15)) + rng.normal(0, 0.002, 50)
    h = make_history(pd.DataFrame({"epoch": t, "lr": lr, "train_acc": train, "val_acc": val}),
                     source="constructed", format="test")
    d = diagnose(h)
    assert "lr_epoch_confounded" in d.codes and d.overfitting.detected
    control = next(r for r in d.recommendations if r.code == "constant_lr_control")
    assert control.patch["training"]["scheduler"] is None
    assert control.patch["training"]["learning_rate"] == pytest.approx(d.lr.at_onset, rel=0.01)
    assert d.lr.at_best_frac is not None and 0 < d.lr.at_best_frac <= 1


def test_a_warmup_start_is_not_the_minimum_a_cosine_rises_from():
    """CF-ViT's DeiT-S log (timm: warmup from 1e-6 to 3.9e-5 over 6 epochs, cosine to 1e-5 at
    epoch 299): the LR never rises after the warmup. It was called "falls to its minimum at epoch 0
    and then rises again", with a T_max patch of 300 beside train-longer's T_max of 450."""
    from fitdoctor.history.readers import read_history

    from ..conftest import public

    d = diagnose(read_history(public("deit-s-300ep")))
    assert d.schedule.family == "cosine" and d.schedule.warmup == pytest.approx(6, abs=1)
    assert "schedule_mismatch" not in {f.code for f in d.findings}
    t_max = [r.patch["training"]["scheduler_params"]["T_max"] for r in d.recommendations
             if "scheduler_params" in r.patch.get("training", {})]
    assert len(t_max) <= 1

"""The preview equals torch's own schedulers, for every class, with and without warmup;
warmup composes with ReduceLROnPlateau; the floor holds; state round-trips."""

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from fitdoctor.errors import ConfigError
from fitdoctor.schedules import SCHEDULERS, Schedule, ScheduleSpec, build_schedule, preview
from fitdoctor.training.config import build_config

LR, EPOCHS, STEPS = 0.1, 30, 4
PARAMS = {
    "StepLR": {"step_size": 7, "gamma": 0.5},
    "MultiStepLR": {"milestones": [10, 20], "gamma": 0.1},
    "ExponentialLR": {"gamma": 0.9},
    "LinearLR": {"start_factor": 0.5, "total_iters": 10},
    "ConstantLR": {"factor": 0.5, "total_iters": 5},
    "PolynomialLR": {"total_iters": 25, "power": 2.0},
    "CosineAnnealingLR": {"T_max": 25, "eta_min": 1e-4},
    "CosineAnnealingWarmRestarts": {"T_0": 5, "T_mult": 2, "eta_min": 1e-4},
    "CyclicLR": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 6},
    "OneCycleLR": {"max_lr": 0.1, "total_steps": EPOCHS * STEPS},
    "ReduceLROnPlateau": {"factor": 0.5, "patience": 2, "mode": "min"},
}
METRIC = [1.0 / (1 + e) if e < 8 else 0.2 for e in range(EPOCHS)]   # improves, then stalls


def torch_warmup_plateau(metric, epochs, warmup, start=0.1, lr=LR, **plateau):
    """Warmup + ReduceLROnPlateau the way torch documents it, with torch's own classes: LinearLR
    stepped once per warmup epoch, then ReduceLROnPlateau.step(metric) once per epoch after the
    warmup (SequentialLR cannot chain a ReduceLROnPlateau). The LR in effect during each epoch."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    warm = S.LinearLR(opt, start, 1.0, total_iters=warmup) if warmup else None
    main = S.ReduceLROnPlateau(opt, **plateau)
    lrs = []
    for epoch in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if epoch < warmup:
            warm.step()
        else:
            main.step(metric[epoch])
    return lrs


def torch_reference(name, step_per, warmup=0, start=0.1):
    """Step torch's own classes directly (SequentialLR for the warmup) and record the LR."""
    if name == "ReduceLROnPlateau":
        return torch_warmup_plateau(METRIC, EPOCHS, warmup, start, **PARAMS[name])
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=LR, momentum=0.9)
    main = getattr(S, name)(opt, **PARAMS[name])
    if warmup:
        main = S.SequentialLR(opt, [S.LinearLR(opt, start, 1.0, total_iters=warmup), main], [warmup])
    lrs = []
    n = EPOCHS * (STEPS if step_per == "batch" else 1)
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        main.step()
    return lrs


@pytest.mark.parametrize("warmup", [0, 3])
@pytest.mark.parametrize("name", SCHEDULERS)
def test_preview_equals_torch(name, warmup):
    step_per = "batch" if name in ("CyclicLR", "OneCycleLR") else "epoch"
    spec = ScheduleSpec(name, PARAMS[name], step_per, warmup * (STEPS if step_per == "batch" else 1))
    got = preview(spec, LR, EPOCHS, STEPS, metric=METRIC)
    want = torch_reference(name, step_per, spec.warmup)
    series = got["lr_per_step"] if step_per == "batch" else got["lr_per_epoch"]
    np.testing.assert_allclose(series, want, rtol=1e-9, atol=1e-12)
    if step_per == "batch":
        np.testing.assert_allclose(got["lr_per_epoch"], want[::STEPS], rtol=1e-9)


# an accuracy (rising) and a loss (falling): better during the warmup than just after it (the LR
# peaks when the warmup ends), then improving, then stalled
RISING = [0.60, 0.62, 0.64] + [0.55, 0.57, 0.59, 0.61, 0.63, 0.65, 0.66, 0.67] + [0.67] * 9
FALLING = [1.00, 0.90, 0.80] + [1.10, 1.00, 0.95, 0.90, 0.85, 0.80, 0.75, 0.70] + [0.70] * 9


@pytest.mark.parametrize("metric, mode", [(RISING, "max"), (FALLING, "min")], ids=["acc", "loss"])
def test_warmup_plateau_follows_the_monitor_like_torch(metric, mode):
    """catches: the plateau's mode not following the monitor (it must be "max" for an accuracy,
    "min" for a loss when scheduler_params give none), and the plateau stepped during the warmup
    (it would take the warmup's better values as its best and cut the LR right after it).

    torch's own LinearLR + ReduceLROnPlateau, stepped as torch documents, with the mode of the
    monitor. By hand for RISING: warmup 0.01, 0.04, 0.07; 0.1 from epoch 3; the plateau sees
    0.55 ... 0.67 improving up to epoch 10, then three epochs without (patience 2): halved after
    epoch 13 and again after epoch 16."""
    epochs, warmup = len(metric), 3
    want = torch_warmup_plateau(metric, epochs, warmup, mode=mode, factor=0.5, patience=2)
    assert want == pytest.approx([0.01, 0.04, 0.07] + [0.1] * 11 + [0.05] * 3 + [0.025] * 3)
    # the opposite mode, or a plateau that saw the warmup, would cut the LR within epochs 3-13
    other = "min" if mode == "max" else "max"
    assert min(torch_warmup_plateau(metric, epochs, warmup, mode=other, factor=0.5, patience=2)[:14]) < 0.1
    params = {"factor": 0.5, "patience": 2}                       # no mode: the monitor's
    got = preview(ScheduleSpec("ReduceLROnPlateau", params, "epoch", warmup, monitor_mode=mode),
                  LR, epochs, metric=metric)["lr_per_epoch"]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the same through the training config, as the trainer builds it
    cfg = build_config({"training": {"epochs": epochs, "learning_rate": LR, "scheduler": "ReduceLROnPlateau",
                                     "scheduler_params": params, "warmup_epochs": warmup}})
    spec = ScheduleSpec.from_training(cfg.training, 1, monitor_mode=mode)
    np.testing.assert_allclose(preview(spec, LR, epochs, metric=metric)["lr_per_epoch"], want, rtol=1e-12)


def test_warmup_then_plateau_drops_after_the_metric_stalls():
    spec = ScheduleSpec("ReduceLROnPlateau", {"factor": 0.5, "patience": 2}, "epoch", 5)
    lrs = preview(spec, LR, 20, metric=[1.0 / (1 + e) if e < 8 else 0.2 for e in range(20)])["lr_per_epoch"]
    assert lrs[0] == pytest.approx(LR * 0.1) and lrs[1] < lrs[4] < lrs[5] == pytest.approx(LR)
    assert lrs[8] == pytest.approx(LR) and min(lrs[10:]) < LR      # drops once the metric stalls


def test_lr_floor_holds():
    spec = ScheduleSpec("ExponentialLR", {"gamma": 0.5}, "epoch", 0, lr_floor=0.01)
    lrs = preview(spec, LR, 12)["lr_per_epoch"]
    assert min(lrs) == pytest.approx(0.01) and lrs[0] == LR


def test_defaults_filled_from_the_run_length():
    spec = ScheduleSpec("CosineAnnealingLR", {}, "epoch", 5)
    lrs = preview(spec, LR, 25)["lr_per_epoch"]
    assert lrs[5] == pytest.approx(LR) and lrs[-1] < 0.01 * LR     # T_max = 25 - 5 warmup


@pytest.mark.parametrize("name, at", [("CosineAnnealingWarmRestarts", 2), ("CosineAnnealingWarmRestarts", 9),
                                      ("StepLR", 12), ("ReduceLROnPlateau", 11), ("OneCycleLR", 30)])
def test_state_dict_round_trip_mid_warmup_and_mid_cycle(name, at):
    step_per = "batch" if name == "OneCycleLR" else "epoch"
    spec = ScheduleSpec(name, PARAMS[name], step_per, 4)

    def make():
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=LR, momentum=0.9)
        return opt, build_schedule(opt, spec, EPOCHS, STEPS)

    opt_a, a = make()
    for i in range(at):
        opt_a.step()
        a._step(METRIC[i % EPOCHS])
    opt_b, b = make()
    opt_b.load_state_dict(opt_a.state_dict())
    b.load_state_dict(a.state_dict())
    for i in range(at, at + 20):
        opt_a.step(), opt_b.step()
        a._step(METRIC[i % EPOCHS]), b._step(METRIC[i % EPOCHS])
        assert opt_b.param_groups[0]["lr"] == pytest.approx(opt_a.param_groups[0]["lr"], rel=1e-12)


def test_bad_scheduler_configs_name_the_fix():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ConfigError, match="unknown scheduler 'Cosine'.*CosineAnnealingLR"):
        Schedule(opt, ScheduleSpec("Cosine", {}), 10)
    with pytest.raises(ConfigError, match="no parameter 'T_maxx'.*T_max"):
        Schedule(opt, ScheduleSpec("CosineAnnealingLR", {"T_maxx": 3}), 10)
    with pytest.raises(ConfigError, match="step_size"):
        Schedule(opt, ScheduleSpec("StepLR", {}), 10)
    with pytest.raises(ConfigError, match="step_per: epoch"):
        Schedule(opt, ScheduleSpec("ReduceLROnPlateau", {}, "batch"), 10)

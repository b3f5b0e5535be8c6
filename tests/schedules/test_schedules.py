"""The preview equals torch's own schedulers, for every class, with and without warmup;
warmup composes with ReduceLROnPlateau; the floor holds; state round-trips."""

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from fitdoctor.errors import ConfigError
from fitdoctor.schedules import SCHEDULERS, Schedule, ScheduleSpec, build_schedule, preview

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


def torch_reference(name, step_per, warmup=0, start=0.1):
    """Step torch's own classes directly (SequentialLR for the warmup) and record the LR."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=LR, momentum=0.9)
    main = getattr(S, name)(opt, **PARAMS[name])
    if warmup and name != "ReduceLROnPlateau":
        main = S.SequentialLR(opt, [S.LinearLR(opt, start, 1.0, total_iters=warmup), main], [warmup])
    elif warmup:
        opt.param_groups[0]["lr"] = LR
        warm = S.LinearLR(opt, start, 1.0, total_iters=warmup)
    lrs = []
    n = EPOCHS * (STEPS if step_per == "batch" else 1)
    for i in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if name == "ReduceLROnPlateau":
            if warmup and i + 1 < warmup:
                warm.step()
            elif warmup and i + 1 == warmup:
                opt.param_groups[0]["lr"] = LR
            else:
                main.step(METRIC[i])
        else:
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

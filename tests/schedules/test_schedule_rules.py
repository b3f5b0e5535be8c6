"""The schedule composition's own rules (defaults from the run length, warmup in batches or
epochs, the exact error texts a user acts on, a constant LR, state without parts), each checked
against torch's classes or the rule written out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch.optim import lr_scheduler as S

from fitdoctor.errors import ConfigError
from fitdoctor.schedules import Schedule, ScheduleSpec, build_schedule, preview, units_for

LR = 0.1


def opt(lr=LR):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def training(**kw):
    base = dict(step_per="epoch", warmup_steps=0, warmup_epochs=0.0, scheduler="StepLR",
                scheduler_params={"step_size": 3}, warmup_start_factor=0.2, lr_floor=0.001)
    return SimpleNamespace(**(base | kw))


# -- ScheduleSpec.from_training --------------------------------------------------------------

def test_from_training_per_epoch_rounds_the_warmup_up_and_keeps_every_field():
    spec = ScheduleSpec.from_training(training(warmup_epochs=1.2), steps_per_epoch=50,
                                      monitor_mode="max")
    assert spec == ScheduleSpec("StepLR", {"step_size": 3}, "epoch", 2, 0.2, 0.001, "max")


@pytest.mark.parametrize("kw, warmup", [
    ({"warmup_epochs": 1.5}, 75),               # 1.5 epochs of 50 batches
    ({"warmup_steps": 7, "warmup_epochs": 1.5}, 7),   # batches given: they win
    ({}, 0),
])
def test_from_training_per_batch_counts_batches(kw, warmup):
    spec = ScheduleSpec.from_training(training(step_per="batch", **kw), steps_per_epoch=50)
    assert spec.step_per == "batch" and spec.warmup == warmup and spec.monitor_mode == "min"


def test_warmup_steps_per_epoch_is_refused_with_the_fix():
    with pytest.raises(ConfigError) as e:
        ScheduleSpec.from_training(training(warmup_steps=10), steps_per_epoch=50)
    assert str(e.value) == ("training.warmup_steps counts batches: use it with "
                            "training.step_per: batch, or give training.warmup_epochs.")


# -- defaults filled from the run length (after the warmup), checked against torch ---------------

def lrs_of(main, n, warmup=0, start=0.1):
    """torch's own: LinearLR for the warmup, then ``main``, stepped once per unit."""
    o = main.optimizer
    if warmup:
        main = S.SequentialLR(o, [S.LinearLR(o, start, 1.0, total_iters=warmup), main], [warmup])
    out = []
    for _ in range(n):
        out.append(o.param_groups[0]["lr"])
        o.step()
        main.step()
    return out


@pytest.mark.parametrize("name, params, expected", [
    # PolynomialLR runs over the units after the warmup
    ("PolynomialLR", {"power": 1.0}, lambda o: S.PolynomialLR(o, total_iters=17, power=1.0)),
    # CyclicLR cycles between a tenth of the LR and the LR
    ("CyclicLR", {"step_size_up": 4}, lambda o: S.CyclicLR(o, base_lr=LR / 10, max_lr=LR,
                                                            step_size_up=4)),
    # OneCycleLR peaks at the LR over the units after the warmup ...
    ("OneCycleLR", {}, lambda o: S.OneCycleLR(o, max_lr=LR, total_steps=17)),
    # ... unless its own epochs/steps_per_epoch say how long it is
    ("OneCycleLR", {"epochs": 4, "steps_per_epoch": 5},
     lambda o: S.OneCycleLR(o, max_lr=LR, epochs=4, steps_per_epoch=5)),
    ("OneCycleLR", {"epochs": 20}, None),      # epochs alone is not a length torch accepts
])
def test_defaults_from_the_run_length(name, params, expected):
    spec = ScheduleSpec(name, params, "batch", 3)
    if expected is None:
        with pytest.raises(ConfigError, match="OneCycleLR"):
            preview(spec, LR, 5, steps_per_epoch=4)
        return
    got = preview(spec, LR, 5, steps_per_epoch=4)["lr_per_step"]       # 20 units, 3 warmup
    assert got == pytest.approx(lrs_of(expected(opt()), 20, warmup=3), rel=1e-9)


def test_cosine_span_is_at_least_one_unit():
    # a warmup as long as the run leaves a span of 1 for T_max, not 0 (torch divides by it)
    spec = ScheduleSpec("CosineAnnealingLR", {}, "epoch", 4)
    got = preview(spec, LR, 5)["lr_per_epoch"]
    assert got == pytest.approx(lrs_of(S.CosineAnnealingLR(opt(), T_max=1), 5, warmup=4))


# -- warmup ------------------------------------------------------------------------------------

@pytest.mark.parametrize("warmup", [1, 2])
def test_a_one_unit_warmup_is_a_warmup(warmup):
    # the first epoch at start_factor x LR, then the LR: torch's LinearLR + StepLR
    spec = ScheduleSpec("StepLR", {"step_size": 100}, "epoch", warmup, 0.25)
    got = preview(spec, LR, 6)["lr_per_epoch"]
    ref = lrs_of(S.StepLR(opt(), step_size=100), 6, warmup=warmup, start=0.25)
    assert got == pytest.approx(ref) and got[0] == pytest.approx(0.025)


def test_constant_lr_with_warmup_and_without():
    assert preview(ScheduleSpec(None, {}), LR, 4)["lr_per_epoch"] == [LR] * 4
    got = preview(ScheduleSpec(None, {}, "epoch", 2, 0.5), LR, 4)["lr_per_epoch"]
    assert got == pytest.approx([0.05, 0.075, 0.1, 0.1])


def test_per_batch_preview_steps_every_batch_and_per_epoch_only_once():
    spec = ScheduleSpec("StepLR", {"step_size": 3, "gamma": 0.5}, "batch")
    out = preview(spec, LR, 2, steps_per_epoch=3)
    assert out["lr_per_step"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05])
    assert out["lr_per_epoch"] == pytest.approx([0.1, 0.05])
    out = preview(ScheduleSpec("StepLR", {"step_size": 3, "gamma": 0.5}), LR, 4, steps_per_epoch=3)
    assert out == {"lr_per_epoch": pytest.approx([0.1, 0.1, 0.1, 0.05])}
    assert units_for(spec, 7, 3) == 21 and units_for(ScheduleSpec("StepLR", {}), 7, 3) == 7


def test_build_schedule_counts_one_step_per_epoch_by_default():
    spec = ScheduleSpec("CosineAnnealingLR", {}, "batch")
    s = build_schedule(opt(), spec, 10)
    assert s.main.T_max == 10


def test_plateau_preview_uses_the_last_metric_after_it_runs_out():
    # 3 metric values for 8 epochs: the last one (a stall) repeats, and the LR drops after
    # patience 1 + 1 bad epochs
    spec = ScheduleSpec("ReduceLROnPlateau", {"factor": 0.5, "patience": 1, "mode": "min"})
    got = preview(spec, LR, 8, metric=[3.0, 2.0, 1.0])["lr_per_epoch"]
    assert got == pytest.approx(
        torch_plateau([3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], factor=0.5, patience=1, mode="min"))
    assert got[-1] < LR
    # no metric: a flat one, so the plateau drops too
    assert preview(spec, LR, 8)["lr_per_epoch"][-1] < LR


def torch_plateau(metric, **kw):
    o = opt()
    m = S.ReduceLROnPlateau(o, **kw)
    out = []
    for x in metric:
        out.append(o.param_groups[0]["lr"])
        o.step()
        m.step(x)
    return out


def test_plateau_skips_a_missing_or_non_finite_metric():
    s = Schedule(opt(), ScheduleSpec("ReduceLROnPlateau", {"patience": 0, "factor": 0.5}), 10)
    s.after_epoch(1.0)
    for bad in (None, float("nan"), float("inf")):
        s.after_epoch(bad)
    assert s.optimizer.param_groups[0]["lr"] == LR      # no bad epoch counted
    s.after_epoch(2.0)
    assert s.optimizer.param_groups[0]["lr"] == 0.05


# -- errors name what to change ----------------------------------------------------------------

def test_error_texts():
    with pytest.raises(ConfigError) as e:
        Schedule(opt(), ScheduleSpec("Cosine", {}), 10)
    assert str(e.value).startswith("training.scheduler: unknown scheduler 'Cosine'; choose one "
                                   "of StepLR, MultiStepLR, ExponentialLR, ")
    assert str(e.value).endswith("ReduceLROnPlateau (or leave it empty for a constant LR).")
    with pytest.raises(ConfigError) as e:
        Schedule(opt(), ScheduleSpec("StepLR", {"step_size": 2, "gama": 0.1, "eta": 1}), 10)
    assert str(e.value) == ("training.scheduler_params: StepLR has no parameter 'eta', 'gama'; "
                            "its parameters are: step_size, gamma, last_epoch.")
    with pytest.raises(ConfigError) as e:
        Schedule(opt(), ScheduleSpec("StepLR", {}), 10)
    assert str(e.value).startswith("training.scheduler_params for StepLR: ")
    assert str(e.value).endswith("Its parameters are: step_size, gamma, last_epoch.")
    with pytest.raises(ConfigError) as e:
        Schedule(opt(), ScheduleSpec("ReduceLROnPlateau", {}, "batch"), 10)
    assert str(e.value) == ("ReduceLROnPlateau steps once per epoch on a validation metric: "
                            "use training.step_per: epoch.")


# -- state ------------------------------------------------------------------------------------

def test_state_of_a_constant_lr_without_warmup():
    s = Schedule(opt(), ScheduleSpec(None, {}), 10)
    s.after_epoch()
    state = s.state_dict()
    assert state == {"t": 1, "main_start": [LR], "warm": None, "main": None}
    t = Schedule(opt(), ScheduleSpec(None, {}), 10)
    t.load_state_dict(state)
    assert t.t == 1 and t.warm is None and t.main is None


def test_state_from_a_run_with_parts_loads_into_one_without_them_and_back():
    with_warm = Schedule(opt(), ScheduleSpec("StepLR", {"step_size": 2}, "epoch", 2), 10)
    for _ in range(3):
        with_warm.after_epoch()
    plain = Schedule(opt(), ScheduleSpec(None, {}), 10)
    plain.load_state_dict(with_warm.state_dict())          # parts it does not have: ignored
    assert plain.t == 3 and plain.warm is None and plain.main is None
    back = Schedule(opt(), ScheduleSpec("StepLR", {"step_size": 2}, "epoch", 2), 10)
    back.load_state_dict(plain.state_dict())               # parts missing from the state: kept
    assert back.t == 3 and back.main.last_epoch == 0

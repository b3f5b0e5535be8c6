"""Learning-rate schedules: torch's own classes, composed. fitdoctor adds what torch alone
cannot do: a linear warmup in front of ANY schedule (ReduceLROnPlateau included), an LR floor,
and one state_dict for the whole composition.

``Schedule`` is stepped by the trainer (``after_batch`` / ``after_epoch``); ``preview`` steps
the very same object on a dummy optimizer, so the preview and the training agree."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import torch
from torch.optim import lr_scheduler as S

from ..errors import ConfigError

SCHEDULERS = ("StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "ConstantLR", "PolynomialLR",
              "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
              "ReduceLROnPlateau")


@dataclass(frozen=True)
class ScheduleSpec:
    """What a Schedule needs, independent of the rest of the run config."""

    name: Optional[str]                  # a torch class name, None for a constant LR
    params: dict
    step_per: str = "epoch"              # "epoch" | "batch"
    warmup: int = 0                      # warmup length in steps of the schedule
    warmup_start_factor: float = 0.1
    lr_floor: Optional[float] = None
    monitor_mode: str = "min"            # for ReduceLROnPlateau when its mode is not given

    @classmethod
    def from_training(cls, t: Any, steps_per_epoch: int, monitor_mode: str = "min") -> "ScheduleSpec":
        if t.step_per == "batch":
            warmup = t.warmup_steps or int(round(t.warmup_epochs * steps_per_epoch))
        else:
            if t.warmup_steps:
                raise ConfigError("training.warmup_steps counts batches: use it with "
                                  "training.step_per: batch, or give training.warmup_epochs.")
            warmup = int(math.ceil(t.warmup_epochs))
        return cls(t.scheduler, dict(t.scheduler_params), t.step_per, warmup,
                   t.warmup_start_factor, t.lr_floor, monitor_mode)


def _fill_defaults(cls: type, params: dict, spec: ScheduleSpec, units: int, lr: float) -> dict:
    p = dict(params)
    span = max(1, units - spec.warmup)
    if cls is S.CosineAnnealingLR:
        p.setdefault("T_max", span)
    elif cls is S.OneCycleLR:
        p.setdefault("max_lr", lr)
        if "epochs" not in p and "steps_per_epoch" not in p:
            p.setdefault("total_steps", span)
    elif cls is S.PolynomialLR:
        p.setdefault("total_iters", span)
    elif cls is S.ReduceLROnPlateau:
        p.setdefault("mode", spec.monitor_mode)
    elif cls is S.CyclicLR:
        p.setdefault("max_lr", lr)
        p.setdefault("base_lr", lr / 10)
    return p


# Lengths in steps of the schedule: torch divides by them (T_max 0 is a ZeroDivisionError on
# the first step), so each must be a positive number.
_LENGTHS = ("T_max", "T_0", "step_size", "total_iters", "total_steps", "step_size_up", "epochs",
            "steps_per_epoch")


def _construct(cls: type, optimizer: torch.optim.Optimizer, params: dict):
    allowed = [n for n in inspect.signature(cls.__init__).parameters if n not in ("self", "optimizer")]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(f"training.scheduler_params: {cls.__name__} has no parameter "
                          f"{', '.join(map(repr, unknown))}; its parameters are: {', '.join(allowed)}.")
    for k in _LENGTHS:
        v = params.get(k)
        if k in params and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
            raise ConfigError(f"training.scheduler_params.{k} for {cls.__name__} must be a positive "
                              f"number of steps, got {v!r}.")
    try:
        return cls(optimizer, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"training.scheduler_params for {cls.__name__}: {exc}. Its parameters "
                          f"are: {', '.join(allowed)}.") from None


class Schedule:
    """Warmup (torch LinearLR) in front of a torch scheduler, plus an LR floor."""

    def __init__(self, optimizer: torch.optim.Optimizer, spec: ScheduleSpec, units: int):
        self.optimizer, self.spec = optimizer, spec
        name = spec.name
        if name is not None and name not in SCHEDULERS:
            raise ConfigError(f"training.scheduler: unknown scheduler {name!r}; choose one of "
                              f"{', '.join(SCHEDULERS)} (or leave it empty for a constant LR).")
        cls = getattr(S, name) if name else None
        self.plateau = cls is S.ReduceLROnPlateau
        if self.plateau and spec.step_per == "batch":
            raise ConfigError("ReduceLROnPlateau steps once per epoch on a validation metric: "
                              "use training.step_per: epoch.")
        lr = optimizer.param_groups[0]["lr"]
        self.main = _construct(cls, optimizer, _fill_defaults(cls, spec.params, spec, units, lr)) if cls else None
        self.main_start = [g["lr"] for g in optimizer.param_groups]
        self.warm = None
        if spec.warmup > 0:
            for g in optimizer.param_groups:
                g["lr"] = g.get("initial_lr", g["lr"])
            self.warm = S.LinearLR(optimizer, spec.warmup_start_factor, 1.0, total_iters=spec.warmup)
        self.t = 0
        self._floor()

    # --- stepping -------------------------------------------------------------------------
    def after_batch(self) -> None:
        if self.spec.step_per == "batch":
            self._step(None)

    def after_epoch(self, metric: float | None = None) -> None:
        if self.spec.step_per == "epoch":
            self._step(metric)

    def _step(self, metric: float | None) -> None:
        self.t += 1
        w = self.spec.warmup
        if self.t < w:
            self.warm.step()
        elif self.t == w:                       # warmup done: hand over to the main schedule
            for g, lr in zip(self.optimizer.param_groups, self.main_start):
                g["lr"] = lr
        elif self.main is not None:
            if self.plateau:
                if metric is None or not math.isfinite(metric):
                    return
                self.main.step(metric)
            else:
                self.main.step()
        self._floor()

    def _floor(self) -> None:
        floor = self.spec.lr_floor
        if floor is not None:
            for g in self.optimizer.param_groups:
                g["lr"] = max(g["lr"], floor)

    @property
    def in_warmup(self) -> bool:
        return self.t < self.spec.warmup

    @property
    def at_floor(self) -> bool:
        floor = self.spec.lr_floor
        return floor is not None and any(g["lr"] <= floor * (1 + 1e-9) for g in self.optimizer.param_groups)

    @property
    def restart_period(self) -> Optional[int]:
        """Epochs until the next warm restart (CosineAnnealingWarmRestarts), else None."""
        if isinstance(self.main, S.CosineAnnealingWarmRestarts) and self.spec.step_per == "epoch":
            return int(self.main.T_i - self.main.T_cur) if self.t >= self.spec.warmup else \
                int(self.spec.warmup - self.t + self.main.T_i)
        return None

    # --- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"t": self.t, "main_start": list(self.main_start),
                "warm": self.warm.state_dict() if self.warm else None,
                "main": self.main.state_dict() if self.main else None}

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])
        self.main_start = list(state["main_start"])
        if self.warm is not None and state.get("warm") is not None:
            self.warm.load_state_dict(state["warm"])
        if self.main is not None and state.get("main") is not None:
            self.main.load_state_dict(state["main"])


def units_for(spec: ScheduleSpec, epochs: int, steps_per_epoch: int) -> int:
    return epochs * steps_per_epoch if spec.step_per == "batch" else epochs


def build_schedule(optimizer: torch.optim.Optimizer, spec: ScheduleSpec, epochs: int,
                   steps_per_epoch: int = 1) -> Schedule:
    return Schedule(optimizer, spec, units_for(spec, epochs, steps_per_epoch))


def _dummy_optimizer(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr, momentum=0.9)


def check_schedule(spec: ScheduleSpec, lr: float, epochs: int, steps_per_epoch: int = 1) -> None:
    """Build the schedule once on a throwaway optimizer: a ConfigError in it (a length of 0, an
    unknown parameter) is raised before anything is trained or stored."""
    build_schedule(_dummy_optimizer(lr), spec, epochs, steps_per_epoch)


def preview(spec: ScheduleSpec, lr: float, epochs: int, steps_per_epoch: int = 1,
            metric: Sequence[float] | None = None) -> dict[str, list[float]]:
    """The LR of the first parameter group in effect during each epoch (and each step, for
    per-batch schedules), by stepping the real Schedule on a dummy optimizer. ReduceLROnPlateau
    sees ``metric[i]`` after epoch i (a flat metric when none is given)."""
    opt = _dummy_optimizer(lr)
    sched = build_schedule(opt, spec, epochs, steps_per_epoch)
    per_epoch, per_step = [], []
    for epoch in range(epochs):
        per_epoch.append(opt.param_groups[0]["lr"])
        for _ in range(steps_per_epoch if spec.step_per == "batch" else 1):
            per_step.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.after_batch()
        m = 1.0 if metric is None else float(metric[min(epoch, len(metric) - 1)])
        sched.after_epoch(m)
    out = {"lr_per_epoch": per_epoch}
    if spec.step_per == "batch":
        out["lr_per_step"] = per_step
    return out

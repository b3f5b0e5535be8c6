"""Lightning integration for your own LightningModule:

    trainer = L.Trainer(callbacks=[FitDoctorCallback(name="my-run", report="report/"),
                                   EarlyStopping(monitor="val_acc", patience=5, smoothing=3)])

``FitDoctorCallback`` logs every epoch (what the module logged with ``self.log``, plus the LR of
each parameter group) to the run store on rank 0, warns as it goes, and writes the diagnosis
report when fit ends. ``EarlyStopping`` is fitdoctor's smoothed, gap-aware, restart-aware rule."""

from __future__ import annotations

from typing import Any, Mapping

import lightning as L
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

from ..history.names import canonical_name, infer_mode
from ..training.early_stopping import StopReason, StopRule
from .track import Run


def epoch_metrics(trainer: L.Trainer) -> dict[str, float]:
    """The epoch's logged scalars under canonical names (``*_step`` dropped, ``_epoch`` stripped)."""
    out = {}
    for key, value in trainer.callback_metrics.items():
        if key.endswith("_step"):
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        out[canonical_name(key.removesuffix("_epoch"))] = v
    return out


class FitDoctorCallback(L.Callback):
    def __init__(self, name: str | None = None, config: Mapping[str, Any] | None = None, *,
                 store: str = "fitdoctor.db", monitor: str | None = None, mode: str | None = None,
                 report: str | None = None, gap_warning: float | None = None):
        self.kw = dict(name=name, config=config, store=store, monitor=monitor, mode=mode,
                       report=report, gap_warning=gap_warning)
        self.run: Run | None = None
        self._lrs: list[float] = []

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run else None

    def on_fit_start(self, trainer, module) -> None:
        if trainer.is_global_zero and self.run is None:
            kw = dict(self.kw)
            config = kw.pop("config") or dict(getattr(module, "hparams", {}) or {})
            self.run = Run(kw.pop("name"), {k: v for k, v in config.items()
                                            if isinstance(v, (int, float, str, bool, type(None)))}, **kw)

    def on_train_epoch_start(self, trainer, module) -> None:
        self._lrs = [float(g["lr"]) for opt in trainer.optimizers for g in opt.param_groups]

    def on_train_epoch_end(self, trainer, module) -> None:
        if self.run is None:
            return
        metrics = epoch_metrics(trainer)
        for i, lr in enumerate(self._lrs):
            metrics["lr" if i == 0 else f"lr_pg{i}"] = lr
        self.run.log(epoch=trainer.current_epoch, step=trainer.global_step, **metrics)

    def on_fit_end(self, trainer, module) -> None:
        if self.run is not None:
            stopper = next((c for c in trainer.callbacks if isinstance(c, EarlyStopping)), None)
            reason = stopper.reason.value if stopper is not None and stopper.reason else "completed"
            self.run.finish("stopped" if reason != "completed" else "completed", reason)

    def on_exception(self, trainer, module, exception) -> None:
        if self.run is not None:
            self.run.finish("failed", type(exception).__name__)


class EarlyStopping(L.Callback):
    """fitdoctor's early stopping for any LightningModule: on the moving average of the last
    ``smoothing`` values, on a train-val gap above ``max_gap`` for ``gap_patience`` epochs, and
    (with a CosineAnnealingWarmRestarts scheduler) never before the next restart had its chance."""

    def __init__(self, monitor: str = "val_loss", mode: str | None = None, patience: int = 10,
                 min_delta: float = 0.0, min_delta_mode: str = "abs", smoothing: int = 1,
                 max_gap: float | None = None, gap_patience: int = 3, restart_aware: bool = True):
        self.monitor = canonical_name(monitor)
        self.mode = mode or infer_mode(self.monitor)
        self.rule = StopRule(mode=self.mode, patience=patience, min_delta=min_delta,
                             min_delta_mode=min_delta_mode, smoothing=smoothing, max_gap=max_gap,
                             gap_patience=gap_patience, restart_aware=restart_aware)
        self.reason: StopReason | None = None
        self.message = ""

    def _to_restart(self, trainer) -> int | None:
        for cfg in trainer.lr_scheduler_configs:
            s = cfg.scheduler
            if isinstance(s, CosineAnnealingWarmRestarts) and cfg.interval == "epoch":
                return int(s.T_i - s.T_cur)
        return None

    def on_train_epoch_end(self, trainer, module) -> None:
        metrics = epoch_metrics(trainer)
        value = metrics.get(self.monitor)
        if value is None:
            available = ", ".join(sorted(metrics)) or "none"
            raise KeyError(f"fitdoctor EarlyStopping: no metric {self.monitor!r} was logged; "
                           f"available: {available}")
        metric = self.monitor.split("_", 1)[-1]
        train = metrics.get(f"train_{metric}")
        gap = None if train is None else (train - value if self.mode == "max" else value - train)
        d = self.rule.update(trainer.current_epoch, value, gap,
                             self._to_restart(trainer) if self.rule.restart_aware else None)
        if trainer.strategy.reduce_boolean_decision(d.stop, all=False):
            trainer.should_stop = True
            self.reason, self.message = d.reason or StopReason.PATIENCE, d.message

    def state_dict(self) -> dict:
        return {"rule": self.rule.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.rule.load_state_dict(state.get("rule", {}))


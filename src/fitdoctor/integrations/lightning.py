"""Lightning integration for your own LightningModule:

    trainer = L.Trainer(callbacks=[FitDoctorCallback(name="my-run", report="report/"),
                                   EarlyStopping(monitor="val_acc", patience=5, smoothing=3)])

``FitDoctorCallback`` logs every epoch (what the module logged with ``self.log``, plus the LR of
each parameter group) to the run store on rank 0, warns as it goes, and writes the diagnosis
report when fit ends. ``EarlyStopping`` is fitdoctor's smoothed, gap-aware, restart-aware rule."""

from __future__ import annotations

from typing import Any, Mapping

import lightning as L
from ..training.callbacks import EarlyStopping, epoch_metrics
from ..store import DEFAULT_PATH
from .track import Run

__all__ = ["EarlyStopping", "FitDoctorCallback", "epoch_metrics"]


class FitDoctorCallback(L.Callback):
    def __init__(self, name: str | None = None, config: Mapping[str, Any] | None = None, *,
                 store: str = DEFAULT_PATH, monitor: str | None = None, mode: str | None = None,
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

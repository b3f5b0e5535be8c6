"""Lightning callbacks: the epoch recorder (run store, checkpoints, schedule step, live line and
warnings) and fitdoctor's early stopping. Only rank 0 writes; every rank takes one decision."""

from __future__ import annotations

import math
import os
from typing import Callable

import lightning as L

from ..history.names import infer_mode
from .early_stopping import StopReason, StopRule


def _gap(rec: dict, monitor: str) -> float | None:
    metric = monitor.split("_", 1)[-1]
    train, val = rec.get(f"train_{metric}"), rec.get(monitor)
    if train is None or val is None:
        return None
    return train - val if infer_mode(monitor) == "max" else val - train


class EpochRecorder(L.Callback):
    """After each epoch (validation included): record it, save checkpoints, step the schedule."""

    def __init__(self, store, run_id: str, monitor: str, ckpt_dir: str, gap_warning: float | None,
                 say: Callable[[str], None], warn: Callable[[str], None]):
        self.store, self.run_id, self.monitor, self.ckpt_dir = store, run_id, monitor, ckpt_dir
        self.mode = infer_mode(monitor)
        self.gap_warning, self.say, self.warn = gap_warning, say, warn
        self.best: tuple[int, float] | None = None
        self.last: dict = {}
        self.floor_warned = False

    def _save(self, trainer: L.Trainer, name: str) -> str:
        path = os.path.join(self.ckpt_dir, name)
        tmp = path + ".tmp"
        trainer.save_checkpoint(tmp)                 # every rank calls; rank 0 writes
        if trainer.is_global_zero:
            os.replace(tmp, path)
        return path

    def state_dict(self) -> dict:
        return {"best": list(self.best) if self.best else None}

    def load_state_dict(self, state: dict) -> None:
        self.best = tuple(state["best"]) if state.get("best") else None

    def on_train_epoch_end(self, trainer: L.Trainer, module) -> None:
        if module.non_finite is not None and float(module._train_sums[1]) == 0:
            return                                    # nothing finite to record this epoch
        rec = module.epoch_record()
        self.last = rec
        value = rec.get(self.monitor)
        if module.schedule is not None:
            module.schedule.after_epoch(value)
        epoch = int(rec["epoch"])
        improved = value is not None and math.isfinite(value) and (
            self.best is None or (value > self.best[1] if self.mode == "max" else value < self.best[1]))
        if improved:
            self.best = (epoch, value)
        # the store first, then the checkpoint: killed in between, a resume redoes this epoch
        # and replaces its row (never a lost or a duplicated epoch)
        if trainer.is_global_zero:
            self.store.log_epoch(self.run_id, epoch, rec)
            preds = module.val_predictions()
            if preds is not None:
                self.store.save_predictions(self.run_id, "last", epoch, preds)
                if improved:
                    self.store.save_predictions(self.run_id, "best", epoch, preds)
        if module.non_finite is None:
            self._save(trainer, "last.ckpt")
            if improved:
                self._save(trainer, "best.ckpt")
        if not trainer.is_global_zero:
            return
        if module.non_finite is None:
            self.store.add_artifact(self.run_id, "last_checkpoint", os.path.join(self.ckpt_dir, "last.ckpt"), epoch)
            if improved:
                self.store.add_artifact(self.run_id, "best_checkpoint",
                                        os.path.join(self.ckpt_dir, "best.ckpt"), epoch)
        if self.best is not None:
            self.store.update_run(self.run_id, best_epoch=self.best[0], best_value=self.best[1])
        parts = [f"epoch {epoch:>3}"] + [f"{k} {rec[k]:.4g}" for k in
                                          ("train_loss", f"train_{self.monitor.split('_', 1)[-1]}",
                                           "val_loss", self.monitor, "lr") if k in rec]
        self.say("  ".join(parts) + (f"  ({rec['epoch_time']:.1f}s)" + ("  *" if improved else "")))
        gap = _gap(rec, self.monitor)
        if self.gap_warning is not None and gap is not None and gap > self.gap_warning:
            self.warn(f"epoch {epoch}: train-val gap {gap:.3g} above {self.gap_warning:g}")
        if module.schedule is not None and module.schedule.at_floor and not self.floor_warned:
            self.floor_warned = True
            self.warn(f"epoch {epoch}: the LR reached its floor {module.schedule.spec.lr_floor:g}")


class EarlyStopping(L.Callback):
    """fitdoctor's early stopping as a Lightning callback (smoothed, gap-aware, restart-aware).
    Place it after the EpochRecorder: it reads the record the recorder just made."""

    def __init__(self, recorder: EpochRecorder, rule: StopRule, monitor: str,
                 warn: Callable[[str], None] | None = None):
        self.recorder, self.rule, self.monitor, self.warn = recorder, rule, monitor, warn
        self.reason: StopReason | None = None
        self.message = ""
        self.stopped_epoch: int | None = None

    def on_train_start(self, trainer, module) -> None:
        period = module.schedule.restart_period if module.schedule is not None else None
        if period is not None and self.rule.patience < period and self.warn is not None:
            self.warn(f"early-stopping patience {self.rule.patience} is shorter than the warm-restart "
                      f"period {period}: a stop will wait for the next restart")

    def on_train_epoch_end(self, trainer, module) -> None:
        rec = self.recorder.last
        if module.non_finite is not None:
            self.reason, self.message = StopReason.NON_FINITE, "non-finite training loss"
            return
        value = rec.get(self.monitor)
        if value is None:
            return
        to_restart = module.schedule.restart_period if (module.schedule and self.rule.restart_aware) else None
        decision = self.rule.update(int(rec["epoch"]), value, _gap(rec, self.monitor), to_restart)
        stop = trainer.strategy.reduce_boolean_decision(decision.stop, all=False)
        if stop:
            trainer.should_stop = True
            self.reason, self.message = decision.reason or StopReason.PATIENCE, decision.message
            self.stopped_epoch = int(rec["epoch"])

    def state_dict(self) -> dict:
        return {"rule": self.rule.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.rule.load_state_dict(state.get("rule", {}))

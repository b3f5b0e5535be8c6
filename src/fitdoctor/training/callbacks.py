"""Lightning callbacks: the epoch recorder (run store, checkpoints, schedule step, live line and
warnings) and fitdoctor's early stopping. Only rank 0 writes; every rank takes one decision."""

from __future__ import annotations

import math
import os
from typing import Callable

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar

from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

from ..errors import UsageError
from ..history.names import Monitor, canonical_name, resolve_monitor
from .early_stopping import StopReason, StopRule, train_val_gap


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


class EpochRecorder(L.Callback):
    """After each epoch (validation included): record it, save checkpoints, step the schedule."""

    def __init__(self, store, run_id: str, monitor: Monitor, ckpt_dir: str,
                 gap_warning: float | None, say: Callable[[str], None], warn: Callable[[str], None]):
        self.store, self.run_id, self.ckpt_dir = store, run_id, ckpt_dir
        self.watch, self.monitor = monitor, monitor.name
        self.gap_warning, self.say, self.warn = gap_warning, say, warn
        self.best: tuple[int, float] | None = None
        self.last: dict = {}
        self.floor_warned = False

    def setup(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        if trainer.world_size > 1:   # every rank records under rank 0's run (other nodes had none)
            self.run_id, self.ckpt_dir = trainer.strategy.broadcast((self.run_id, self.ckpt_dir), src=0)

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
        # nothing finite to record this epoch, on any rank: every rank must take the same branch
        # (the record's reductions are collectives), and a rank's own count can be 0 where
        # another's is not (fast mode stops counting at a rank's own first non-finite loss)
        if module.non_finite is not None and trainer.strategy.reduce_boolean_decision(
                module.train_examples == 0, all=True):
            return
        rec = module.epoch_record()
        self.last = rec
        value = rec.get(self.monitor)
        if module.schedule is not None:
            module.schedule.after_epoch(value)
        epoch = int(rec["epoch"])
        improved = value is not None and math.isfinite(value) and self.watch.is_better(
            value, None if self.best is None else self.best[1])
        if improved:
            self.best = (epoch, value)
        # the store first, then the checkpoint: killed in between, a resume redoes this epoch
        # and replaces its row (never a lost or a duplicated epoch)
        preds = module.val_predictions()              # (every rank: a gather under DDP)
        if trainer.is_global_zero:
            self.store.log_epoch(self.run_id, epoch, rec)
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
        gap = train_val_gap(rec, self.monitor)
        if self.gap_warning is not None and gap is not None and gap > self.gap_warning:
            self.warn(f"epoch {epoch}: train-val gap {gap:.3g} above {self.gap_warning:g}")
        if module.schedule is not None and module.schedule.at_floor and not self.floor_warned:
            self.floor_warned = True
            self.warn(f"epoch {epoch}: the LR reached its floor {module.schedule.spec.lr_floor:g}")


class ForwardStopSignal(L.Callback):
    """A SIGINT/SIGTERM that came before ``Trainer.fit`` installed Lightning's SIGTERM handler is
    handed to it when training starts: Lightning then stops after the first batch."""

    def __init__(self, stop):
        self.stop = stop

    def on_train_start(self, trainer, module) -> None:
        if self.stop.signum is not None:
            self.stop.forward()


class EarlyStopping(L.Callback):
    """fitdoctor's early stopping for any LightningModule: on the moving average of the last
    ``smoothing`` values, on a train-val gap above ``max_gap`` for ``gap_patience`` epochs, and
    (with a CosineAnnealingWarmRestarts scheduler) never before the next restart had its chance.
    The stop reason is kept in ``reason`` / ``message``."""

    def __init__(self, monitor: str = "val_loss", mode: str | None = None, patience: int = 10,
                 min_delta: float = 0.0, min_delta_mode: str = "abs", smoothing: int = 1,
                 max_gap: float | None = None, gap_patience: int = 3, restart_aware: bool = True):
        watch = resolve_monitor(canonical_name(monitor), mode, "val_loss")
        self.monitor, self.mode = watch.name, watch.mode
        self.monitor_given = monitor
        self.rule = StopRule(mode=self.mode, patience=patience, min_delta=min_delta,
                             min_delta_mode=min_delta_mode, smoothing=smoothing, max_gap=max_gap,
                             gap_patience=gap_patience, restart_aware=restart_aware)
        self.reason: StopReason | None = None
        self.message = ""

    def epoch_values(self, trainer, module) -> dict[str, float] | None:
        """The finished epoch's metrics (None: nothing to decide on this epoch)."""
        return epoch_metrics(trainer)

    def epochs_to_restart(self, trainer, module) -> int | None:
        for cfg in trainer.lr_scheduler_configs:
            s = cfg.scheduler
            if isinstance(s, CosineAnnealingWarmRestarts) and cfg.interval == "epoch":
                return int(s.T_i - s.T_cur)
        return None

    def on_train_epoch_end(self, trainer, module) -> None:
        values = self.epoch_values(trainer, module)
        if values is None:
            return
        value = values.get(self.monitor)
        if value is None:
            given = f"{self.monitor_given!r}" + (f" (read as {self.monitor!r})"
                                                 if self.monitor_given != self.monitor else "")
            raise UsageError(f"EarlyStopping(monitor={given}): metric {self.monitor!r} is not logged; "
                             f"logged: {', '.join(sorted(values)) or 'none'}. Set monitor= to one "
                             f"of those, or log it with self.log({self.monitor!r}, ...).")
        to_restart = self.epochs_to_restart(trainer, module) if self.rule.restart_aware else None
        d = self.rule.update(trainer.current_epoch, value, train_val_gap(values, self.monitor), to_restart)
        if trainer.strategy.reduce_boolean_decision(d.stop, all=False):
            trainer.should_stop = True
            self.reason, self.message = d.reason or StopReason.PATIENCE, d.message

    def state_dict(self) -> dict:
        return {"rule": self.rule.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.rule.load_state_dict(state.get("rule", {}))


class RecordEarlyStopping(EarlyStopping):
    """The trainer's early stopping: it decides on the record the EpochRecorder just made (place
    it after the recorder) and on fitdoctor's own schedule."""

    def __init__(self, recorder: EpochRecorder, *, warn: Callable[[str], None] | None = None, **rule):
        super().__init__(**rule)
        self.recorder, self.warn = recorder, warn

    def epoch_values(self, trainer, module) -> dict[str, float] | None:
        if module.non_finite is not None:
            self.reason, self.message = StopReason.NON_FINITE, "non-finite training loss"
            return None
        return self.recorder.last or None

    def epochs_to_restart(self, trainer, module) -> int | None:
        return module.schedule.restart_period if module.schedule is not None else None

    def on_train_start(self, trainer, module) -> None:
        period = self.epochs_to_restart(trainer, module)
        if period is not None and self.rule.patience < period and self.warn is not None:
            self.warn(f"early-stopping patience {self.rule.patience} is shorter than the warm-restart "
                      f"period {period}: a stop will wait for the next restart")


class EpochProgressBar(RichProgressBar):
    """Lightning's rich bar with the epoch as the store and the reports number it (from 0) and
    how far along the run is: "Epoch 0 (1/10)", where Lightning shows "Epoch 0/9". Lines printed
    through ``rich.get_console()`` while it runs appear above it."""

    def _get_train_description(self, current_epoch: int) -> str:
        text = f"Epoch {current_epoch}"
        if self.trainer.max_epochs is not None and self.trainer.max_epochs > 0:
            text += f" ({current_epoch + 1}/{self.trainer.max_epochs})"
        return f"{text:{len(self.validation_description)}}" \
            if len(self.validation_description) > len(text) else text

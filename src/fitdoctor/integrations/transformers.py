"""Hugging Face Trainer integration.

    trainer = Trainer(..., callbacks=[FitDoctorCallback(name="my-run", report="report/")])

logs every evaluation (training loss averaged since the previous one, the LR, every ``eval_*``
metric under canonical names) to the run store and writes the diagnosis report when training
ends. ``WarmupReduceLROnPlateau`` gives the HF Trainer what it lacks (huggingface/transformers
#29417, closed for GreedyLR, which is not this): a linear warmup per optimizer step, then
ReduceLROnPlateau on the evaluation metric —

    sched = WarmupReduceLROnPlateau(optimizer, warmup_steps=100, mode="max", factor=0.5, patience=2)
    trainer = Trainer(..., optimizers=(optimizer, sched), callbacks=[FitDoctorCallback()])
    # TrainingArguments(metric_for_best_model="accuracy", eval_strategy="epoch", ...)

The Trainer steps a ReduceLROnPlateau with the evaluation metric itself; the callback steps the
warmup after each optimizer step."""

from __future__ import annotations

from typing import Any, Mapping

from torch.optim.lr_scheduler import ReduceLROnPlateau
from transformers import TrainerCallback

from ..history.names import canonical_name
from ..store import DEFAULT_PATH
from .track import Run


class WarmupReduceLROnPlateau(ReduceLROnPlateau):
    """ReduceLROnPlateau behind a linear warmup of ``warmup_steps`` optimizer steps (LR from
    ``start_factor`` x base to base). Plateau steps during the warmup are ignored."""

    def __init__(self, optimizer, warmup_steps: int, start_factor: float = 0.1, **plateau: Any):
        super().__init__(optimizer, **plateau)
        self.warmup_steps, self.start_factor, self.warmup_t = int(warmup_steps), float(start_factor), 0
        self.warmup_base = [g["lr"] for g in optimizer.param_groups]
        if self.warmup_steps > 0:
            for g, base in zip(optimizer.param_groups, self.warmup_base):
                g["lr"] = base * self.start_factor

    def warmup_step(self) -> None:
        if self.warmup_t >= self.warmup_steps:
            return
        self.warmup_t += 1
        frac = self.start_factor + (1 - self.start_factor) * self.warmup_t / self.warmup_steps
        for g, base in zip(self.optimizer.param_groups, self.warmup_base):
            g["lr"] = base * min(frac, 1.0)

    def step(self, metrics, epoch=None) -> None:  # noqa: D401 - torch's signature
        if self.warmup_t < self.warmup_steps:
            return
        super().step(metrics)

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]


class FitDoctorCallback(TrainerCallback):
    def __init__(self, name: str | None = None, config: Mapping[str, Any] | None = None, *,
                 store: str = DEFAULT_PATH, monitor: str | None = None, report: str | None = None):
        self.name, self.config, self.store, self.monitor, self.report = name, config, store, monitor, report
        self.run: Run | None = None
        self._losses: list[float] = []
        self._lr: float | None = None

    @property
    def run_id(self) -> str | None:
        return self.run.run_id if self.run else None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.run is None:
            config = self.config or {k: v for k, v in args.to_dict().items()
                                     if k in ("learning_rate", "weight_decay", "num_train_epochs",
                                              "per_device_train_batch_size", "warmup_steps",
                                              "lr_scheduler_type", "seed", "max_grad_norm")}
            monitor = self.monitor or (canonical_name("eval_" + args.metric_for_best_model.removeprefix("eval_"))
                                       if args.metric_for_best_model else None)
            self.run = Run(self.name or args.run_name, config, store=self.store, monitor=monitor,
                           report=self.report)

    def on_step_end(self, args, state, control, lr_scheduler=None, **kwargs):
        if isinstance(lr_scheduler, WarmupReduceLROnPlateau):
            lr_scheduler.warmup_step()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs:
            return
        if "loss" in logs:
            self._losses.append(float(logs["loss"]))
        if "learning_rate" in logs:
            self._lr = float(logs["learning_rate"])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.run is None or not metrics:
            return
        row = {canonical_name(k): v for k, v in metrics.items() if k.startswith("eval_")
               and isinstance(v, (int, float)) and not k.endswith(("runtime", "per_second"))}
        if self._losses:
            row["train_loss"] = sum(self._losses) / len(self._losses)
            self._losses = []
        if self._lr is not None:
            row["lr"] = self._lr
        self.run.log(epoch=state.epoch, step=state.global_step, **row)

    def on_train_end(self, args, state, control, **kwargs):
        if self.run is not None:
            self.run.finish()

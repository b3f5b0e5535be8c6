"""The LightningModule: one training/validation step for every task, torchmetrics metrics, EMA,
the composed LR schedule stepped by hand (so warmup + ReduceLROnPlateau works), and the epoch
record that goes to the run store."""

from __future__ import annotations

import math
import random
import time

import lightning as L
import torch
import torchmetrics
from torchmetrics import classification as C

from ..schedules import Schedule, ScheduleSpec, build_schedule
from ..history.names import Monitor
from .config import resolve_monitor
from .ema import make_ema
from .optim import make_optimizer


def _metrics(task) -> dict[str, torchmetrics.Metric]:
    if task.kind == "binary":
        return {"f1": C.BinaryF1Score(), "acc": C.BinaryAccuracy()}
    if task.kind == "segmentation":        # mean F-score over classes, on pixels
        return {"f1": C.MulticlassF1Score(task.num_classes, average="macro")}
    return {"acc": C.MulticlassAccuracy(task.num_classes, average="micro"),
            "f1": C.MulticlassF1Score(task.num_classes, average="macro")}


class HostCopy:
    """A small device tensor copied to pinned host memory without waiting for the GPU: ``start``
    queues the copy and a CUDA event behind it; ``landed`` gives (host tensor, tag) once the event
    says the copy is done, else None. One copy in flight at a time (``busy``)."""

    def __init__(self) -> None:
        self._host: torch.Tensor | None = None
        self._done = None                          # the CUDA event of the copy in flight
        self._tag = None

    @property
    def busy(self) -> bool:
        return self._done is not None

    def start(self, value: torch.Tensor, tag=None) -> None:
        if self._host is None:
            self._host = torch.empty(value.shape, dtype=value.dtype, pin_memory=True)
        self._host.copy_(value, non_blocking=True)
        self._done = torch.cuda.Event()
        self._done.record()
        self._tag = tag

    def landed(self):
        if self._done is None or not self._done.query():
            return None
        self._done = None
        return self._host, self._tag

    def drop(self) -> None:
        """Forget the copy in flight (the epoch's record reads the truth itself)."""
        self._done = None


class FitModule(L.LightningModule):
    LOOP = "standard"                      # which loop wrote a checkpoint (fast.FastModule: "fast")

    def __init__(self, task, cfg, loss: torch.nn.Module, monitor: Monitor | None = None):
        super().__init__()
        self.net, self.loss_fn, self.cfg, self.kind = task.model, loss, cfg, task.kind
        watch = monitor or resolve_monitor(cfg.training, task.metric)
        self.monitor, self.mode = watch.name, watch.mode
        # training: each step keeps its loss and hit counts as device scalars (no metric objects,
        # no host syncs, no per-step arithmetic on them); they are summed once at the epoch's end,
        # over ranks. Validation: torchmetrics.
        self.train_metrics = torch.nn.ModuleDict(_metrics(task)) if task.kind == "segmentation" else None
        self._steps: list[tuple] = []          # (loss, n, predictions, targets) per step
        self._probe = HostCopy()               # the finite-loss probe's answer (a GPU only)
        self._grad_norms: list[torch.Tensor] = []
        self.val_metrics = torch.nn.ModuleDict(_metrics(task))
        self.val_loss = torchmetrics.MeanMetric()
        self.grad_norm_every = 10
        self._opt_steps = 0
        ema = cfg.training.ema
        self.ema = make_ema(self.net, ema.decay, ema.warmup) if ema else None
        self.schedule: Schedule | None = None
        self._pending_state: dict | None = None
        self.non_finite: tuple[int, int] | None = None       # (epoch, step) of a NaN/inf loss
        self._val_out: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._t0 = time.perf_counter()
        self.steps_per_epoch = 1
        self._lr_start: list[float] = []
        self.finite_check_every = 25
        self._train_end = None

    # --- helpers --------------------------------------------------------------------------
    def _pred(self, out: torch.Tensor) -> torch.Tensor:
        return (out > 0).long() if self.kind == "binary" else out.argmax(dim=1)

    def forward(self, x):
        return self.net(x)

    # --- training -------------------------------------------------------------------------
    def on_train_epoch_start(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self._t0 = time.perf_counter()
        self._lr_start = [float(g["lr"]) for g in self.trainer.optimizers[0].param_groups]
        self._opt_steps = 0

    def training_step(self, batch, batch_idx):
        *xs, y = batch
        out = self.net(*xs)
        loss = self.loss_fn(out, y)
        if self._non_finite(loss, batch_idx):
            # no optimizer step on a non-finite loss, except under DDP, where Lightning cannot
            # skip one (nothing is checkpointed after it either way)
            return loss if self._world() > 1 else None
        if self.kind == "segmentation":
            pred = self._pred(out.detach())
            for m in self.train_metrics.values():
                m.update(pred, y.long())
            self._steps.append((loss.detach(), int(y.shape[0]), None, None))
        else:                                # one kernel a step; compared with y at the epoch's end
            self._steps.append((loss.detach(), int(y.shape[0]), self._pred(out.detach()), y))
        return loss

    def _world(self) -> int:
        """The trainer's world size (1 before there is one); with ``global_rank``, what a rank
        trains and validates. The trainer's, not the process group's: a one-device run in a
        process that already holds a group (a user's torchrun, an earlier DDP fit) must not
        shard its data over ranks that are not training."""
        return self._trainer.world_size if self._trainer is not None else 1

    def _non_finite(self, loss: torch.Tensor, batch_idx: int) -> bool:
        """Whether to stop on a NaN/inf loss now. On CPU reading the loss costs nothing: every
        step. Under DDP every rank takes the same decision at the same step (a reduced vote). On
        one GPU: the asynchronous probe, which never waits for the GPU."""
        cpu = loss.device.type == "cpu"
        if self._world() > 1:
            bad = batch_idx % (1 if cpu else self.finite_check_every) == 0 and \
                self.trainer.strategy.reduce_boolean_decision(not bool(torch.isfinite(loss)), all=False)
        elif cpu:
            bad = not bool(torch.isfinite(loss))
        else:
            return batch_idx % self.finite_check_every == 0 and self._probe_finite()
        if bad:
            self._stop_non_finite(self.current_epoch, self.global_step)
        return bad

    def _stop_non_finite(self, epoch: int, step: int) -> None:
        self.non_finite = (epoch, step)
        self.trainer.should_stop = True

    def _probe_finite(self) -> bool:
        """On a GPU, without ever waiting for it: every ``finite_check_every`` steps, queue a
        check of the losses since the last probe and an asynchronous copy of its answer to pinned
        host memory; read the previous answer once its copy has landed (a CUDA event says so).
        A non-finite loss is caught within two probes (and at the latest by the epoch's record);
        True when it is caught now."""
        landed = self._probe.landed()
        if landed is not None and bool(landed[0]):     # a read of host memory: no synchronisation
            self._stop_non_finite(*landed[1])
            return True
        if not self._probe.busy and self._steps:
            recent = torch.stack([s[0] for s in self._steps[-self.finite_check_every:]])
            self._probe.start(~torch.isfinite(recent.sum()), (self.current_epoch, self.global_step))
        return False

    def on_before_optimizer_step(self, optimizer) -> None:
        k = self._opt_steps
        self._opt_steps += 1
        if k % self.grad_norm_every:
            return                         # sampled: the epoch's 1st, 11th, 21st... optimizer step
        grads = [p.grad.detach() for p in self.parameters() if p.grad is not None]
        if grads:                          # one fused kernel for all parameters, no host sync
            self._grad_norms.append(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)).float()))

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if outputs is None:
            return
        k = self.cfg.training.accumulate_grad_batches
        if (batch_idx + 1) % k and batch_idx + 1 != self.trainer.num_training_batches:
            return                         # gradients accumulate: no optimizer step on this batch
        if self.ema is not None:           # once per optimizer step, as the schedule
            self.ema.update_parameters(self.net)
        if self.schedule is not None:
            self.schedule.after_batch()

    # --- validation -----------------------------------------------------------------------
    def validation_step(self, batch, batch_idx):
        *xs, y = batch
        net = self.ema.module if self.ema is not None else self.net
        out = net(*xs)
        pred = self._pred(out)
        if self.kind != "segmentation":       # all of them: the gather under DDP drops the padding
            self._val_out.append((pred.cpu(), y.long().cpu()))
        keep = self._not_padding(batch_idx, y.shape[0])
        if keep is not None:
            if not bool(keep.any()):
                return
            out, pred, y = out[keep], pred[keep], y[keep]
        self.val_loss.update(self.loss_fn(out, y), weight=y.shape[0])
        for m in self.val_metrics.values():
            m.update(pred, y.long())

    def _val_sampler(self):
        """Lightning's DistributedSampler of the validation loader under DDP (None otherwise)."""
        from torch.utils.data import DistributedSampler

        sampler = getattr(self.trainer.val_dataloaders, "sampler", None)
        return sampler if isinstance(sampler, DistributedSampler) and not sampler.drop_last else None

    def _not_padding(self, batch_idx: int, size: int) -> torch.Tensor | None:
        """Under DDP, Lightning's DistributedSampler pads the validation set with repeats of its
        first examples until every rank has as many (``total_size``); a repeat would count twice
        in the metrics. Rank r's i-th example is position r + i * world of the padded order, and
        positions from len(dataset) on are the repeats: the mask keeps the rest (None: no padding)."""
        sampler = self._val_sampler()
        if sampler is None or sampler.total_size == len(sampler.dataset):
            return None
        start = batch_idx * self.trainer.val_dataloaders.batch_size
        pos = sampler.rank + torch.arange(start, start + size, device=self.device) * sampler.num_replicas
        return pos < len(sampler.dataset)

    def _mark_train_end(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self._train_end = time.perf_counter()

    def on_validation_model_zero_grad(self) -> None:
        # Lightning's first call after the epoch's last training batch, before it sets up the
        # validation loader: train_time ends here
        self._mark_train_end()
        super().on_validation_model_zero_grad()

    def on_validation_epoch_start(self) -> None:
        self._val_out = []
        if self._train_end is None:          # (not called after an accumulating batch)
            self._mark_train_end()

    # --- the epoch record -----------------------------------------------------------------
    def epoch_record(self) -> dict[str, float]:
        """Everything about the epoch that just ended (train and validation), computed once
        (synchronised across ranks by torchmetrics) and reset."""
        rec: dict[str, float] = {"epoch": float(self.current_epoch)}
        for i, lr in enumerate(self._lr_start):        # the LR in effect at the epoch's start
            rec["lr" if i == 0 else f"lr_pg{i}"] = lr

        def take(metric, key):
            if metric.update_count:
                rec[key] = float(metric.compute())
            metric.reset()

        sums = self.trainer.strategy.reduce(self._train_totals(), reduce_op="sum")
        loss_n, n, hit, tn, fn, fp, tp, grad_sum, grad_count = (float(v) for v in sums)
        self._probe.drop()
        if not math.isfinite(loss_n) and self.non_finite is None:   # missed by the probes
            self._stop_non_finite(self.current_epoch, self.global_step)
        if n > 0:
            rec["train_loss"] = loss_n / n
            if self.kind == "binary":
                rec["train_acc"] = (tp + tn) / n
                rec["train_f1"] = 2 * tp / max(2 * tp + fp + fn, 1.0)
            elif self.kind != "segmentation":
                rec["train_acc"] = hit / n
        if self.train_metrics is not None:
            for name, m in self.train_metrics.items():
                take(m, f"train_{name}")
        take(self.val_loss, "val_loss")
        for name, m in self.val_metrics.items():
            take(m, f"val_{name}")
        if grad_count > 0:
            rec["grad_norm"] = grad_sum / grad_count
        self._steps, self._grad_norms = [], []
        now = time.perf_counter()
        rec["epoch_time"] = now - self._t0
        rec["train_time"] = (self._train_end or now) - self._t0     # the training batches alone
        self._train_end = None
        return rec

    def _train_totals(self) -> torch.Tensor:
        """[loss*n, n, hits, tn, fn, fp, tp, sum of gradient norms, their count] for the steps
        since the last record, on this rank, in one tensor (reduced over ranks by the caller)."""
        out = torch.zeros(9, device=self.device, dtype=torch.float32)
        if self._steps:
            losses, ns, preds, targets = zip(*self._steps)
            n = torch.tensor(ns, device=self.device, dtype=torch.float32)
            out[0] = (torch.stack(losses).float() * n).sum()
            out[1] = n.sum()
            if self.kind != "segmentation":
                pred = torch.cat([p.flatten() for p in preds]).long()
                target = torch.cat([t.flatten() for t in targets]).long()
                out[2] = (pred == target).sum()
                if self.kind == "binary":    # counts of (pred, target) = (0,0), (0,1), (1,0), (1,1)
                    cell = pred * 2 + target  # (bincount would wait for the GPU)
                    out[3:7] = cell.new_zeros(4).scatter_add_(0, cell, torch.ones_like(cell)).float()
        if self._grad_norms:
            out[7] = torch.stack(self._grad_norms).float().sum()
            out[8] = len(self._grad_norms)
        return out

    @property
    def train_examples(self) -> int:
        """Examples trained on since the last epoch record (this rank)."""
        return sum(s[1] for s in self._steps)

    def val_predictions(self) -> dict | None:
        """Each validation example's prediction, in the validation set's order. Under DDP every
        rank must call it (the ranks' shares are gathered and interleaved back, the padding cut);
        predictions are kept only where that order is known (an unshuffled sampler)."""
        if not self._val_out:
            return None
        pred = torch.cat([p for p, _ in self._val_out])
        target = torch.cat([t for _, t in self._val_out])
        if self.trainer.world_size > 1:
            sampler = self._val_sampler()
            if sampler is None or sampler.shuffle:
                return None
            n = len(sampler.dataset)
            import torch.distributed as dist    # (not self.all_gather: a deprecated torch path, warned)

            local = torch.stack([pred, target]).to(self.device)
            parts = [torch.empty_like(local) for _ in range(self.trainer.world_size)]
            dist.all_gather(parts, local)
            both = torch.stack(parts)                                          # [world, 2, m]
            pred, target = (both[:, i].transpose(0, 1).reshape(-1)[:n].cpu() for i in (0, 1))
        pred, target = pred.numpy(), target.numpy()
        return {"pred": pred, "target": target, "correct": (pred == target)}

    # --- optimizer and schedule ----------------------------------------------------------
    def configure_optimizers(self):
        t = self.cfg.training
        opt = make_optimizer(t, [p for p in self.net.parameters() if p.requires_grad])
        batches = self.trainer.estimated_stepping_batches / max(self.trainer.max_epochs, 1)
        self.steps_per_epoch = max(1, int(math.ceil(batches)))
        spec = ScheduleSpec.from_training(t, self.steps_per_epoch, monitor_mode=self.mode)
        self.schedule = build_schedule(opt, spec, t.epochs, self.steps_per_epoch)
        return opt

    def on_train_start(self) -> None:
        state = self._pending_state
        if state is not None:
            if self.schedule is not None and state.get("schedule") is not None:
                self.schedule.load_state_dict(state["schedule"])
            if state.get("torch_rng") is not None:      # a resumed run draws what it would have
                torch.set_rng_state(state["torch_rng"])
                version, internal, gauss = state["python_rng"]
                random.setstate((version, tuple(internal), gauss))
            if state.get("cuda_rng") is not None and self.device.type == "cuda":   # dropout on a GPU
                torch.cuda.set_rng_state(state["cuda_rng"].cpu(), self.device)
            self._pending_state = None

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["fitdoctor"] = {
            "schedule": self.schedule.state_dict() if self.schedule is not None else None,
            "torch_rng": torch.get_rng_state(), "python_rng": list(random.getstate()),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
            "loop": self.LOOP}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._pending_state = checkpoint.get("fitdoctor")

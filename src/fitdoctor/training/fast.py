"""Fast mode (``training.fast``): the whole training step — forward, backward, gradient clipping,
the optimizer and the EMA, over every accumulated micro-batch — replayed from one CUDA graph, with
the data resident on the GPU and each batch gathered by index inside the graph, so a step costs the
host one index copy and one replay instead of hundreds of kernel launches.

- Static shapes: every training step takes ``batch_size * accumulate_grad_batches`` examples; the
  remainder of each epoch's shuffled order is left out (and said once). Validation covers every
  example exactly once: full batches replay their own graph, the last partial one runs eagerly.
- The LR is a device tensor the captured optimizer reads (fused, capturable Adam/AdamW); fitdoctor's
  schedule keeps stepping ``param_groups`` and each change is copied into it before the next replay,
  so warmup, plateau and restarts work without a re-capture.
- Counters (loss, hits, the binary confusion cells, the gradient norm, a non-finite flag and the
  step of the first non-finite loss) accumulate on the device; the host reads them once an epoch,
  and the non-finite flag between through the asynchronous probe (never waiting for the GPU).
  Counting stops at the first non-finite loss.
- The optimizer's state is created before the capture by a step that changes nothing (LR and
  weight decay 0, zero gradients, its step count reset); the warmup passes that initialise the
  libraries run on a side stream with the RNG and the buffers put back. A run therefore replays
  from its first step, and a resumed run (which captures again) computes what the uninterrupted one
  did. A run resumes in the loop it started in (the checkpoint says which).
- A step that cannot be captured (a model that reads a value back to the host in its forward, an
  ``.item()`` or a ``nonzero``) stops the run with a message that names the cause and the way out
  (``training.fast: false``): a failed capture leaves CUDA's RNG unusable in that process, so
  there is no falling back inside it.

``plan()`` says whether a run can use it, and why not. Everything Lightning does around the step
(epochs, validation loop, checkpoints and resume, signals, early stopping, the recorder) is the
same as in the standard loop: ``FastModule`` is the standard module with manual optimization."""

from __future__ import annotations

import math
import os

import torch
import torch.distributed as dist
from torch.utils.data import TensorDataset

from ..errors import ConfigError
from .module import FitModule
from .optim import make_optimizer

# tests: run the fast loop's logic on the CPU, each step eager (the environment variable reaches the
# processes a DDP launcher starts)
CPU_WITHOUT_GRAPHS = os.environ.get("FITDOCTOR_FAST_ON_CPU") == "1"
_DATA_SHARE = 0.25            # resident data may take this share of the GPU's free memory
_LEFT_OUT = 0.10              # the most of each epoch the static step shape may leave out


def _tensors(loader) -> tuple[torch.Tensor, ...] | None:
    """The loader's tensors, when its batches are plain rows of them (no transform on the way)."""
    from torch.utils.data._utils.collate import default_collate

    from .tasks.common import BatchTensors, _batched

    ds = getattr(loader, "dataset", None)
    if type(ds) not in (TensorDataset, BatchTensors) or loader.collate_fn not in (default_collate, _batched):
        return None
    return tuple(ds.tensors)


def _loaders_why_not(task, step: int) -> str:
    from torch.utils.data import SequentialSampler

    from .tasks.common import EpochShuffle

    if task.train.batch_size is None or task.val.batch_size is None:
        return "the task's loaders use a batch_sampler (fast mode needs a batch_size)"
    if _tensors(task.train) is None or _tensors(task.val) is None:
        return ("the task's datasets are not plain tensors (a TensorDataset without a Dataset subclass "
                "or collate_fn that changes its rows) that can live on the GPU")
    if type(task.train.sampler) is not EpochShuffle or not isinstance(task.val.sampler, SequentialSampler):
        return "the task's loaders use their own samplers (fast mode orders batches by fitdoctor's EpochShuffle)"
    n = len(task.train.dataset)
    if n < step:
        return f"fewer training examples ({n}) than one step takes ({step})"
    if n % step > _LEFT_OUT * n:
        return (f"a static step of {step} examples would leave out {n % step} of the {n} training "
                f"examples each epoch (over {_LEFT_OUT:.0%}); choose a batch_size x "
                "accumulate_grad_batches that divides the data more evenly")
    return ""


def step_examples(t, task) -> int:
    """The training examples of one fast-mode step, over all processes (a static shape)."""
    return task.train.batch_size * t.accumulate_grad_batches * t.processes


def plan(cfg, task, accelerator: str, resumed: str | None = None) -> tuple[bool, str]:
    """(use fast mode, why not). ``training.fast: false`` turns it off; None and true ask for it.
    ``resumed``: the loop a resumed run's checkpoint was written by ("fast" or "standard")."""
    t = cfg.training
    if resumed == "standard":
        return False, "the run started in the standard loop and resumes in it"
    if t.fast is False and resumed != "fast":
        return False, "training.fast is false"
    cuda = torch.cuda.is_available() and accelerator != "cpu"
    if not cuda and not CPU_WITHOUT_GRAPHS:
        return False, "fast mode needs a CUDA GPU"
    if task.kind == "segmentation":
        return False, "fast mode covers the classification tasks (image, sentiment, a TaskData of tensors)"
    if t.optimizer == "SGD":
        return False, "fast mode captures a fused Adam/AdamW step; SGD keeps the standard loop"
    if t.precision == "16-mixed":
        return False, "fp16 needs a loss scaler that synchronises: use precision bf16-mixed or 32"
    if t.scheduler in ("OneCycleLR", "CyclicLR") and t.scheduler_params.get("cycle_momentum", True):
        return False, (f"{t.scheduler} cycles the optimizer's momentum (betas) every step, which a "
                       "captured step cannot follow: set scheduler_params.cycle_momentum: false")
    why = _loaders_why_not(task, step_examples(t, task) if task.train.batch_size else 0)
    if why:
        return False, why
    if cuda:
        need = sum(x.numel() * x.element_size() for x in _tensors(task.train) + _tensors(task.val))
        free = torch.cuda.mem_get_info()[0]
        if need > _DATA_SHARE * free:
            return False, (f"the data ({need / 2**30:.1f} GiB) would take over {_DATA_SHARE:.0%} of the "
                           f"GPU's free memory ({free / 2**30:.1f} GiB)")
    return True, ""


class DeviceBatches:
    """Batches of example indices, on the module's device: the training order is the task's own
    sampler (``EpochShuffle``, set per epoch by Lightning), cut into full steps; validation is
    every example once, in order.

    Under DDP (W processes) a training step takes the next W x batch examples of that order, rank r
    the r-th block of ``batch`` of them: the step's examples are those of one process training at
    W x batch, and each rank's those of one of its accumulated micro-batches. Validation: rank r
    takes examples r, r + W, r + 2W, ... (none repeated)."""

    batch_sampler = None                  # (Lightning looks for one)

    def __init__(self, owner: FitModule, n: int, batch: int, sampler=None):
        self.owner, self.n, self.batch, self.sampler = owner, n, batch, sampler

    def __len__(self) -> int:
        rank, world = self.owner.global_rank, self.owner._world()
        if self.sampler is not None:
            return self.n // (self.batch * world)
        return math.ceil(len(range(rank, self.n, world)) / self.batch)

    def left_out(self, world: int) -> int:
        """Training examples each epoch leaves out (a static step shape), with ``world`` processes."""
        return self.n % (self.batch * world) if self.sampler is not None else 0

    def mine(self) -> torch.Tensor:
        """This rank's examples of an unsampled set (validation): r, r + W, r + 2W, ..."""
        return torch.arange(self.owner.global_rank, self.n, self.owner._world(), device=self.owner.device)

    def __iter__(self):
        if self.sampler is None:
            order = self.mine()
            for i in range(len(self)):
                yield order[i * self.batch:(i + 1) * self.batch]
            return
        rank, world = self.owner.global_rank, self.owner._world()
        order = torch.tensor(list(self.sampler)).to(self.owner.device)            # one copy an epoch
        step = self.batch * world
        for i in range(len(self)):
            yield order[i * step + rank * self.batch:i * step + (rank + 1) * self.batch]


def unwrapped_ddp():
    """Lightning's DDP without the DistributedDataParallel wrapper (its per-parameter hooks cannot
    live in a captured step): the fast step averages the gradients itself, inside the graph."""
    from lightning.pytorch.strategies import DDPStrategy

    class FastDDP(DDPStrategy):
        def configure_ddp(self) -> None:
            pass                             # no wrapper: FastModule syncs the gradients

    return FastDDP()


def average_gradients(grads: list[torch.Tensor], world: int) -> None:
    """The gradients' mean over the ``world`` ranks, in place: one flat all-reduce (captured with
    the step: NCCL collectives can live in a CUDA graph), then copied back."""
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat.mul_(1.0 / world)
    torch._foreach_copy_(grads, [f.view_as(g) for f, g in zip(flat.split([g.numel() for g in grads]), grads)])


class _Graph:
    """A function run eagerly until captured; then replayed."""

    def __init__(self, fn):
        self.fn, self.graph = fn, None

    def capture(self, what: str) -> None:
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.fn()
        except Exception as exc:  # noqa: BLE001 - a failed capture leaves CUDA's RNG unusable: stop
            raise ConfigError(f"fast mode could not capture the {what} as a CUDA graph ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}); train with "
                              "training.fast: false") from exc
        self.graph = graph

    def __call__(self) -> None:
        self.graph.replay() if self.graph is not None else self.fn()


# the device counters, one vector: indices into it
LOSS, N, HIT, TN, FN, FP, TP, GRAD, GRADS, BAD, FIRST_BAD, STEP = range(12)


class FastModule(FitModule):
    """The standard module with the step replayed from a CUDA graph (see the module's doc)."""

    LOOP = "fast"

    def __init__(self, task, cfg, loss: torch.nn.Module, monitor=None):
        super().__init__(task, cfg, loss, monitor)
        self.automatic_optimization = False
        t = cfg.training
        self.micro, self.accumulate = task.train.batch_size, t.accumulate_grad_batches
        self.val_batch = task.val.batch_size
        self.bf16 = t.precision == "bf16-mixed"
        for i, x in enumerate(_tensors(task.train)):       # moved to the GPU with the module
            self.register_buffer(f"_train{i}", x.contiguous(), persistent=False)
        for i, x in enumerate(_tensors(task.val)):
            self.register_buffer(f"_val{i}", x.contiguous(), persistent=False)
        self._n_train, self._n_val = len(_tensors(task.train)), len(_tensors(task.val))
        self.train_batches = DeviceBatches(self, len(task.train.dataset), self.micro * self.accumulate,
                                           task.train.sampler)
        self.val_batches = DeviceBatches(self, len(task.val.dataset), self.val_batch)
        self._train_step = self._val_step = None
        self._val_host_targets = None

    def _data(self, split: str) -> list[torch.Tensor]:
        n = self._n_train if split == "train" else self._n_val
        return [getattr(self, f"_{split}{i}") for i in range(n)]

    @property
    def _graphs(self) -> bool:
        return self.device.type == "cuda"

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16, cache_enabled=False)

    # --- optimizer ------------------------------------------------------------------------
    def configure_optimizers(self):
        t = self.cfg.training
        opt = make_optimizer(t, [p for p in self.net.parameters() if p.requires_grad], graph_safe=self._graphs)
        from ..schedules import ScheduleSpec, build_schedule

        self.steps_per_epoch = len(self.train_batches)
        spec = ScheduleSpec.from_training(t, self.steps_per_epoch, monitor_mode=self.mode)
        self.schedule = build_schedule(opt, spec, t.epochs, self.steps_per_epoch)
        return opt

    def _push_lr(self) -> None:
        """Copy the schedule's LRs (floats in param_groups) into the device tensors the graph
        reads, when they changed: a fill kernel, no synchronisation."""
        for i, g in enumerate(self._opt.param_groups):
            if g["lr"] != self._lr_host[i]:
                self._lr_dev[i].fill_(g["lr"])
                self._lr_host[i] = g["lr"]

    def _init_optimizer_state(self) -> None:
        """Create the optimizer's state without changing anything (a step with LR and weight decay
        0 on zero gradients, its step count reset), so the capture does not record its creation.
        A state loaded from a checkpoint is kept."""
        opt = self._opt
        if all(opt.state.get(p) for p in self._params):
            return
        kept = [(g["lr"], g["weight_decay"]) for g in opt.param_groups]
        for g in opt.param_groups:
            g["lr"], g["weight_decay"] = 0.0, 0.0
        for p in self._params:
            p.grad = torch.zeros_like(p)
        opt.step()
        for g, (lr, wd) in zip(opt.param_groups, kept):
            g["lr"], g["weight_decay"] = lr, wd
        for state in opt.state.values():
            if "step" in state:
                state["step"].zero_()
        opt.zero_grad(set_to_none=True)

    # --- the training step ----------------------------------------------------------------
    def _forward_backward(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        out = []
        data = self._data("train")
        for j in range(self.accumulate):
            *xs, y = (x.index_select(0, self._idx[j]) for x in data)
            with self._autocast():
                logits = self.net(*xs)
                loss = self.loss_fn(logits, y)
            (loss / self.accumulate).backward()
            out.append((loss.detach(), logits.detach(), y))
        return out

    def _step_body(self) -> None:
        """Everything one optimizer step does (captured in the graph on a GPU)."""
        if not self._graphs:                          # (captured, backward writes the gradients)
            self._opt.zero_grad(set_to_none=True)
        parts = self._forward_backward()
        grads = [p.grad for p in self._params if p.grad is not None]
        if self._world() > 1:
            average_gradients(grads, self._world())
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)).float())
        clip = self.cfg.training.max_grad_norm
        if clip is not None:                          # as torch.nn.utils.clip_grad_norm_
            torch._foreach_mul_(grads, torch.clamp(clip / (norm + 1e-6), max=1.0))
        self._opt.step()
        if self.ema is not None:
            self._ema_update()
        acc = self._acc
        row = torch.zeros_like(acc)
        finite = torch.ones((), dtype=torch.bool, device=acc.device)
        for loss, logits, y in parts:
            finite = finite & torch.isfinite(loss)
            pred, y = self._pred(logits).flatten(), y.flatten()       # (a binary (N, 1) column too)
            row[LOSS] += loss.float() * y.shape[0]
            row[N] += y.shape[0]
            row[HIT] += (pred == y).sum()
            if self.kind == "binary":                 # (pred, target) = (0,0), (0,1), (1,0), (1,1)
                cell = pred * 2 + y.long()
                row[TN:TP + 1] += torch.zeros(4, device=acc.device).scatter_add_(
                    0, cell, torch.ones_like(cell, dtype=torch.float32))
        row[GRAD] = norm
        row[GRADS] += 1                               # (no scalar assignment: a host copy in a capture)
        ok = finite & (acc[BAD] == 0)                 # counting stops at the first non-finite loss
        new_bad = (~finite) & (acc[BAD] == 0)
        acc.add_(torch.where(ok, row, 0.0))           # (NaN * 0 would be NaN)
        acc[BAD] += new_bad.float()
        acc[FIRST_BAD] += new_bad.float() * acc[STEP]
        acc[STEP] += 1

    def _sync_from_rank0(self) -> None:
        """Rank 0's weights and buffers (BatchNorm statistics, the EMA's) to every rank: once
        before training (as DistributedDataParallel does when it wraps a model) and before each
        validation (the ranks' BatchNorm statistics drift apart: all validate with rank 0's, which
        the checkpoint keeps)."""
        nets = [self.net] + ([self.ema.module] if self.ema is not None else [])
        with torch.no_grad():
            for net in nets:
                for t in list(net.parameters()) + list(net.buffers()):
                    dist.broadcast(t.data, 0)

    @torch.no_grad()
    def _ema_update(self) -> None:
        """torch AveragedModel's update with fitdoctor's decay (ema.make_ema), on the device:
        the first update copies, then e += w (c - e), w = 1 - min(decay, (1 + n) / (10 + n))."""
        ema, cfg = self.ema, self.cfg.training.ema
        n = ema.n_averaged
        d = torch.clamp((1 + n) / (10 + n), max=cfg.decay) if cfg.warmup else torch.full_like(
            n, cfg.decay, dtype=torch.float32)
        w = torch.where(n == 0, 1.0, 1 - d.float())
        diff = torch._foreach_sub(self._ema_src, self._ema_dst)
        torch._foreach_mul_(diff, w)
        torch._foreach_add_(self._ema_dst, diff)
        for e, c in self._ema_copy:
            e.copy_(c)
        n += 1

    def _prepare_train(self, first: torch.Tensor) -> None:
        dev = self.device
        if self._world() > 1:
            self._sync_from_rank0()          # (also sets up the communicator before the capture)
        self._opt = self.trainer.optimizers[0]
        self._params = [p for g in self._opt.param_groups for p in g["params"]]
        self._idx = torch.zeros(self.accumulate, self.micro, dtype=torch.long, device=dev)
        self._acc = torch.zeros(12, device=dev, dtype=torch.float64)   # exact counts past 2**24
        self._acc[STEP] = self.current_epoch * self.steps_per_epoch   # a resume starts an epoch
        if self.ema is not None:
            pairs = list(zip(list(self.ema.module.parameters()) + list(self.ema.module.buffers()),
                             list(self.net.parameters()) + list(self.net.buffers())))
            self._ema_dst = [e for e, c in pairs if e.is_floating_point()]
            self._ema_src = [c for e, c in pairs if e.is_floating_point()]
            self._ema_copy = [(e, c) for e, c in pairs if not e.is_floating_point()]
        self._lr_host = [g["lr"] for g in self._opt.param_groups]
        self._lr_dev = [torch.tensor(float(lr), device=dev) for lr in self._lr_host]
        self._train_step = _Graph(self._step_body)
        if not self._graphs:
            return
        self._init_optimizer_state()
        self._idx.copy_(first.view(self.accumulate, self.micro))
        self._warm_up(self._forward_backward)
        self._opt.zero_grad(set_to_none=True)
        for g, lr in zip(self._opt.param_groups, self._lr_dev):
            g["lr"] = lr                               # the graph reads the device tensor
        try:
            self._train_step.capture("training step")
        finally:
            for g, lr in zip(self._opt.param_groups, self._lr_host):
                g["lr"] = lr                           # the schedule keeps floats

    def _warm_up(self, fn) -> None:
        """Run ``fn`` twice on a side stream before a capture (cuBLAS, cuDNN and autograd set
        themselves up lazily), then put the RNG and the network's buffers (BatchNorm statistics)
        back."""
        rng = torch.get_rng_state(), torch.cuda.get_rng_state()
        buffers = [(b, b.clone()) for b in self.net.buffers()]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        for b, saved in buffers:
            b.copy_(saved)
        torch.set_rng_state(rng[0])
        torch.cuda.set_rng_state(rng[1])

    def training_step(self, idx, batch_idx):
        if self.non_finite is not None:
            return None
        if self._train_step is None:
            self._prepare_train(idx)
        self._push_lr()
        self._idx.copy_(idx.view(self.accumulate, self.micro))
        self._train_step()
        # Lightning counts manual optimizer steps through its own optimizer wrapper: counted here
        steps = self.trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
        steps.increment_ready()
        steps.increment_completed()
        if batch_idx % self.finite_check_every == 0:
            self._probe_flag()
        return None

    def _probe_flag(self) -> None:
        """The non-finite flag, read without waiting (see FitModule._probe_finite); under DDP
        every rank takes the same decision at the same step (a reduction, which waits)."""
        if self._world() > 1:
            first = self._first_bad_anywhere(True)
            if first is not None:
                self._stop_non_finite(self.current_epoch, first)
        elif self._graphs:
            landed = self._probe.landed()
            if landed is not None and landed[0][0] > 0:
                self._stop_non_finite(self.current_epoch, int(landed[0][1]))
                return
            if not self._probe.busy:
                self._probe.start(self._acc[BAD:FIRST_BAD + 1])
        elif self._acc[BAD] > 0:                       # the CPU: reading costs nothing
            self._stop_non_finite(self.current_epoch, int(self._acc[FIRST_BAD]))

    def _first_bad_anywhere(self, look: bool) -> int | None:
        """Under DDP, the step of the first non-finite loss on any rank (None: none), the same on
        every rank: a collective each rank reaches (``look``: whether this rank has anything to
        report). Each rank stops counting at its own first non-finite loss, and the ranks meet
        one (a rank's bad batch, then the NaN the all-reduce spreads) a step apart: rank 0's own
        step would not be the first."""
        if look and self._train_step is not None:
            first = torch.where(self._acc[BAD] > 0, self._acc[FIRST_BAD], math.inf)
        else:
            first = torch.full((), math.inf, dtype=torch.float64, device=self.device)
        dist.all_reduce(first, op=dist.ReduceOp.MIN)
        first = float(first)
        return None if math.isinf(first) else int(first)

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.schedule is not None and self.non_finite is None:
            self.schedule.after_batch()               # every batch is one optimizer step

    def on_validation_model_zero_grad(self) -> None:
        self._mark_train_end()                        # the graph owns the gradients: kept

    def on_validation_epoch_start(self) -> None:
        super().on_validation_epoch_start()
        if self._world() > 1:
            first = self._first_bad_anywhere(self.non_finite is None)
            if first is not None:
                self._stop_non_finite(self.current_epoch, first)
            elif self.non_finite is None:
                self._sync_from_rank0()
        elif self._train_step is not None and self.non_finite is None and bool(self._acc[BAD] > 0):
            self._stop_non_finite(self.current_epoch, int(self._acc[FIRST_BAD]))  # one read an epoch
        if self._val_step is not None:
            self._val_total.zero_()

    # --- validation -----------------------------------------------------------------------
    def _val_body(self, idx: torch.Tensor) -> None:
        *xs, y = (x.index_select(0, idx) for x in self._data("val"))
        net = self.ema.module if self.ema is not None else self.net
        with self._autocast():
            out = net(*xs)
            loss = self.loss_fn(out, y)
        self._val_total += loss.float() * y.shape[0]
        self._val_pred.index_copy_(0, idx, self._pred(out).flatten())

    def _prepare_val(self) -> None:
        dev = self.device
        n = self._data("val")[-1].shape[0]
        self._val_mine = self.val_batches.mine()         # the examples this rank's batches hold
        self._val_total = torch.zeros((), device=dev)
        self._val_pred = torch.zeros(n, dtype=torch.long, device=dev)
        self._val_idx = torch.arange(min(n, self.val_batch), device=dev)
        self._val_step = _Graph(lambda: self._val_body(self._val_idx))
        if self._graphs and len(self._val_mine) >= self.val_batch:
            self._warm_up(self._val_step.fn)
            self._val_step.capture("validation step")
            self._val_total.zero_()

    def validation_step(self, idx, batch_idx):
        if self.non_finite is not None:
            return
        if self._val_step is None:
            self._prepare_val()
        if idx.shape[0] == self.val_batch:
            self._val_idx.copy_(idx)
            self._val_step()
        else:
            self._val_body(idx)                       # the last, partial batch: eagerly

    def on_validation_epoch_end(self) -> None:
        if self.non_finite is not None or self._val_step is None:
            return
        y = self._data("val")[-1]
        mine, pred = self._val_mine, self._val_pred
        # this rank's share of the metrics (torchmetrics sums the ranks' states when computing)
        self.val_loss.update(self._val_total / len(mine), weight=len(mine))
        for m in self.val_metrics.values():
            m.update(pred[mine], y[mine].long().flatten())
        if self._world() > 1:               # every example's prediction: each written by one rank
            pred = torch.zeros_like(pred).index_copy_(0, mine, pred[mine])
            dist.all_reduce(pred)
        if self._val_host_targets is None:
            self._val_host_targets = y.long().flatten().cpu()
        self._val_out = [(pred.cpu(), self._val_host_targets)]

    def val_predictions(self) -> dict | None:
        if not self._val_out:             # (already every example's, in order: no gather)
            return None
        pred, target = (t.numpy() for t in self._val_out[0])
        return {"pred": pred, "target": target, "correct": (pred == target)}

    # --- the epoch record -----------------------------------------------------------------
    def _train_totals(self) -> torch.Tensor:
        if self._train_step is None:
            return torch.zeros(9, device=self.device)
        out = self._acc[:GRADS + 1].float()
        self._acc[:GRADS + 1].zero_()
        return out

    @property
    def train_examples(self) -> int:
        """Examples counted since the last record (up to a first non-finite loss): the recorder
        asks only after a non-finite loss, so this one read costs nothing in between."""
        return int(self._acc[N]) if self._train_step is not None else 0

    def teardown(self, stage: str) -> None:
        """Free the graphs and their memory pools now (a sweep's next run plans with free memory)."""
        self._train_step = self._val_step = None
        for name in ("_acc", "_idx", "_val_total", "_val_pred", "_val_idx", "_val_mine", "_lr_dev", "_ema_src",
                     "_ema_dst", "_ema_copy", "_params", "_opt"):
            self.__dict__.pop(name, None)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

"""train(config) -> RunResult: build the task, run Lightning, keep everything in the run store.

The resolved config is saved with the run (in the store and as ``config.yaml`` beside the
checkpoints). Under DDP the launcher re-runs the command in each child process: only rank 0
creates the run and writes; the children find the run id in FITDOCTOR_RUN_ID, and processes that
another node's launcher started get it from rank 0 once the process group is up (the recorder's
``setup``)."""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import warnings
from dataclasses import dataclass
from typing import Callable

import yaml

from ..errors import Interrupted, UsageError
from ..history.names import Monitor
from ..store import RunInfo, RunStore
from .config import RunConfig, build_config, config_dict, resolve_monitor
from .early_stopping import StopReason
from .losses import build_loss
from .signals import StopSignals, stop_signals
from .tasks import build_task

_RUN_ENV = "FITDOCTOR_RUN_ID"


@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: str
    stop_reason: str
    message: str
    epochs: int
    best_epoch: float | None
    best_value: float | None
    run_dir: str
    monitor: str
    primary: bool = True               # False in DDP child processes: they print nothing


def usable_checkpoint(paths: list[str], warn: Callable[[str], None]) -> tuple[str | None, str | None]:
    """The first checkpoint that loads (with ``weights_only=True``) and the loop that wrote it
    ("fast", "standard"; None from before fast mode existed); a truncated or damaged one is
    reported and skipped."""
    import torch

    for path in paths:
        if not os.path.exists(path):
            continue
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged file raises several types (pickle, zip, EOF)
            warn(f"checkpoint {path} cannot be loaded ({type(exc).__name__}): skipped")
            continue
        return path, (state.get("fitdoctor") or {}).get("loop", "standard")
    return None, None


def _is_child() -> bool:
    return os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("NODE_RANK", "0") != "0"


def _quiet_lightning() -> None:
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric",
                 "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*The number of training batches.*")


def train(cfg: RunConfig, *, store_path: str, out_dir: str = "runs", resume: str | None = None,
          say: Callable[[str], None] = print, warn: Callable[[str], None] = print,
          progress: bool = True, extra_callbacks: list | None = None,
          holder: dict | None = None) -> RunResult:
    """Train one run. ``extra_callbacks`` go after fitdoctor's own (a sweep's pruning);
    ``holder['recorder']`` exposes the epoch recorder to them.

    SIGINT or SIGTERM stops training at the next safe point (see ``signals``): the run is marked
    ``interrupted``, its stored epochs and last checkpoint are kept, and ``Interrupted`` is raised
    (the CLI turns it into one line and exit code 130 or 143)."""
    with stop_signals() as stop:
        result = _train(cfg, store_path=store_path, out_dir=out_dir, resume=resume, say=say, warn=warn,
                        progress=progress, extra_callbacks=extra_callbacks, holder=holder, stop=stop)
    _leave_process_group()
    return result


def _leave_process_group() -> None:
    """Under DDP every rank leaves its process group once training succeeded (not on an error:
    a rank still in a collective would hang the others). Left alive, gloo's worker threads meet
    the interpreter's shutdown and the process may abort at exit ('terminate called without an
    active exception', exit -6, after a run that finished; pytorch#190489)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def keep_patch(result: RunResult, store_path: str, changes: dict, note: str) -> str:
    """The run keeps the config patch it was trained with and where it came from (``note``):
    patch.yaml beside its checkpoints, an artifact in the store."""
    from ..report.documents import write_atomic

    path = os.path.join(result.run_dir, "patch.yaml")
    write_atomic(path, f"# {note}\n" + yaml.safe_dump(changes, sort_keys=False))
    RunStore(store_path).add_artifact(result.run_id, "patch", path)
    return path


def _check_owner(info: RunInfo, warn: Callable[[str], None]) -> None:
    """Refuse to resume a run whose process is still training it on this host."""
    if info.status != "running" or info.owner_pid is None:
        return                                   # finished, interrupted, stale, or from an old store
    if info.owner_host != socket.gethostname():
        warn(f"run {info.run_id} is marked running on host {info.owner_host} (process "
             f"{info.owner_pid}); if it still trains there, both processes write this run")
    elif info.owner_pid != os.getpid():
        raise UsageError(f"run {info.run_id} is still running (process {info.owner_pid} on this "
                         f"host). Stop it first (Ctrl+C in its terminal, or kill {info.owner_pid}), "
                         "then resume it.")


def _interruption(exc: BaseException, stop: StopSignals) -> int | None:
    """The signal behind an exception out of ``Trainer.fit``, or None for a real error."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    if isinstance(exc, SIGTERMException):
        return stop.signum or signal.SIGTERM
    # Lightning answers a KeyboardInterrupt (train() outside the main thread) with sys.exit(1)
    if isinstance(exc, KeyboardInterrupt) or (isinstance(exc, SystemExit)
                                              and isinstance(exc.__context__, KeyboardInterrupt)):
        return stop.signum or signal.SIGINT
    return None


def _resumed(store: RunStore, resume: str, warn: Callable[[str], None]):
    """(config, run id, stored epochs, checkpoint or None, the loop that wrote it) of a run to resume."""
    info = store.run(resume)
    if not _is_child():
        _check_owner(info, warn)
    cfg = build_config(info.config, where=f"run {info.run_id}")
    candidates = [info.artifacts.get("last_checkpoint"), info.artifacts.get("best_checkpoint")]
    ckpt, loop = usable_checkpoint([c for c in candidates if c], warn)
    if ckpt is None:
        warn(f"run {info.run_id} has no usable checkpoint: it starts again from epoch 0 "
             "(its stored epochs are replaced as they are redone)")
    return cfg, info.run_id, info.epochs, ckpt, loop


def _choose_loop(cfg: RunConfig, task, accelerator: str, resumed_loop: str | None,
                 run_id: str | None) -> tuple[bool, str, int]:
    """(fast mode, why not, optimizer steps per epoch); a fast run resumes only in fast mode."""
    from .fast import plan, step_examples

    t = cfg.training
    fast, why_not = plan(cfg, task, accelerator, resumed_loop)
    if resumed_loop == "fast" and not fast:
        raise UsageError(f"run {run_id} was trained in fast mode and resumes only in it, which is not "
                         f"possible here: {why_not}. Resume it on a machine where fast mode runs.")
    if fast:
        return True, "", len(task.train.dataset) // step_examples(t, task)
    return False, why_not, max(1, math.ceil(len(task.train) / t.accumulate_grad_batches))


def _outcome(module, stopper, extra_callbacks: list | None, ckpt_dir: str, epochs: int):
    """(stop reason, status, message) of a finished fit."""
    if module.non_finite is not None:
        last = os.path.join(ckpt_dir, "last.ckpt")
        return StopReason.NON_FINITE, "stopped", (
            f"non-finite loss at epoch {module.non_finite[0]}, step {module.non_finite[1]}; "
            + (f"last good checkpoint: {last}" if os.path.exists(last) else "no good checkpoint"))
    if any(getattr(cb, "pruned", False) for cb in (extra_callbacks or [])):
        return StopReason.PRUNED, "stopped", "pruned by the sweep"
    if stopper is not None and stopper.reason is not None:
        return stopper.reason, "stopped", stopper.message
    return StopReason.COMPLETED, "completed", f"ran all {epochs} epochs"


def _trainer(t, accelerator: str, fast: bool, callbacks: list, progress: bool, run_dir: str):
    import lightning as L

    strategy = "auto"
    if t.processes > 1 and fast:          # fast mode averages the gradients inside its graph
        from .fast import unwrapped_ddp
        strategy = unwrapped_ddp()
    elif t.processes > 1:                 # gradients as views of DDP's buckets: no copy back a step
        from lightning.pytorch.strategies import DDPStrategy
        strategy = DDPStrategy(gradient_as_bucket_view=True)
    _quiet_lightning()          # here, after every Lightning import: importing lightning.pytorch's
    return L.Trainer(           # modules puts their loggers back to INFO
        max_epochs=t.epochs, accelerator=accelerator, devices=t.devices, num_nodes=t.num_nodes,
        strategy=strategy, precision="32" if fast else t.precision,       # fast mode casts itself
        gradient_clip_val=None if fast else t.max_grad_norm, gradient_clip_algorithm="norm",
        accumulate_grad_batches=1 if fast else t.accumulate_grad_batches,
        callbacks=callbacks, logger=False, enable_checkpointing=False,
        enable_progress_bar=progress, enable_model_summary=False, num_sanity_val_steps=0,
        deterministic=accelerator == "cpu", default_root_dir=run_dir)


@dataclass(frozen=True)
class _Plan:
    """What one call to ``train`` runs, decided before anything is stored."""
    cfg: RunConfig
    task: object
    loss: object
    loss_info: str
    watch: Monitor
    accelerator: str
    fast: bool
    why_not: str
    resumed_id: str | None            # the run resumed; None for a new run
    stored_epochs: int
    resume_ckpt: str | None


def _train(cfg: RunConfig | None, *, store_path: str, out_dir: str, resume: str | None,
           say: Callable[[str], None], warn: Callable[[str], None], progress: bool,
           extra_callbacks: list | None, holder: dict | None, stop: StopSignals) -> RunResult:
    store = RunStore(store_path)
    plan = _plan(cfg, store, resume, warn)
    run_id = _open_run(store, plan, stop)
    if stop.signum is not None:
        raise _interrupted(store, run_id, stop.signum, plan.stored_epochs)
    run_dir, ckpt_dir = _make_run_dir(store, plan, run_id, out_dir, say)
    module = _build_module(plan, say)
    train_data, val_data = (module.train_batches, module.val_batches) if plan.fast else \
        (plan.task.train, plan.task.val)
    callbacks, recorder, stopper = _callbacks(
        plan, store, run_id, ckpt_dir, stop, say=say, warn=warn, progress=progress,
        extra_callbacks=extra_callbacks, holder=holder, train_data=train_data)
    trainer = _trainer(plan.cfg.training, plan.accelerator, plan.fast, callbacks, progress, run_dir)
    try:
        trainer.fit(module, train_data, val_data, ckpt_path=plan.resume_ckpt, weights_only=True)
    except BaseException as exc:
        signum = _interruption(exc, stop)
        if signum is None:
            raise
        # the epoch in flight is dropped (its row was never written); a resume redoes it
        raise _interrupted(store, run_id, signum, trainer.current_epoch) from None
    finally:                     # the launcher's children have read it; a later command must not
        if not _is_child():
            os.environ.pop(_RUN_ENV, None)
    return _finish(trainer, module, recorder, stopper, store=store, run_id=run_id, run_dir=run_dir,
                   ckpt_dir=ckpt_dir, plan=plan, extra_callbacks=extra_callbacks, say=say, warn=warn)


def _plan(cfg: RunConfig | None, store: RunStore, resume: str | None, warn: Callable[[str], None]) -> _Plan:
    """The config (a resumed run's own), the task, loss and monitor, the device and the loop; a
    bad schedule fails here, before a run is stored."""
    import lightning as L
    import torch

    from ..schedules import ScheduleSpec, check_schedule

    run_id, stored_epochs, resume_ckpt, resumed_loop = None, 0, None, None
    if resume is not None:
        cfg, run_id, stored_epochs, resume_ckpt, resumed_loop = _resumed(store, resume, warn)
    L.seed_everything(cfg.training.seed, workers=True, verbose=False)
    task = build_task(cfg)
    loss, loss_info = build_loss(cfg.loss, task)
    watch = resolve_monitor(cfg.training, task.metric)
    t = cfg.training
    accelerator = "cpu" if t.accelerator == "auto" and not torch.cuda.is_available() else t.accelerator
    fast, why_not, spe = _choose_loop(cfg, task, accelerator, resumed_loop, run_id)
    # the steps per epoch only size the schedule here
    check_schedule(ScheduleSpec.from_training(t, spe, monitor_mode=watch.mode), t.learning_rate, t.epochs, spe)
    return _Plan(cfg, task, loss, loss_info, watch, accelerator, fast, why_not, run_id, stored_epochs,
                 resume_ckpt)


def _open_run(store: RunStore, plan: _Plan, stop: StopSignals) -> str:
    """The run's id: a new run is created (a DDP child takes its parent's from the environment);
    a resumed one is taken over by this process."""
    if plan.resumed_id is not None:
        if not _is_child():
            store.take_over(plan.resumed_id)      # running again, owned by this process
        return plan.resumed_id
    stop.check()                                  # a signal so far: nothing stored yet
    if _is_child():      # a process another node's launcher started has no parent to ask: it
        return os.environ.get(_RUN_ENV, "")   # takes rank 0's id when the process group is up
    run_id = store.create_run(config_dict(plan.cfg), name=plan.cfg.name, monitor=plan.watch.name,
                              mode=plan.watch.mode, val_size=plan.task.val_size)
    os.environ[_RUN_ENV] = run_id
    return run_id


def _interrupted(store: RunStore, run_id: str, signum: int, epoch: int) -> Interrupted:
    """Mark the run interrupted (from rank 0) and return the exception that says so."""
    if not _is_child():
        store.update_run(run_id, status="interrupted", stop_reason=StopReason.INTERRUPTED.value)
    return Interrupted(signum, run_id, epoch, primary=not _is_child())


def _make_run_dir(store: RunStore, plan: _Plan, run_id: str, out_dir: str,
                  say: Callable[[str], None]) -> tuple[str, str]:
    """(run directory, checkpoint directory); rank 0 writes the resolved config.yaml there."""
    run_dir = os.path.join(out_dir, run_id)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    if run_id:                                    # ("" on another node: rank 0 writes)
        os.makedirs(ckpt_dir, exist_ok=True)
    if not _is_child():
        with open(os.path.join(run_dir, "config.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump(config_dict(plan.cfg), fh, sort_keys=False)
        store.add_artifact(run_id, "config", os.path.join(run_dir, "config.yaml"))
        say(f"run {run_id}: {plan.task.description}; monitor {plan.watch.name} ({plan.watch.mode}); "
            f"loss {plan.loss_info}")
    return run_dir, ckpt_dir


def _build_module(plan: _Plan, say: Callable[[str], None]):
    """The Lightning module of the chosen loop (compiled if asked); says which loop runs."""
    import torch

    from .fast import FastModule
    from .module import FitModule

    t = plan.cfg.training
    module = (FastModule if plan.fast else FitModule)(plan.task, plan.cfg, plan.loss, plan.watch)
    if plan.fast and not _is_child():
        left = module.train_batches.left_out(t.processes)
        say("fast mode: each training step is one CUDA graph, the data on the GPU"
            + (f" of each of {t.processes} processes (gradients averaged inside the graph)"
               if t.processes > 1 else "")
            + (f"; each epoch leaves out {left} of its {module.train_batches.n} shuffled training "
               "examples (a static batch shape)" if left else ""))
    elif not _is_child() and (t.fast or (t.fast is None and plan.accelerator != "cpu")):
        say(f"standard loop: {plan.why_not}")
    if t.compile:
        module.net = torch.compile(module.net)
    return module


def _callbacks(plan: _Plan, store: RunStore, run_id: str, ckpt_dir: str, stop: StopSignals, *,
               say: Callable[[str], None], warn: Callable[[str], None], progress: bool,
               extra_callbacks: list | None, holder: dict | None, train_data):
    """(callbacks, epoch recorder, early stopper or None): fitdoctor's own, then ``extra_callbacks``,
    then the progress bar."""
    from .callbacks import EpochRecorder, ForwardStopSignal, RecordEarlyStopping

    t, watch = plan.cfg.training, plan.watch
    recorder = EpochRecorder(store, run_id, watch, ckpt_dir, t.gap_warning, say, warn)
    callbacks: list = [recorder, ForwardStopSignal(stop)]
    es, stopper = t.early_stopping, None
    if es is not None:
        stopper = RecordEarlyStopping(
            recorder, warn=warn, monitor=watch.name, mode=watch.mode, patience=es.patience,
            min_delta=es.min_delta, min_delta_mode=es.min_delta_mode, smoothing=es.smoothing,
            max_gap=es.max_gap, gap_patience=es.gap_patience, restart_aware=es.restart_aware)
        callbacks.append(stopper)
    if holder is not None:
        holder["recorder"] = recorder
    callbacks += list(extra_callbacks or [])
    if progress:
        from .callbacks import EpochProgressBar
        # at most ~50 bar updates an epoch: a redraw every step costs ~70 us, as much as a small step
        callbacks.append(EpochProgressBar(refresh_rate=max(1, len(train_data) // 50), leave=False))
    return callbacks, recorder, stopper


def _finish(trainer, module, recorder, stopper, *, store: RunStore, run_id: str, run_dir: str,
            ckpt_dir: str, plan: _Plan, extra_callbacks: list | None, say: Callable[[str], None],
            warn: Callable[[str], None]) -> RunResult:
    """Store the finished fit's status (from rank 0), say why it stopped early, and the result."""
    reason, status, message = _outcome(module, stopper, extra_callbacks, ckpt_dir, plan.cfg.training.epochs)
    epochs = int(recorder.last.get("epoch", -1)) + 1 if recorder.last else 0
    best = recorder.best
    if trainer.is_global_zero:
        store.update_run(run_id, status=status, stop_reason=reason.value)
        if reason is not StopReason.COMPLETED:
            (warn if reason is StopReason.NON_FINITE else say)(f"stopped: {message}")
    return RunResult(run_id, status, reason.value, message, epochs,
                     float(best[0]) if best else None, float(best[1]) if best else None,
                     run_dir, plan.watch.name, primary=trainer.is_global_zero and not _is_child())

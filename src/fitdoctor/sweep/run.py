"""Running a sweep: the objective (train once per seed, value = mean smoothed best), pruning on
the per-epoch monitored metric, duplicates refused, and the comparison of all its runs."""

from __future__ import annotations

import copy
import os
import socket
from dataclasses import dataclass
from typing import Callable

from ..diagnosis import diagnose
from ..errors import Interrupted
from ..store import RunStore, pid_alive
from ..training.config import RunConfig, build_config, config_dict, resolve_monitor, set_key
from ..training.signals import stop_signals
from . import Dimension, all_grid_points, grid_size, make_storage, suggest


@dataclass
class SweepResult:
    study: str
    trials: int                # finished trials in the study (complete + pruned)
    ran_here: int              # trials this process ran
    run_ids: list[str]
    duplicates: int


class _Pruner:
    """A Lightning callback reporting each epoch's monitored value to the Optuna trial."""

    def __new__(cls, trial, recorder_getter):
        import lightning as L

        class PruningCallback(L.Callback):
            pruned = False

            def on_train_epoch_end(self, trainer, module):
                rec = recorder_getter()
                value = rec.get(module.monitor) if rec else None
                if value is None:
                    return
                trial.report(float(value), int(rec["epoch"]))
                if trial.should_prune():
                    self.pruned = True
                    trainer.should_stop = True
        return PruningCallback()


def _queued_point(trial) -> dict | None:
    """The point a trial (a ``FrozenTrial``) was queued with by ``enqueue_trial``; None for one the
    sampler made. Optuna has no public accessor for it: it keeps the point as the trial's system
    attribute "fixed_params". ``FrozenTrial.system_attrs`` is public; the key is Optuna's own (the
    one ``enqueue_trial(skip_if_exists=True)`` reads). Kept here, the only place that knows it."""
    return trial.system_attrs.get("fixed_params")


def _frozen(study, trial):
    """The stored (frozen) view of a trial from ``study.ask()``, through the public ``get_trials``."""
    return next(t for t in study.get_trials(deepcopy=False) if t.number == trial.number)


def _reap_dead(study, say) -> None:
    """Trials left RUNNING by a process of this host that no longer exists (killed) are marked
    failed and their point is queued again, so a rerun finishes the sweep without waiting for
    the storage's heartbeat grace period (which covers other hosts)."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = t.user_attrs.get("owner")
        if owner and owner[0] == host and owner[1] != os.getpid() and not pid_alive(int(owner[1])):
            study.tell(t.number, state=TrialState.FAIL)
            study.enqueue_trial(t.params or _queued_point(t) or {},
                                user_attrs={"retry_of": t.number})
            say(f"trial {t.number} was interrupted (process {owner[1]} is gone): queued again")


def _requeue(study, trial, why: str) -> None:
    """Mark a trial that did not finish failed and queue its point again (a rerun runs it)."""
    from optuna.trial import TrialState

    params = trial.params or _queued_point(_frozen(study, trial))
    trial.set_user_attr(why, True)
    study.tell(trial, state=TrialState.FAIL)
    if params:
        study.enqueue_trial(params, user_attrs={"retry_of": trial.number})


def run_sweep(base: RunConfig, *, dims: list[Dimension], mode_grid: bool, trials: int | None,
              seeds: int, sampler: str, prune: str | None, study_name: str, storage: str | None,
              store_path: str, out_dir: str, say: Callable[[str], None],
              on_trial: Callable[[int, int, str], None] | None = None) -> SweepResult:
    """SIGINT or SIGTERM stops the sweep at a safe point and raises ``Interrupted``: the trial in
    flight has its run marked interrupted, is failed in the study and queued again, so running
    the same command continues the sweep."""
    with stop_signals() as stop:
        return _run_sweep(base, dims=dims, mode_grid=mode_grid, trials=trials, seeds=seeds,
                          sampler=sampler, prune=prune, study_name=study_name, storage=storage,
                          store_path=store_path, out_dir=out_dir, say=say, on_trial=on_trial,
                          stop=stop)


def _run_sweep(base: RunConfig, *, dims: list[Dimension], mode_grid: bool, trials: int | None,
               seeds: int, sampler: str, prune: str | None, study_name: str, storage: str | None,
               store_path: str, out_dir: str, say: Callable[[str], None],
               on_trial: Callable[[int, int, str], None] | None, stop) -> SweepResult:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    options = _study_options(base, sampler=sampler, prune=prune)
    total = grid_size(dims) if mode_grid else trials
    store = RunStore(store_path)      # first: Optuna's tables alone would make a foreign file
    study = optuna.create_study(study_name=study_name, storage=make_storage(storage, store_path),
                                load_if_exists=True, **options)
    _reap_dead(study, say)
    if mode_grid:
        for point in all_grid_points(dims):
            study.enqueue_trial(point, skip_if_exists=True)
    job = _Job(base, dims=dims, seeds=seeds, prune=prune, study_name=study_name, store=store,
               store_path=store_path, out_dir=out_dir, say=say, on_trial=on_trial,
               total=total)
    _ask_and_run(study, job, mode_grid=mode_grid, trials=trials, stop=stop)
    done = _finished(study)
    run_ids = [r for t in done for r in t.user_attrs.get("run_ids", [])]
    return SweepResult(study_name, len(done), job.ran, run_ids, job.duplicates)


def _study_options(base: RunConfig, *, sampler: str, prune: str | None) -> dict:
    """The study's sampler, pruner and direction: that of the runs' own monitor (what training's
    best value is the best of). A grid is a queue of enqueued trials: Optuna hands each waiting
    trial to one worker."""
    import optuna

    direction = "minimize" if resolve_monitor(base.training).mode == "min" else "maximize"
    smp = optuna.samplers.TPESampler(seed=base.training.seed) if sampler == "tpe" else \
        optuna.samplers.RandomSampler(seed=base.training.seed)
    pruner = {None: optuna.pruners.NopPruner(), "median": optuna.pruners.MedianPruner(n_warmup_steps=2),
              "hyperband": optuna.pruners.HyperbandPruner(min_resource=2, max_resource=base.training.epochs)}[prune]
    return {"sampler": smp, "pruner": pruner, "direction": direction}


def _finished(study) -> list:
    """The study's finished trials (complete or pruned), less refused duplicates and strays."""
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False)
            if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
            and "duplicate_of" not in t.user_attrs and "stray" not in t.user_attrs]


def _ask_and_run(study, job: _Job, *, mode_grid: bool, trials: int | None, stop) -> None:
    """Ask for trials and run them until the grid's queue is empty or ``trials`` have finished;
    a stop signal is honoured between trials."""
    import optuna
    from optuna.trial import TrialState

    while True:
        if not mode_grid and len(_finished(study)) >= (trials or 0):
            break
        stop.check()                                   # between trials: nothing in flight
        trial = study.ask()
        if mode_grid and _queued_point(_frozen(study, trial)) is None:
            trial.set_user_attr("stray", True)         # the queue is empty: the grid is done
            study.tell(trial, state=TrialState.FAIL)
            break
        try:
            value = job.objective(study, trial)
        except optuna.TrialPruned:
            study.tell(trial, state=TrialState.PRUNED)
            continue
        except Interrupted as exc:
            _requeue(study, trial, "interrupted")
            raise Interrupted(exc.signum, exc.run_id, exc.epoch, trial=trial.number) from None
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        study.tell(trial, value)


@dataclass
class _Job:
    """What every trial of one sweep trains, and the counts of what this process ran."""
    base: RunConfig
    dims: list[Dimension]
    seeds: int
    prune: str | None
    study_name: str
    store: RunStore
    store_path: str
    out_dir: str
    say: Callable[[str], None]
    on_trial: Callable[[int, int, str], None] | None
    total: int | None
    ran: int = 0
    duplicates: int = 0

    def objective(self, study, trial) -> float:
        """Train the trial's point once per seed; its value is the mean smoothed best. A point
        another trial has, and a trial the pruner stops, raise ``TrialPruned``."""
        import optuna

        trial.set_user_attr("owner", [socket.gethostname(), os.getpid()])
        params = suggest(trial, self.dims)
        other = _duplicate_of(study, trial, params)
        if other is not None:
            self.duplicates += 1
            trial.set_user_attr("duplicate_of", other)
            raise optuna.TrialPruned()          # another worker has this point: never run twice
        data = config_dict(self.base)
        for key, value in params.items():
            set_key(data, key, value)
        values, run_ids = [], []
        for s in range(self.seeds):
            values.append(self._train_seed(trial, data, s, run_ids))
        self.ran += 1
        value = sum(values) / len(values)
        if self.on_trial:
            self.on_trial(trial.number, self.total or 0,
                          ", ".join(f"{k.split('.')[-1]}={v}" for k, v in params.items()) + f" -> {value:.4g}")
        return value

    def _train_seed(self, trial, data: dict, s: int, run_ids: list[str]) -> float:
        """Train the point with seed number ``s``; the first seed reports to the pruner."""
        import optuna

        from ..training.runner import train

        cfg_data = copy.deepcopy(data)
        set_key(cfg_data, "training.seed", self.base.training.seed + s)
        cfg_data["name"] = f"{self.study_name}-t{trial.number}" + (f"-s{s}" if self.seeds > 1 else "")
        cfg = build_config(cfg_data, where=f"trial {trial.number}")
        holder: dict = {}
        callbacks = [_Pruner(trial, lambda: holder["recorder"].last)] if (self.prune and s == 0) else []
        result = train(cfg, store_path=self.store_path, out_dir=self.out_dir, say=lambda m: None,
                       warn=self.say, progress=False, extra_callbacks=callbacks, holder=holder)
        run_ids.append(result.run_id)
        trial.set_user_attr("run_ids", run_ids)
        if callbacks and callbacks[0].pruned:
            self.ran += 1
            raise optuna.TrialPruned()
        d = diagnose(self.store.history(result.run_id))
        return d.best.expected if d.best.expected is not None else d.best.value


def _duplicate_of(study, trial, params: dict) -> int | None:
    """The number of an earlier trial, complete or running, with the same point, or None."""
    from optuna.trial import TrialState

    for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
        # a running trial may not have asked for its parameters yet: its queued point counts
        theirs = other.params or _queued_point(other)
        if other.number < trial.number and theirs == params:
            return other.number
    return None

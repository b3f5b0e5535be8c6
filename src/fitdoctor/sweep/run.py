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


def _reap_dead(study, say) -> None:
    """Trials left RUNNING by a process of this host that no longer exists (killed) are marked
    failed and their point is queued again, so a rerun finishes the sweep without waiting for
    the storage's heartbeat grace period (which covers other hosts)."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = t.user_attrs.get("owner")
        if owner and owner[0] == host and owner[1] != os.getpid() and not pid_alive(int(owner[1])):
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            fixed = study._storage.get_trial_system_attrs(t._trial_id).get("fixed_params", {})
            study.enqueue_trial(t.params or fixed,
                                user_attrs={"retry_of": t.number})
            say(f"trial {t.number} was interrupted (process {owner[1]} is gone): queued again")


def _requeue(study, trial, why: str) -> None:
    """Mark a trial that did not finish failed and queue its point again (a rerun runs it)."""
    from optuna.trial import TrialState

    params = trial.params or study._storage.get_trial_system_attrs(trial._trial_id).get("fixed_params")
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
    from optuna.trial import TrialState

    from ..training.runner import train

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # the direction of the runs' own monitor (what training's best value is the best of)
    direction = "minimize" if resolve_monitor(base.training).mode == "min" else "maximize"
    # a grid is a queue of enqueued trials: Optuna hands each waiting trial to one worker
    smp = optuna.samplers.TPESampler(seed=base.training.seed) if sampler == "tpe" else \
        optuna.samplers.RandomSampler(seed=base.training.seed)
    total = grid_size(dims) if mode_grid else trials
    pruner = {None: optuna.pruners.NopPruner(), "median": optuna.pruners.MedianPruner(n_warmup_steps=2),
              "hyperband": optuna.pruners.HyperbandPruner(min_resource=2, max_resource=base.training.epochs)}[prune]
    store = RunStore(store_path)      # first: Optuna's tables alone would make a foreign file
    study = optuna.create_study(study_name=study_name, storage=make_storage(storage, store_path),
                                sampler=smp, pruner=pruner, direction=direction, load_if_exists=True)
    ran, duplicates = 0, 0
    _reap_dead(study, say)
    if mode_grid:
        for point in all_grid_points(dims):
            study.enqueue_trial(point, skip_if_exists=True)

    def objective(trial) -> float:
        nonlocal ran, duplicates
        trial.set_user_attr("owner", [socket.gethostname(), os.getpid()])
        params = suggest(trial, dims)
        for other in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING)):
            # a running trial may not have asked for its parameters yet: its queued point counts
            theirs = other.params or study._storage.get_trial_system_attrs(other._trial_id).get("fixed_params")
            if other.number < trial.number and theirs == params:
                duplicates += 1
                trial.set_user_attr("duplicate_of", other.number)
                raise optuna.TrialPruned()          # another worker has this point: never run twice
        data = config_dict(base)
        for key, value in params.items():
            set_key(data, key, value)
        values, run_ids = [], []
        for s in range(seeds):
            cfg_data = copy.deepcopy(data)
            set_key(cfg_data, "training.seed", base.training.seed + s)
            cfg_data["name"] = f"{study_name}-t{trial.number}" + (f"-s{s}" if seeds > 1 else "")
            cfg = build_config(cfg_data, where=f"trial {trial.number}")
            holder: dict = {}
            callbacks = [_Pruner(trial, lambda: holder["recorder"].last)] if (prune and s == 0) else []
            result = train(cfg, store_path=store_path, out_dir=out_dir, say=lambda m: None,
                           warn=say, progress=False, extra_callbacks=callbacks, holder=holder)
            run_ids.append(result.run_id)
            trial.set_user_attr("run_ids", run_ids)
            if callbacks and callbacks[0].pruned:
                ran += 1
                raise optuna.TrialPruned()
            d = diagnose(store.history(result.run_id))
            values.append(d.best.expected if d.best.expected is not None else d.best.value)
        ran += 1
        value = sum(values) / len(values)
        if on_trial:
            on_trial(trial.number, total or 0, ", ".join(f"{k.split('.')[-1]}={v}" for k, v in params.items())
                     + f" -> {value:.4g}")
        return value

    def finished() -> list:
        return [t for t in study.get_trials(deepcopy=False)
                if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
                and "duplicate_of" not in t.user_attrs and "stray" not in t.user_attrs]

    while True:
        if not mode_grid and len(finished()) >= (trials or 0):
            break
        stop.check()                                   # between trials: nothing in flight
        trial = study.ask()
        if mode_grid and "fixed_params" not in study._storage.get_trial_system_attrs(trial._trial_id):
            trial.set_user_attr("stray", True)         # the queue is empty: the grid is done
            study.tell(trial, state=TrialState.FAIL)
            break
        try:
            value = objective(trial)
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
    done = finished()
    run_ids = [r for t in done for r in t.user_attrs.get("run_ids", [])]
    return SweepResult(study_name, len(done), ran, run_ids, duplicates)

"""lr-find, sweep, schedule and train: the commands that run a config's task (or preview its
schedule) and store or report what came out."""

from __future__ import annotations

import json
import os
from typing import List, Optional

import rich
import typer

from .. import lrfind
from ..errors import UsageError
from ..inputs import metric_series
from ..report.runs import interrupted_sweep, interrupted_train, swept_line
from ..store import DEFAULT_PATH as DEFAULT_STORE
from ..training.signals import stop_signals
from .common import check_lang, err_console, flag, out_console, user_errors, warn


def lr_find_cmd(
    config: str = typer.Argument(..., help="A run config (YAML) with a task."),
    min_lr: float = typer.Option(lrfind.MIN_LR, "--min-lr"),
    max_lr: float = typer.Option(lrfind.MAX_LR, "--max-lr"),
    steps: int = typer.Option(lrfind.STEPS, "--steps", help="Mini-batches in the ramp."),
    repeats: int = typer.Option(1, "--repeats", help="Repeat over other batches and seeds; report the spread."),
    as_json: bool = typer.Option(False, "--json", help="Print {schema, suggestion, suggestions, policy, refused, lr, loss, smoothed, cost_epochs}."),
    out: Optional[str] = typer.Option(None, "--out", help="Write the loss-vs-LR plot (PNG)."),
    apply: Optional[str] = typer.Option(None, "--apply", help="Write the config with the suggested LR and the --set overrides, comments and key order kept (the same path edits it in place); never a refused suggestion (exit 2)."),
    overrides: List[str] = typer.Option([], "--set", help="Override a config key: key=value."),
) -> None:
    """LR range test: suggests a learning rate in a fraction of a training run."""
    with user_errors():
        from ..lrfind.run import applied_config, find_lr
        from ..report.documents import check_target, write_atomic
        from ..training.config import load_config

        if not (0 < min_lr < max_lr):
            raise UsageError(f"need 0 < --min-lr < --max-lr, got {min_lr=} and {max_lr=}.")
        if steps < 12 or repeats < 1:                 # the rules look past the first 10 steps
            raise UsageError(f"--steps must be at least 12 and --repeats at least 1, got {steps=}, {repeats=}.")
        cfg = load_config(config, overrides)
        for target in (apply, out):
            if target:
                check_target(target)                 # before the ramp, not after it
        result = find_lr(cfg, min_lr=min_lr, max_lr=max_lr, steps=steps, repeats=repeats, flag=flag)
        if out:
            from ..report.plots import plot_lr_find
            plot_lr_find(result.curves, result.suggestions, out)
        if apply:
            write_atomic(apply, applied_config(config, overrides, cfg, result, apply))
        from ..report.lrfind import lrfind_document, render_lrfind_terminal
        if as_json:
            typer.echo(json.dumps(lrfind_document(result)))
            return
        render_lrfind_terminal(result, repeats, out_console, err_console)
        if apply:
            out_console.print(f"wrote {apply}", highlight=False)


def sweep_cmd(
    config: str = typer.Argument(..., help="The base run config (YAML)."),
    grid: List[str] = typer.Option([], "--grid", help="key=v1,v2,... (repeatable): every combination."),
    search: Optional[str] = typer.Option(None, "--search", help="tpe or random (with --trials and --space)."),
    trials: Optional[int] = typer.Option(None, "--trials", help="Trials of a search (in total, over all workers)."),
    space: List[str] = typer.Option([], "--space", help="key=log:LOW:HIGH | float:LOW:HIGH | int:LOW:HIGH | choice:A,B"),
    seeds: int = typer.Option(1, "--seeds", help="Train every trial with this many seeds."),
    prune: Optional[str] = typer.Option(None, "--prune", help="median or hyperband, on the per-epoch monitored metric."),
    overrides: List[str] = typer.Option([], "--set", help="Override a config key for every trial."),
    study: Optional[str] = typer.Option(None, "--study", help="Study name (default: from the config name)."),
    storage: Optional[str] = typer.Option(None, "--storage", help="Optuna storage: an RDB URL "
                                          "(postgresql://...) or journal:PATH (default: the run store's SQLite)."),
    worker: bool = typer.Option(False, "--worker", help="Only run trials of the shared study; no comparison."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite run store."),
    out: str = typer.Option("runs", "--out", help="Folder for checkpoints."),
    report: Optional[str] = typer.Option(None, "--report", help="Write the comparison reports here."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison document at the end."),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Run a grid or a search through the trainer (Optuna), then compare the runs."""
    named: dict = {}
    with user_errors(lambda exc: interrupted_sweep(exc, named.get("study", ""))):
        check_lang(lang)
        from ..sweep import parse_grid, parse_space
        from ..sweep.run import run_sweep
        from ..training.config import load_config

        _check_sweep(grid, search, trials, space, prune, seeds)
        base = load_config(config, overrides)
        dims = parse_grid(grid) if grid else parse_space(space)
        name = study or (base.name or os.path.splitext(os.path.basename(config))[0])
        named["study"] = name
        from ..report.progress import sweep_progress
        with sweep_progress(err_console, name, disable=as_json) as on_trial:
            result = run_sweep(base, dims=dims, mode_grid=bool(grid), trials=trials, seeds=seeds,
                               sampler=search or "grid", prune=prune, study_name=name, storage=storage,
                               store_path=store, out_dir=out, say=lambda m: err_console.print(m),
                               on_trial=on_trial)
        err_console.print(swept_line(result), highlight=False)
        if worker:
            return
        from ..report.comparison import document_for, render_for, write_comparison
        from ..sweep.compare import compare_study

        comparison, histories, diagnoses = compare_study(result.run_ids, store, dims, seeds, name)
        if report:
            write_comparison(comparison, histories, report, lang, params=[d.key for d in dims],
                             diagnoses=diagnoses)
        if as_json:
            typer.echo(json.dumps(document_for(comparison), indent=2, ensure_ascii=False))
        else:
            render_for(comparison, out_console, lang)


def _check_sweep(grid: List[str], search: Optional[str], trials: Optional[int], space: List[str],
                 prune: Optional[str], seeds: int) -> None:
    """A grid or a search, not both; a search's sampler, trials and space; the pruner; seeds."""
    if bool(grid) == bool(search):
        raise UsageError("give either --grid key=v1,v2 ... or --search tpe|random --trials N --space ...")
    if search is not None and (search not in ("tpe", "random") or not trials or not space):
        raise UsageError(f"--search must be tpe or random, with --trials N and --space; got {search=}, {trials=}.")
    if prune not in (None, "median", "hyperband"):
        raise UsageError(f"--prune must be median or hyperband, got {prune=}.")
    if seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {seeds=}.")


def schedule_cmd(
    config: str = typer.Argument(..., help="A run config (YAML); a config without a task previews too."),
    epochs: Optional[int] = typer.Option(None, "--epochs", min=1, max=100_000,
                                         help="Epochs to preview (default: training.epochs)."),
    steps_per_epoch: Optional[int] = typer.Option(None, "--steps-per-epoch", min=1, max=100_000,
                                                  help="Optimizer steps per epoch (per-batch schedules; default: "
                                                  "counted from the task's training batches, as training does)."),
    as_json: bool = typer.Option(False, "--json", help="Print {schema, lr_per_epoch[, lr_per_step]}."),
    out: Optional[str] = typer.Option(None, "--out", help="Write the LR curve as a PNG."),
    metric_file: Optional[str] = typer.Option(None, "--metric-file", help="Validation metric per epoch "
                                              "for ReduceLROnPlateau (one number per line, or a training log)."),
    overrides: List[str] = typer.Option([], "--set", help="Override a config key: key=value."),
) -> None:
    """Preview the learning rate per epoch without training, by stepping the real scheduler."""
    with user_errors():
        from ..report.schedule import plot_schedule, render_schedule_terminal
        from ..training.config import load_config
        from ..training.preview import PREVIEW_STEPS, preview_schedule, steps_per_epoch as spe_of

        cfg = load_config(config, overrides)
        t = cfg.training
        n, (spe, source) = epochs or t.epochs, spe_of(cfg, steps_per_epoch)
        if t.step_per == "batch" and n * spe > PREVIEW_STEPS:
            raise UsageError(f"--epochs {n} x --steps-per-epoch {spe} = {n * spe:,} steps to "
                             f"preview; at most {PREVIEW_STEPS:,}. Lower one of them.")
        p = preview_schedule(t, n, spe, metric_series(metric_file) if metric_file else None, source)
        if out:
            plot_schedule(p, out)
        if as_json:
            typer.echo(json.dumps(p.document()))
            return
        render_schedule_terminal(p, out_console)
        if out:
            out_console.print(f"plot: {out}", highlight=False)


def train_cmd(
    config: Optional[str] = typer.Argument(None, help="Run config (YAML). Not needed with --resume."),
    overrides: List[str] = typer.Option([], "--set", help="Override a config key: key=value (repeatable)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue a killed run from its last checkpoint."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite run store."),
    out: str = typer.Option("runs", "--out", help="Folder for checkpoints and the resolved config."),
    as_json: bool = typer.Option(False, "--json", help="Print {schema, run_id, status, stop_reason, epochs, best} at the end."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
    patch: Optional[str] = typer.Option(None, "--patch", help="Apply a config patch before training: "
                                        "a YAML/JSON file of config sections, or the JSON of "
                                        "`fitdoctor diagnose --json` (its first recommendation "
                                        "with a patch); - reads standard input. The run keeps "
                                        "the patch and where it came from."),
    pick: int = typer.Option(1, "--recommendation", min=1, help="With a diagnosis as --patch: "
                             "which recommendation (from 1)."),
) -> None:
    """Train from a YAML config; every epoch goes to the run store. Ctrl+C (SIGINT) or SIGTERM
    stops at the next batch or epoch boundary, marks the run interrupted and says how to resume."""
    with user_errors(lambda exc: interrupted_train(exc, store, out)), stop_signals():
        from ..training.config import load_config
        from ..training.runner import keep_patch, train

        if config is None and resume is None:
            raise UsageError("give a CONFIG to train, or --resume RUN_ID to continue a run.")
        cfg = load_config(config, overrides) if config else None
        origin = None
        if patch is not None:
            if cfg is None:
                raise UsageError("--patch applies to a CONFIG; a resumed run keeps its own.")
            from ..training.config import apply_patch, build_config, config_dict, read_patch
            changes, origin = read_patch(patch, pick)
            cfg = build_config(apply_patch(config_dict(cfg), changes), where=f"{config} + --patch {patch}")
        bar = progress and not as_json

        def say(m: str) -> None:
            # with the bar on, through the console its live display owns: the line lands above
            # the bar instead of being glued to it
            console = err_console if as_json else rich.get_console() if bar else out_console
            console.print(m, highlight=False, markup=False, soft_wrap=True)
        result = train(cfg, store_path=store, out_dir=out, resume=resume, say=say, warn=warn,
                       progress=bar)
        if not result.primary:
            return
        if origin is not None:
            keep_patch(result, store, changes, f"applied to {config} from {origin}")
        from ..report.runs import trained_document, trained_line
        if as_json:
            typer.echo(json.dumps(trained_document(result)))
        else:
            out_console.print(trained_line(result, store), highlight=False)

"""The command line: parse, call the library, render. A FitDoctorError becomes a one-line
message on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Callable, Iterator, List, Optional

import rich
import typer
from rich.console import Console
from rich.markup import escape

from . import __version__, lrfind
from .diagnosis import DiagnoseOptions, diagnose, to_document
from .errors import FitDoctorError, Interrupted, UsageError
from .history import FORMATS
from .i18n import LANGS
from .inputs import compare_inputs, metric_series, open_histories
from .report.runs import interrupted_sweep, interrupted_train
from .store import DEFAULT_PATH as DEFAULT_STORE
from .training.signals import stop_signals

HELP = {"help_option_names": ["-h", "--help"]}    # subcommands inherit it from the root context
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, context_settings=HELP,
                  help="fitdoctor: read training histories and tell, with statistics, whether "
                       "and when a run over- or under-fits and what to try next.")
out_console = Console()
err_console = Console(stderr=True)


# a library parameter an error names -> the option that sets it here (else --name, "_" -> "-")
FLAGS = {"fmt": "--format", "monitor": "--metric", "overrides": "--set", "pick": "--recommendation"}


def _flag(name: str) -> str:
    return FLAGS.get(name) or "--" + name.replace("_", "-")


@contextlib.contextmanager
def _user_errors(on_interrupt: Optional[Callable[[Interrupted], str]] = None) -> Iterator[None]:
    """A FitDoctorError: one line, exit 2. An interruption (SIGINT/SIGTERM, with training stopped
    at a safe point): one line from ``on_interrupt`` saying how to continue, exit 130 or 143."""
    try:
        yield
    except FitDoctorError as exc:
        # one line however narrow the terminal, and a path with brackets is not markup
        err_console.print(f"[bold red]error:[/] {escape(exc.cli_message(_flag))}", markup=True,
                          highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except Interrupted as exc:
        if exc.primary:
            typer.echo(on_interrupt(exc) if on_interrupt else f"{exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def _warn(m: str) -> None:
    err_console.print(f"[yellow]warning:[/] {m}", highlight=False, soft_wrap=True)


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, but got {lang=}.")


@app.command("diagnose")
def diagnose_cmd(
    paths: List[str] = typer.Argument(..., help="Training histories: console logs, CSV, JSON, "
                                      "trainer_state.json, TensorBoard event files, run "
                                      "directories or MLflow mlruns/; - reads standard input."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric to monitor (default: the "
                                         "validation accuracy-like metric, else validation loss)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="max or min (default: inferred from the name)."),
    val_size: Optional[int] = typer.Option(None, "--val-size", help="Validation-set size: adds the "
                                           "sampling error sqrt(p(1-p)/N) to intervals."),
    fmt: Optional[str] = typer.Option(None, "--format", help=f"Force a format: {', '.join(FORMATS)}."),
    run: Optional[str] = typer.Option(None, "--run", help="For a file holding several runs (the epoch "
                                      "counter restarts) or an MLflow directory: a run number, or 'all'."),
    as_json: bool = typer.Option(False, "--json", help="Print the diagnosis document(s) as JSON."),
    out: Optional[str] = typer.Option(None, "--out", help="Write report.md, report.html, curves.png "
                                      "and diagnosis.json into this directory."),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="Run store for run ids."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="A CI gate: exit 1 when any "
                                          "of these findings is reported (comma-separated codes, "
                                          "e.g. overfitting,no_learning,divergence); each is "
                                          "printed on stderr. Bad input still exits 2."),
) -> None:
    """Diagnose training histories: log files, run directories, or run ids from the store."""
    with _user_errors():
        _check_lang(lang)
        gate = _finding_codes(fail_on) if fail_on else set()
        histories = [h.with_options(monitor=metric, mode=mode, val_size=val_size)
                     for h in open_histories(paths, fmt, run, store)]
        results = [(h, diagnose(h, DiagnoseOptions())) for h in histories]
        if out:
            from .report import write_reports
            from .report.explore import slug, unique
            slugs = unique([slug(h.name) for h, _ in results])      # runs may share a name
            for (h, d), folder in zip(results, slugs):
                target = out if len(results) == 1 else os.path.join(out, folder)
                written = write_reports(h, d, target, lang, asset_dir=out)
                if h.format == "fitdoctor-store":            # keep the report with the run
                    from .store import RunStore
                    RunStore(store).add_artifact(h.source.rsplit("#", 1)[-1], "report", written["html"])
                if not as_json:
                    err_console.print(f"report: {written['html']}", highlight=False)
        if as_json:
            docs = [to_document(d) for _, d in results]
            typer.echo(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
        else:
            from .report import render_terminal
            for _, d in results:
                render_terminal(d, out_console, lang)
    hits = [(h, f) for h, d in results for f in d.findings if f.code in gate]
    for h, f in hits:
        err_console.print(f"fail-on {f.code}: {h.source}: {f.message}", highlight=False,
                          markup=False, soft_wrap=True)
    if hits:
        raise typer.Exit(1)


def _finding_codes(text: str) -> set[str]:
    """--fail-on's codes, each one a finding fitdoctor reports."""
    from .i18n import MESSAGES

    known = {key.split(".", 1)[0] for key in MESSAGES} - {"budget", "config", "note"}   # not findings
    codes = {c.strip() for c in text.split(",") if c.strip()}
    unknown = sorted(codes - known)
    if unknown or not codes:
        raise UsageError(f"--fail-on: unknown finding code(s) {', '.join(unknown) or '(none given)'}; "
                         f"known: {', '.join(sorted(known))}.")
    return codes


@app.command("compare")
def compare_cmd(
    items: List[str] = typer.Argument(..., help="Run ids from the store, or training logs (two or more)."),
    val_size: Optional[int] = typer.Option(None, "--val-size", help="Validation-set size, for the "
                                           "two-proportion test when no per-example predictions are stored."),
    metric: Optional[str] = typer.Option(None, "--metric", help="Metric to compare (default: each run's monitor)."),
    fmt: Optional[str] = typer.Option(None, "--format", help=f"Force a log format: {', '.join(FORMATS)}."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison document."),
    out: Optional[str] = typer.Option(None, "--out", help="Write comparison.md/.html/.json/.png here."),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="Run store for run ids."),
    group: Optional[str] = typer.Option(None, "--group", help="Compare configurations, not runs: "
                                        "a regular expression searched in each run's NAME as the "
                                        "table shows it (a file's name with its extension, e.g. "
                                        "healthy-s0.csv; a stored run's name; FILE#k for the k-th "
                                        "run of a file holding several). The text its first capture "
                                        "group matches names the configuration; the runs that share "
                                        r"it are its seeds. Example: --group '(.*)-s\d+'. Adds the "
                                        "seeds and validation size a pair would need."),
) -> None:
    """Which differences between runs are real: ranked table, pairwise tests, Holm correction."""
    with _user_errors():
        _check_lang(lang)
        from .diagnosis.comparison import compare
        from .diagnosis.configs import compare_configs
        from .report.comparison import document_for, render_for, write_comparison

        inputs, histories = compare_inputs(items, store, fmt, metric, val_size)
        if len(inputs) < 2:
            raise UsageError(f"compare needs two or more runs; got {len(inputs)}.")
        result = compare_configs(inputs, group) if group is not None else compare(inputs, val_size=val_size)
        if out:
            written = write_comparison(result, histories, out, lang,
                                       diagnoses={i.name: i.diagnosis for i in inputs})
            if not as_json:
                err_console.print(f"report: {written['html']}", highlight=False)
        if as_json:
            typer.echo(json.dumps(document_for(result), indent=2, ensure_ascii=False))
        else:
            render_for(result, out_console, lang)


@app.command("report")
def report_cmd(store: str = typer.Option(DEFAULT_STORE, "--store", help="The run store to list."),
               out: str = typer.Option(..., "--out", help="Folder for index.html and each run's report."),
               lang: str = typer.Option("en", "--lang", help="Report language: en or zh.")) -> None:
    """An index page of every stored run (status, verdict, best with its interval), each linked
    to its own interactive report."""
    with _user_errors():
        _check_lang(lang)
        from .report.index import write_store_index
        out_console.print(f"report: {write_store_index(store, out, lang)}", highlight=False, soft_wrap=True)


@app.command("lr-find")
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
    with _user_errors():
        from .lrfind.run import applied_config, find_lr
        from .report.documents import check_target, write_atomic
        from .training.config import load_config

        if not (0 < min_lr < max_lr):
            raise UsageError(f"need 0 < --min-lr < --max-lr, got {min_lr=} and {max_lr=}.")
        if steps < 12 or repeats < 1:                 # the rules look past the first 10 steps
            raise UsageError(f"--steps must be at least 12 and --repeats at least 1, got {steps=}, {repeats=}.")
        cfg = load_config(config, overrides)
        for target in (apply, out):
            if target:
                check_target(target)                 # before the ramp, not after it
        result = find_lr(cfg, min_lr=min_lr, max_lr=max_lr, steps=steps, repeats=repeats, flag=_flag)
        if out:
            from .report.plots import plot_lr_find
            plot_lr_find(result.curves, result.suggestions, out)
        if apply:
            write_atomic(apply, applied_config(config, overrides, cfg, result, apply))
        from .report.lrfind import lrfind_document, render_lrfind_terminal
        if as_json:
            typer.echo(json.dumps(lrfind_document(result)))
            return
        render_lrfind_terminal(result, repeats, out_console, err_console)
        if apply:
            out_console.print(f"wrote {apply}", highlight=False)


@app.command("sweep")
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
    with _user_errors(lambda exc: interrupted_sweep(exc, named.get("study", ""))):
        _check_lang(lang)
        from .sweep import parse_grid, parse_space
        from .sweep.run import run_sweep
        from .training.config import load_config

        if bool(grid) == bool(search):
            raise UsageError("give either --grid key=v1,v2 ... or --search tpe|random --trials N --space ...")
        if search is not None and (search not in ("tpe", "random") or not trials or not space):
            raise UsageError(f"--search must be tpe or random, with --trials N and --space; got {search=}, {trials=}.")
        if prune not in (None, "median", "hyperband"):
            raise UsageError(f"--prune must be median or hyperband, got {prune=}.")
        if seeds < 1:
            raise UsageError(f"--seeds must be at least 1, got {seeds=}.")
        base = load_config(config, overrides)
        dims = parse_grid(grid) if grid else parse_space(space)
        name = study or (base.name or os.path.splitext(os.path.basename(config))[0])
        named["study"] = name
        from .report.progress import sweep_progress
        with sweep_progress(err_console, name, disable=as_json) as on_trial:
            result = run_sweep(base, dims=dims, mode_grid=bool(grid), trials=trials, seeds=seeds,
                               sampler=search or "grid", prune=prune, study_name=name, storage=storage,
                               store_path=store, out_dir=out, say=lambda m: err_console.print(m),
                               on_trial=on_trial)
        err_console.print(f"study {name}: {result.trials} trials finished ({result.ran_here} here"
                          + (f", {result.duplicates} duplicate point(s) refused" if result.duplicates else "")
                          + ")", highlight=False)
        if worker:
            return
        from .report.comparison import document_for, render_for, write_comparison
        from .sweep.compare import compare_study

        comparison, histories, diagnoses = compare_study(result.run_ids, store, dims, seeds, name)
        if report:
            write_comparison(comparison, histories, report, lang, params=[d.key for d in dims],
                             diagnoses=diagnoses)
        if as_json:
            typer.echo(json.dumps(document_for(comparison), indent=2, ensure_ascii=False))
        else:
            render_for(comparison, out_console, lang)


@app.command("schedule")
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
    with _user_errors():
        from .report.schedule import plot_schedule, render_schedule_terminal
        from .training.config import load_config
        from .training.preview import PREVIEW_STEPS, preview_schedule, steps_per_epoch as spe_of

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


@app.command("train")
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
    with _user_errors(lambda exc: interrupted_train(exc, store, out)), stop_signals():
        from .training.config import load_config
        from .training.runner import keep_patch, train

        if config is None and resume is None:
            raise UsageError("give a CONFIG to train, or --resume RUN_ID to continue a run.")
        cfg = load_config(config, overrides) if config else None
        origin = None
        if patch is not None:
            if cfg is None:
                raise UsageError("--patch applies to a CONFIG; a resumed run keeps its own.")
            from .training.config import apply_patch, build_config, config_dict, read_patch
            changes, origin = read_patch(patch, pick)
            cfg = build_config(apply_patch(config_dict(cfg), changes), where=f"{config} + --patch {patch}")
        bar = progress and not as_json

        def say(m: str) -> None:
            # with the bar on, through the console its live display owns: the line lands above
            # the bar instead of being glued to it
            console = err_console if as_json else rich.get_console() if bar else out_console
            console.print(m, highlight=False, markup=False, soft_wrap=True)
        result = train(cfg, store_path=store, out_dir=out, resume=resume, say=say, warn=_warn,
                       progress=bar)
        if not result.primary:
            return
        if origin is not None:
            keep_patch(result, store, changes, f"applied to {config} from {origin}")
        from .report.runs import trained_document, trained_line
        if as_json:
            typer.echo(json.dumps(trained_document(result)))
        else:
            out_console.print(trained_line(result, store), highlight=False)


@app.command("watch")
def watch_cmd(
    target: str = typer.Argument(..., help="A growing log file or run directory, or a run id (with --store)."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="Run store for run ids."),
    interval: float = typer.Option(2.0, "--interval", min=0.05, help="Seconds between looks."),
    until: Optional[str] = typer.Option(None, "--until", help="done: stop when a stored run stops "
                                        "running, or a file has not changed for --idle seconds; "
                                        "finding: stop (exit 1) at the first warning or critical "
                                        "finding. Default: until Ctrl+C."),
    idle: float = typer.Option(60.0, "--idle", min=0.0, help="With --until done on a file: seconds "
                               "without a change that mean the run is over."),
    on_finding: Optional[str] = typer.Option(None, "--on-finding", help="A shell command run for "
                                             "each new warning or critical finding, with it as JSON "
                                             "on stdin (your notifier: mail, a chat CLI, ntfy...)."),
) -> None:
    """Follow a run as it trains: re-diagnose when a new epoch lands, print a line when the verdict
    changes, run --on-finding for each new finding. Survives log rotation and truncation."""
    from .watch import watch

    with _user_errors():
        try:
            code = watch(target, store=store, interval=interval, until=until, on_finding=on_finding,
                         idle=idle, say=lambda m: out_console.print(m, highlight=False, markup=False,
                                                                    soft_wrap=True))
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    raise typer.Exit(code)


runs_app = typer.Typer(help="List, show and export stored runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list(store: str = typer.Option(DEFAULT_STORE, "--store"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """All runs in the store."""
    with _user_errors():
        from .store import RunStore

        if not os.path.exists(store):
            raise UsageError(f"--store {store}: no such run store yet; `fitdoctor train` creates it.")
        from .report.runs import render_runs_table, runs_document

        rows = RunStore(store, create=False).list_runs()
        if as_json:
            typer.echo(json.dumps(runs_document(rows)))
            return
        render_runs_table(rows, out_console, store)


@runs_app.command("show")
def runs_show(run: str, store: str = typer.Option(DEFAULT_STORE, "--store"),
              as_json: bool = typer.Option(False, "--json", help="Print {schema, run..., epochs: "
                                           "[...]} as JSON.")) -> None:
    """One run: status, config, artifacts and its epochs."""
    with _user_errors():
        from .store import RunStore

        s = RunStore(store, create=False)
        info = s.run(run)
        if as_json:
            epochs = json.loads(s.export_text(info["run_id"], "json"))
            typer.echo(json.dumps({"schema": "fitdoctor.run-info/1", **info, "epochs": epochs},
                                  indent=1, default=str))
            return
        from .report.runs import render_run
        render_run(info, s.epochs(info["run_id"]), out_console, store)


@runs_app.command("export")
def runs_export(run: str, fmt: str = typer.Option("csv", "--format", help="csv, json or tensorboard"),
                store: str = typer.Option(DEFAULT_STORE, "--store"),
                out: Optional[str] = typer.Option(None, "--out", help="File to write (default: stdout).")) -> None:
    """A run's per-epoch table as CSV, JSON or TensorBoard event files (diagnose reads all back)."""
    with _user_errors():
        from .store import RunStore

        if fmt not in ("csv", "json", "tensorboard"):
            raise UsageError(f"--format must be csv, json or tensorboard, got {fmt=}.")
        runs = RunStore(store, create=False)
        if fmt == "tensorboard":
            if not out:
                raise UsageError("--format tensorboard writes event files: give --out DIR.")
            runs.export_tensorboard(run, out)
            out_console.print(f"wrote TensorBoard events to {out}", highlight=False)
            return
        text = runs.export_text(run, fmt)
        if out:
            from .report.documents import write_atomic
            write_atomic(out, text)
        else:
            typer.echo(text)


@app.command("demo")
def demo_cmd(
    out: str = typer.Option("fitdoctor-demo", "--out", help="Where the store, runs and reports go."),
    lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    config: Optional[str] = typer.Option(None, "--config", help="Start from this config instead of "
                                         "the bundled one (MiniLM on Rotten Tomatoes)."),
) -> None:
    """Train an overfitting run on real data, diagnose it, run the top recommendation, compare."""
    with _user_errors():
        _check_lang(lang)
        from .demo import run_demo

        say = lambda m: out_console.print(m, highlight=False, markup=False, soft_wrap=True)  # noqa: E731
        index = run_demo(out, lang=lang, say=say, warn=_warn, progress=progress, config=config)
        out_console.print(f"report: {os.path.abspath(index)}", highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fitdoctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    pass


def main() -> None:
    app(prog_name="fitdoctor")

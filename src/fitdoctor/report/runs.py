"""Stored runs rendered: the runs list, one run's summary, a finished training run's or sweep's
line and --json documents."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from ..store import RunInfo


def resume_command(run_id: str, store: str) -> str:
    return f"fitdoctor train --resume {run_id} --store {shlex.quote(store)}"


def render_runs_table(rows: list[dict[str, Any]], console: Console, store: str) -> None:
    from rich.table import Table

    t = Table(show_edge=False)
    for col in ("run_id", "name", "status", "stop", "epochs", "best (epoch)"):
        t.add_column(col)
    for r in rows:
        best = f"{r['best_value']:.4g} ({r['best_epoch']:g})" if r["best_value"] is not None else "-"
        t.add_row(r["run_id"], r["name"] or "", r["status"], r["stop_reason"] or "", str(r["epochs"]), best)
    console.print(t)
    if any(r["status"] == "stale" for r in rows):
        console.print(f"stale: marked running, but its process is gone (killed); resume it with "
                      f"{resume_command('RUN_ID', store)}", highlight=False, soft_wrap=True)


def runs_document(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in ("run_id", "name", "status", "epochs")} for r in rows]


def render_run(info: RunInfo, epochs, console: Console, store: str) -> None:
    """``runs show``: status (with how to resume), config, artifacts, the per-epoch table."""
    import yaml

    status = info.status
    resume = resume_command(info.run_id, store)
    if status == "stale":
        status = f"stale (marked running, but process {info.owner_pid} is gone; resume with {resume})"
    elif status == "interrupted":
        status = f"interrupted (resume with {resume})"
    elif status == "running" and info.owner_pid is not None:
        status = f"running (process {info.owner_pid} on {info.owner_host})"
    console.print(f"run {info.run_id} ({info.name}): {status}, stop: "
                  f"{info.stop_reason}, {info.epochs} epochs, monitor {info.monitor} "
                  f"({info.mode}), validation size {info.val_size}", highlight=False,
                  markup=False, soft_wrap=True)
    console.print(yaml.safe_dump(info.config, sort_keys=False).rstrip(), highlight=False, markup=False)
    for kind, path in sorted(info.artifacts.items()):
        console.print(f"{kind}: {path}", highlight=False)
    console.print(epochs.to_string(index=False), highlight=False, markup=False)


def run_info_document(info: dict[str, Any], epochs: list[dict[str, Any]]) -> dict[str, Any]:
    """runs show --json (schema fitdoctor.run-info/1): the run's summary and its epochs."""
    return {"schema": "fitdoctor.run-info/1", **info, "epochs": epochs}


def trained_document(result) -> dict[str, Any]:
    """train --json (schema fitdoctor.run/1)."""
    return {"schema": "fitdoctor.run/1", "run_id": result.run_id, "status": result.status,
            "stop_reason": result.stop_reason, "epochs": result.epochs,
            "best": {"epoch": result.best_epoch, "value": result.best_value}}


def trained_line(result, store: str) -> str:
    best = f"best {result.monitor} {result.best_value:.4g} at epoch {result.best_epoch:g}" \
        if result.best_value is not None else "no finite epoch"
    return (f"run {result.run_id}: {result.status} ({result.message}); {best}. "
            f"Diagnose it: fitdoctor diagnose {result.run_id} --store {store}")


def interrupted_train(exc, store: str, out: str) -> str:
    """What train says when a signal stopped it: how to resume (``exc``: errors.Interrupted)."""
    if exc.run_id is None:
        return f"interrupted by {exc.signal_name} before the run was stored: nothing to resume"
    return (f"interrupted at epoch {exc.epoch} by {exc.signal_name}: resume with "
            f"{resume_command(exc.run_id, store)}" + (f" --out {shlex.quote(out)}" if out != "runs" else ""))


def swept_line(result) -> str:
    """What sweep says when its trials are done (``result``: sweep.run.SweepResult)."""
    return (f"study {result.study}: {result.trials} trials finished ({result.ran_here} here"
            + (f", {result.duplicates} duplicate point(s) refused" if result.duplicates else "") + ")")


def interrupted_sweep(exc, study: str) -> str:
    where = "between trials" if exc.trial is None else (
        f"in trial {exc.trial}" + (f" (run {exc.run_id} marked interrupted)" if exc.run_id else "")
        + ", which is queued again")
    return (f"sweep {study} interrupted by {exc.signal_name} {where}: run the same fitdoctor sweep "
            "command again to continue (finished trials are kept)")

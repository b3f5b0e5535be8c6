"""runs list, show and export: the run store, read-only."""

from __future__ import annotations

import json
import os
from typing import Optional

import typer

from ..errors import UsageError
from ..store import DEFAULT_PATH as DEFAULT_STORE
from .common import out_console, user_errors


def runs_list(store: str = typer.Option(DEFAULT_STORE, "--store"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """All runs in the store."""
    with user_errors():
        from ..store import RunStore

        if not os.path.exists(store):
            raise UsageError(f"--store {store}: no such run store yet; `fitdoctor train` creates it.")
        from ..report.runs import render_runs_table, runs_document

        rows = RunStore(store, create=False).list_runs()
        if as_json:
            typer.echo(json.dumps(runs_document(rows)))
            return
        render_runs_table(rows, out_console, store)


def runs_show(run: str, store: str = typer.Option(DEFAULT_STORE, "--store"),
              as_json: bool = typer.Option(False, "--json", help="Print {schema, run..., epochs: "
                                           "[...]} as JSON.")) -> None:
    """One run: status, config, artifacts and its epochs."""
    with user_errors():
        from ..store import RunStore

        s = RunStore(store, create=False)
        info = s.run(run)
        if as_json:
            from ..report.runs import run_info_document
            epochs = json.loads(s.export_text(info.run_id, "json"))
            typer.echo(json.dumps(run_info_document(info.to_dict(), epochs), indent=1, default=str))
            return
        from ..report.runs import render_run
        render_run(info, s.epochs(info.run_id), out_console, store)


def runs_export(run: str, fmt: str = typer.Option("csv", "--format", help="csv, json or tensorboard"),
                store: str = typer.Option(DEFAULT_STORE, "--store"),
                out: Optional[str] = typer.Option(None, "--out", help="File to write (default: stdout).")) -> None:
    """A run's per-epoch table as CSV, JSON or TensorBoard event files (diagnose reads all back)."""
    with user_errors():
        from ..store import RunStore

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
            from ..report.documents import write_atomic
            write_atomic(out, text)
        else:
            typer.echo(text)

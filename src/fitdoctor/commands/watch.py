"""watch: follow a run as it trains."""

from __future__ import annotations

from typing import Optional

import typer

from ..store import DEFAULT_PATH as DEFAULT_STORE
from .common import say, user_errors


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
    from ..watch import watch

    with user_errors():
        try:
            code = watch(target, store=store, interval=interval, until=until, on_finding=on_finding,
                         idle=idle, say=say)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
    raise typer.Exit(code)

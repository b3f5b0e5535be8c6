"""Progress shown while a command works: a sweep's trials."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console


@contextlib.contextmanager
def sweep_progress(console: Console, study: str, disable: bool) -> Iterator[Callable[[int, int, str], None]]:
    """A bar of finished trials; yields the ``on_trial(number, total, text)`` that advances it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]sweep {task.fields[study]}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.fields[last]}"), console=console,
                  disable=disable) as bar:
        task = bar.add_task("trials", total=None, study=study, last="")

        def on_trial(number, total, text):
            bar.update(task, advance=1, total=total or None, last=f"trial {number}: {text}")
        yield on_trial

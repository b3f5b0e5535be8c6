"""What every command shares: the two consoles, the error handler (a FitDoctorError becomes a
one-line message on stderr and exit code 2, never a traceback), warnings and option checks."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import FitDoctorError, Interrupted, UsageError
from ..i18n import LANGS

out_console = Console()
err_console = Console(stderr=True)


# a library parameter an error names -> the option that sets it here (else --name, "_" -> "-")
FLAGS = {"fmt": "--format", "monitor": "--metric", "overrides": "--set", "pick": "--recommendation"}


def flag(name: str) -> str:
    return FLAGS.get(name) or "--" + name.replace("_", "-")


@contextlib.contextmanager
def user_errors(on_interrupt: Optional[Callable[[Interrupted], str]] = None) -> Iterator[None]:
    """A FitDoctorError: one line, exit 2. An interruption (SIGINT/SIGTERM, with training stopped
    at a safe point): one line from ``on_interrupt`` saying how to continue, exit 130 or 143."""
    try:
        yield
    except FitDoctorError as exc:
        # one line however narrow the terminal, and a path with brackets is not markup
        err_console.print(f"[bold red]error:[/] {escape(exc.cli_message(flag))}", markup=True,
                          highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except Interrupted as exc:
        if exc.primary:
            typer.echo(on_interrupt(exc) if on_interrupt else f"{exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def say(m: str) -> None:
    """A line of news on stdout (a step of the demo, a change seen by watch), as it is: no markup,
    no highlighting, never wrapped."""
    out_console.print(m, highlight=False, markup=False, soft_wrap=True)


def warn(m: str) -> None:
    err_console.print(f"[yellow]warning:[/] {m}", highlight=False, soft_wrap=True)


def check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, but got {lang=}.")

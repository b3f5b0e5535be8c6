"""Errors a person can act on. The CLI prints them in a line or two and exits with code 2."""

from __future__ import annotations

import re
from typing import Callable

_ARG = re.compile("\x1e([^\x1e\x1f]*)\x1f([^\x1e\x1f]*)\x1f([^\x1e\x1f]*)\x1f([^\x1e\x1f]*)\x1e")


def arg(name: str, value: object = "", *, lib: str | None = None) -> str:
    """A parameter named in an error message, worded for whoever reads it: ``name=value`` (or
    ``lib``) for a caller of the library, who sees ``str(error)``; ``--flag value`` on the command
    line, which maps ``name`` to its flag (:meth:`FitDoctorError.cli_message`)."""
    value = str(value)
    return f"\x1e{lib if lib is not None else f'{name}={value}' if value else name}\x1f{name}\x1f{value}\x1f\x1e"


def either(lib: str, cli: str) -> str:
    """A phrase of an error message that differs between the library (``lib``) and the command
    line (``cli``): a command to run, a way to pick among runs."""
    return f"\x1e{lib}\x1f\x1f\x1f{cli}\x1e"


def render(text: str, flag: Callable[[str], str] | None = None) -> str:
    """``text`` with each :func:`arg` and :func:`either` in the library's words, or with
    ``flag(name)`` for each parameter (the command line's words)."""
    if flag is None:
        return _ARG.sub(lambda m: m[1], text)
    return _ARG.sub(lambda m: m[4] or flag(m[2]) + (f" {m[3]}" if m[3] else ""), text)


class FitDoctorError(Exception):
    """Base class for every user-facing error: the message says where, what, and what to do.
    ``str(error)`` names the library's parameters (``run=N``); :meth:`cli_message` the flags of
    the command line (``--run N``)."""

    exit_code = 2

    def __str__(self) -> str:
        return render(super().__str__())

    def cli_message(self, flag: Callable[[str], str]) -> str:
        """The message for the command line: each parameter as ``flag(name)``, with its value."""
        return render(super().__str__(), flag)


class LogFormatError(FitDoctorError):
    """A training history could not be read: names the file, what was expected, what was seen."""


class UsageError(FitDoctorError):
    """A command-line option or argument, or an argument of a library call, has a value fitdoctor
    cannot use: names it, what it is, and what to give instead."""


class ConfigError(FitDoctorError):
    """A config file or a ``--set`` override is invalid: names the key, the value, the valid choices."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training at a safe point (a batch or epoch boundary): the stored
    epochs and the last checkpoint are kept, the run is marked ``interrupted``. ``exit_code`` is
    128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports a killed process.
    ``run_id`` is None when the signal came before a run was stored; ``epoch`` is the epoch a
    resume starts from; ``trial`` the sweep trial it stopped (None outside a sweep or between
    trials); ``primary`` is False in DDP child processes (they print nothing). A KeyboardInterrupt,
    so that ``except Exception`` does not swallow it."""

    def __init__(self, signum: int, run_id: str | None = None, epoch: int = 0, *,
                 trial: int | None = None, primary: bool = True):
        import signal

        self.signum, self.run_id, self.epoch = int(signum), run_id, int(epoch)
        self.trial, self.primary = trial, primary
        self.signal_name = signal.Signals(self.signum).name
        self.exit_code = 128 + self.signum
        where = f"run {run_id} interrupted at epoch {epoch}" if run_id else \
            "interrupted before a run was stored"
        super().__init__(f"{where} ({self.signal_name})")

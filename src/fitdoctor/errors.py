"""Errors a person can act on. The CLI prints them in a line or two and exits with code 2."""

from __future__ import annotations


class FitDoctorError(Exception):
    """Base class for every user-facing error: the message says where, what, and what to do."""

    exit_code = 2


class LogFormatError(FitDoctorError):
    """A training history could not be read: names the file, what was expected, what was seen."""


class UsageError(FitDoctorError):
    """A command-line option or argument, or an argument of a library call, has a value fitdoctor
    cannot use: names it, what it is, and what to give instead."""


class ConfigError(FitDoctorError):
    """A config file or a --set override is invalid: names the key, the value, the valid choices."""


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

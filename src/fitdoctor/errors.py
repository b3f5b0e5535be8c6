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

"""fitdoctor: reads training histories and tells, with statistics, whether and when a run
over- or under-fits, whether its best epoch is real or noise, and what to try next."""

__version__ = "0.1.0"

from .diagnosis import DiagnoseOptions, Diagnosis, diagnose  # noqa: E402
from .errors import FitDoctorError, LogFormatError  # noqa: E402
from .history import History, read_histories, read_history  # noqa: E402


def __getattr__(name: str):
    """``track``, ``Run`` and ``build_scheduler`` load on first use (the last needs torch)."""
    if name == "build_scheduler":
        from .integrations.scheduler import build_scheduler
        return build_scheduler
    if name in ("track", "Run"):
        import importlib
        return getattr(importlib.import_module("fitdoctor.integrations.track"), name)
    raise AttributeError(f"module 'fitdoctor' has no attribute {name!r}")

__all__ = ["DiagnoseOptions", "Diagnosis", "FitDoctorError", "History", "LogFormatError", "Run",
           "__version__", "build_scheduler", "diagnose", "read_histories", "read_history", "track"]

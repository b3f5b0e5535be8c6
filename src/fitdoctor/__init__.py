"""fitdoctor: reads training histories and tells, with statistics, whether and when a run
over- or under-fits, whether its best epoch is real or noise, and what to try next."""

__version__ = "0.1.0"

from .diagnosis import DiagnoseOptions, Diagnosis, diagnose  # noqa: E402
from .errors import FitDoctorError, LogFormatError  # noqa: E402
from .history import History, read_histories, read_history  # noqa: E402

__all__ = ["DiagnoseOptions", "Diagnosis", "FitDoctorError", "History", "LogFormatError",
           "__version__", "diagnose", "read_histories", "read_history"]

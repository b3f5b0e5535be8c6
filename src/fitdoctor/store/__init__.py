"""The run store: runs, per-epoch metrics, artifacts and predictions in one SQLite file (runstore.py)."""

from .runstore import (
    SCHEMA_VERSION, DEFAULT_PATH, STALE, StoreError, pid_alive, this_process, APPLICATION_ID,
    RunInfo, RunStore)

__all__ = [
    "SCHEMA_VERSION", "DEFAULT_PATH", "STALE", "StoreError", "pid_alive", "this_process",
    "APPLICATION_ID", "RunInfo", "RunStore"]

"""Optuna's storage for a sweep: the run store's SQLite file by default, an RDB URL or
journal:PATH; one that cannot be opened is a UsageError naming it and why."""

from __future__ import annotations

import os

from ..errors import UsageError, arg


def make_storage(storage: str | None, store_path: str):
    """Optuna's storage for ``--storage`` (an RDB URL or journal:PATH; default the run store).
    One that cannot be opened is a UsageError naming it and why."""
    try:
        return _open_storage(storage, store_path)
    except UsageError:
        raise
    except Exception as exc:          # an unknown dialect, a missing driver or directory, ...
        raise UsageError(f"{arg('storage', storage or store_path)}: cannot open it ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else exc!r}). Give sqlite:///PATH, "
                         "journal:PATH or a database URL whose driver is installed.") from None


def _need_directory(storage: str, path: str) -> None:
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise UsageError(f"{arg('storage', storage)}: the directory of {path} does not exist.")


def _open_storage(storage: str | None, store_path: str):
    import optuna

    if storage is None:
        storage = f"sqlite:///{store_path}"
    if storage.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend
        path = storage[len("journal:"):]
        _need_directory(storage, path)
        return JournalStorage(JournalFileBackend(path))
    if storage.startswith("sqlite:///") and storage[len("sqlite:///"):] not in ("", ":memory:"):
        _need_directory(storage, storage[len("sqlite:///"):])
    import time

    import sqlalchemy.exc

    for attempt in range(8):          # workers starting together race to create the schema
        try:
            return optuna.storages.RDBStorage(
                storage, engine_kwargs={"connect_args": {"timeout": 60}} if storage.startswith("sqlite") else None)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
            if attempt == 7:
                raise
            time.sleep(0.5 * (attempt + 1))

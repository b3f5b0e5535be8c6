"""RunStore: runs, per-epoch metrics, artifacts and per-example predictions in one SQLite file
(WAL mode, one transaction per write, so a killed run loses at most the epoch in flight).
Re-logging an epoch replaces it: a resumed run never duplicates epochs.

A run records the process that owns it (host, pid and the pid's start time). A run still marked
``running`` whose owner is gone from this host (killed with SIGKILL, or crashed)
is read back with status ``stale``; it resumes like an interrupted one."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import secrets
import socket
import sqlite3
import time
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..errors import FitDoctorError, UsageError, arg, either

SCHEMA_VERSION = 2          # 2: runs.owner_host, owner_pid, owner_start (version 1 is migrated)
DEFAULT_PATH = "fitdoctor.db"
STALE = "stale"
_OWNER_COLUMNS = (("owner_host", "TEXT"), ("owner_pid", "INTEGER"), ("owner_start", "INTEGER"))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, stop_reason TEXT,
    config TEXT NOT NULL, monitor TEXT, mode TEXT, val_size INTEGER,
    best_epoch REAL, best_value REAL, created REAL NOT NULL, updated REAL NOT NULL,
    owner_host TEXT, owner_pid INTEGER, owner_start INTEGER);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs(run_id), epoch INTEGER NOT NULL, metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch));
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL REFERENCES runs(run_id), kind TEXT NOT NULL, path TEXT NOT NULL,
    epoch INTEGER, created REAL NOT NULL, PRIMARY KEY (run_id, kind));
CREATE TABLE IF NOT EXISTS predictions (
    run_id TEXT NOT NULL REFERENCES runs(run_id), which TEXT NOT NULL, epoch INTEGER NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (run_id, which));
"""


class StoreError(FitDoctorError):
    """The run store cannot be used as asked: names the file and the fix."""


def _start_time(pid: int) -> int | None:
    """When the process started (clock ticks since boot, Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int, start: int | None = None) -> bool:
    """Whether process ``pid`` of this host exists (and, given ``start``, is the same process)."""
    if pid <= 0:
        return False                                  # 0 and -N would name process groups
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass                                          # someone else's process: it exists
    except OverflowError:
        return False
    if start is not None:
        now = _start_time(pid)
        return now is None or now == start
    return True


def this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"owner_host": socket.gethostname(), "owner_pid": pid, "owner_start": _start_time(pid)}


def _with_liveness(row: dict[str, Any]) -> dict[str, Any]:
    """``status`` becomes ``stale`` for a running run whose owner is gone from this host."""
    if row["status"] == "running" and row.get("owner_pid") is not None \
            and row.get("owner_host") == socket.gethostname() \
            and not pid_alive(int(row["owner_pid"]), row.get("owner_start")):
        row["status"] = STALE
    return row


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """One stored run (``RunStore.run``): its row of the runs table, its number of epochs and
    its artifacts ({kind: path}). The fields in the order ``runs show --json`` writes them."""

    run_id: str
    name: str | None
    status: str                            # running, completed, stopped, failed, ... or stale
    stop_reason: str | None
    config: dict[str, Any]
    monitor: str | None
    mode: str | None
    val_size: int | None
    best_epoch: float | None
    best_value: float | None
    created: float
    updated: float
    owner_host: str | None = None
    owner_pid: int | None = None
    owner_start: int | None = None
    epochs: int = 0
    artifacts: dict[str, str] = dataclasses.field(default_factory=dict)
    # the store has the owner columns (schema 2); a schema-1 store read as it is has not, and
    # its document leaves them out
    has_owners: bool = dataclasses.field(default=True, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The run as ``runs show --json`` writes it (the config and artifacts not copied)."""
        skip = {"has_owners"} | (set() if self.has_owners else {c for c, _ in _OWNER_COLUMNS})
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


APPLICATION_ID = 0x46446F63          # "FDoc": PRAGMA application_id, in the file's header
_SQLITE_MAGIC = b"SQLite format 3\x00"
_RUNS_COLUMNS = {"run_id", "name", "status", "stop_reason", "config", "monitor", "mode", "val_size",
                 "best_epoch", "best_value", "created", "updated"}


def _foreign(path: str, what: str) -> StoreError:
    return StoreError(f"{path}: not a fitdoctor run store ({what}); fitdoctor leaves it untouched. "
                      f"Pass a new or fitdoctor-made file with {arg('store', lib='store=PATH')}.")


class RunStore:
    """Open the run store at ``path``. A file is used only if it is new, empty, or a fitdoctor
    store: stamped with fitdoctor's ``application_id``, or (a store written before the stamp) one
    with a ``schema_version`` table and a ``runs`` table holding fitdoctor's columns; other tables
    beside them (Optuna's, from a sweep) are fine. Anything else is a StoreError before a byte is
    written. ``create=False`` (the read-only commands) writes nothing at all: a missing file is a
    StoreError and an empty one reads as a store without runs."""

    def __init__(self, path: str = DEFAULT_PATH, *, create: bool = True):
        self.path = str(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise StoreError(f"{self._named()}: the folder {parent} does not exist.")
        if os.path.exists(self.path) and not os.path.isfile(self.path):
            raise StoreError(f"{self._named()}: not a regular file; give the path of a run store.")
        if not create and not os.path.exists(self.path):
            raise StoreError(f"{self._named()}: no such run store yet; " +
                             either("RunStore(path) or track() creates it.", "`fitdoctor train` creates it."))
        if os.path.isfile(self.path) and os.path.getsize(self.path) > 0:
            try:
                with open(self.path, "rb") as fh:
                    head = fh.read(len(_SQLITE_MAGIC))
            except OSError as exc:
                raise StoreError(f"{self._named()}: cannot read it ({exc.strerror}).") from None
            if head != _SQLITE_MAGIC:
                raise _foreign(self.path, "not an SQLite file")
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise _foreign(self.path, str(exc)) from None
        try:
            self.conn.execute("PRAGMA busy_timeout=30000")
            new = self._check_ours()
            self._empty = new and not create        # read as a store without runs
            self._owners = True                     # the owner columns exist (schema 2)
            if not create:
                if not new:                         # version 1 is read as it is, never migrated here
                    self._owners = self._check_version() >= 2
                return
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            with self._tx():
                version = None if new else self._check_version()
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                if version == 1:
                    self._migrate_1_to_2()
                if self.conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                    self.conn.execute(f"PRAGMA application_id={APPLICATION_ID}")   # older stores too
                if self.conn.execute("SELECT version FROM schema_version").fetchone() is None:
                    self.conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise _foreign(self.path, str(exc)) from None
        except StoreError:
            self.conn.close()                 # a refused file is not kept open (or locked)
            raise

    def _named(self) -> str:
        """The store as an error names it: "run store PATH" (library), "--store PATH" (CLI)."""
        return arg("store", self.path, lib=f"run store {self.path}")

    def _check_ours(self) -> bool:
        """Whether the file is new (no tables yet); a StoreError when it belongs to something else.
        Reads only."""
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id not in (0, APPLICATION_ID):
            raise _foreign(self.path, f"its header names another application, application_id {app_id:#x}")
        tables = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")}
        if not tables:
            return True
        if "runs" not in tables or "schema_version" not in tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise _foreign(self.path, f"it holds other tables: {shown}")
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(runs)")}
        if not _RUNS_COLUMNS <= columns:
            raise _foreign(self.path, "its runs table has other columns: " + ", ".join(sorted(columns)))
        return False

    def _check_version(self) -> int:
        """The store's schema version: this one, or 1 (migrated when opened for writing)."""
        row = self.conn.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            return SCHEMA_VERSION
        if row[0] not in (1, SCHEMA_VERSION):
            raise StoreError(f"{self.path}: run store schema version {row[0]}, this fitdoctor "
                             f"reads version {SCHEMA_VERSION}. Use a fitdoctor of the matching "
                             f"version, or start a new store with {arg('store', 'NEW.db', lib='another path')}.")
        return int(row[0])

    def _migrate_1_to_2(self) -> None:
        """Version 1 had no owner columns: add them (empty for the old runs)."""
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(runs)")}
        for name, kind in _OWNER_COLUMNS:
            if name not in have:
                self.conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        self.conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # --- writing ----------------------------------------------------------------------------
    def create_run(self, config: dict, *, name: str | None = None, monitor: str | None = None,
                   mode: str | None = None, val_size: int | None = None) -> str:
        """A new run, ``running`` and owned by this process."""
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        now = time.time()
        owner = this_process()
        with self._tx():
            self.conn.execute(
                "INSERT INTO runs (run_id, name, status, config, monitor, mode, val_size, created, "
                "updated, owner_host, owner_pid, owner_start) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, name or run_id, json.dumps(config), monitor, mode, val_size, now, now,
                 owner["owner_host"], owner["owner_pid"], owner["owner_start"]))
        return run_id

    def take_over(self, run_id: str) -> None:
        """A resumed run: ``running`` again, owned by this process."""
        owner = this_process()
        with self._tx():
            self.conn.execute(
                "UPDATE runs SET status='running', stop_reason=NULL, owner_host=?, owner_pid=?, "
                "owner_start=?, updated=? WHERE run_id=?",
                (owner["owner_host"], owner["owner_pid"], owner["owner_start"], time.time(), run_id))

    def log_epoch(self, run_id: str, epoch: int, metrics: dict[str, Any]) -> None:
        clean = {k: (float(v) if v is not None else None) for k, v in metrics.items()}
        with self._tx():
            self.conn.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?, ?)",
                              (run_id, int(epoch), json.dumps(clean, allow_nan=True)))
            self.conn.execute("UPDATE runs SET updated=? WHERE run_id=?", (time.time(), run_id))

    def update_run(self, run_id: str, **fields: Any) -> None:
        allowed = {"status", "stop_reason", "best_epoch", "best_value", "val_size", "monitor", "mode",
                   "name"}
        bad = set(fields) - allowed
        assert not bad, bad
        sets = ", ".join(f"{k}=?" for k in fields)
        with self._tx():
            self.conn.execute(f"UPDATE runs SET {sets}, updated=? WHERE run_id=?",
                              (*fields.values(), time.time(), run_id))

    def add_artifact(self, run_id: str, kind: str, path: str, epoch: int | None = None) -> None:
        with self._tx():
            self.conn.execute("INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)",
                              (run_id, kind, os.path.abspath(path), epoch, time.time()))

    def save_predictions(self, run_id: str, which: str, epoch: int, arrays: dict[str, np.ndarray]) -> None:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        with self._tx():
            self.conn.execute("INSERT OR REPLACE INTO predictions VALUES (?, ?, ?, ?)",
                              (run_id, which, int(epoch), buf.getvalue()))

    # --- reading ----------------------------------------------------------------------------
    def export_text(self, run: str, fmt: str = "csv") -> str:
        """A run's per-epoch table as CSV or JSON records; whole epochs written as integers."""
        table = self.epochs(run)
        if table.empty or "epoch" not in table:      # interrupted in its first epoch
            return "epoch\n" if fmt == "csv" else "[]"
        e = table["epoch"]
        if e.notna().all() and (e == e.round()).all():
            table = table.assign(epoch=e.astype(int))
        return table.to_csv(index=False) if fmt == "csv" else table.to_json(orient="records", indent=1)

    def export_tensorboard(self, run: str, out: str) -> None:
        """A run's per-epoch table as TensorBoard scalars (step = epoch) in the folder ``out``."""
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UsageError("TensorBoard export needs: pip install 'fitdoctor[tensorboard]'.") from None
        with SummaryWriter(out) as writer:
            for _, row in self.epochs(run).iterrows():
                step = int(row["epoch"])
                for col, value in row.items():
                    if value == value:                      # skip missing values
                        writer.add_scalar(str(col), float(value), step)

    def find(self, run: str) -> list[str]:
        """The run ids that ``run`` (an id, a part of one of 4 characters or more, or a name)
        designates."""
        rows = [] if self._empty else self.conn.execute(
            "SELECT run_id FROM runs WHERE run_id = ? OR run_id LIKE ? OR name = ?",
            (run, f"%{run}%" if len(run) >= 4 else run, run)).fetchall()
        return sorted({r[0] for r in rows})

    def resolve(self, run: str) -> str:
        ids = self.find(run)
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise StoreError(f"{self.path}: no run {run!r}. See " + either(
                "list_runs()", f"`fitdoctor runs list --store {self.path}`") + ".")
        raise StoreError(f"{self.path}: {run!r} matches {len(ids)} runs ({', '.join(ids[:5])}); "
                         "give more of the id.")

    def run(self, run: str) -> RunInfo:
        run_id = self.resolve(run)
        cur = self.conn.execute("SELECT * FROM runs WHERE run_id=?", (run_id,))
        row = dict(zip([c[0] for c in cur.description], cur.fetchone()))
        row["config"] = json.loads(row["config"])
        row["epochs"] = self.conn.execute("SELECT COUNT(*) FROM epochs WHERE run_id=?", (run_id,)).fetchone()[0]
        row["artifacts"] = {k: p for k, p in self.conn.execute(
            "SELECT kind, path FROM artifacts WHERE run_id=?", (run_id,))}
        return RunInfo(**_with_liveness(row), has_owners="owner_pid" in row)

    def list_runs(self) -> list[dict[str, Any]]:
        if self._empty:
            return []
        rows = self.conn.execute(
            "SELECT r.run_id, r.name, r.status, r.stop_reason, r.best_epoch, r.best_value, "
            "r.created, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.run_id), "
            + ("r.owner_host, r.owner_pid, r.owner_start" if self._owners else "NULL, NULL, NULL")
            + " FROM runs r ORDER BY r.created").fetchall()
        keys = ("run_id", "name", "status", "stop_reason", "best_epoch", "best_value", "created", "epochs",
                "owner_host", "owner_pid", "owner_start")
        return [_with_liveness(dict(zip(keys, r))) for r in rows]

    def epochs(self, run: str) -> pd.DataFrame:
        run_id = self.resolve(run)
        rows = self.conn.execute("SELECT epoch, metrics FROM epochs WHERE run_id=? ORDER BY epoch",
                                 (run_id,)).fetchall()
        return pd.DataFrame([{"epoch": e, **json.loads(m)} for e, m in rows])

    def predictions(self, run: str, which: str) -> tuple[int, dict[str, np.ndarray]] | None:
        row = self.conn.execute("SELECT epoch, data FROM predictions WHERE run_id=? AND which=?",
                                (self.resolve(run), which)).fetchone()
        if row is None:
            return None
        with np.load(io.BytesIO(row[1]), allow_pickle=False) as z:
            return int(row[0]), {k: z[k] for k in z.files}

    def history(self, run: str):
        """The stored run as a History (``fitdoctor diagnose RUN_ID``)."""
        from ..history.core import make_history

        info = self.run(run)
        table = self.epochs(info.run_id)
        if table.empty:
            raise StoreError(f"{self.path}: run {info.run_id} has no epochs yet.")
        h = make_history(table, source=f"{self.path}#{info.run_id}", format="fitdoctor-store",
                         name=info.name, val_size=info.val_size,
                         config=_flatten(info.config),
                         non_finite={"train_loss": float(table["epoch"].iloc[-1])}
                         if info.stop_reason == "non_finite" else None)
        if info.monitor and h.has(info.monitor):
            h = dataclasses.replace(h, monitor=info.monitor, mode=info.mode or h.mode,
                                    monitor_reason="stored")
        return h

"""--store takes only a new, empty or fitdoctor-made file: another program's SQLite database or
a file that is not SQLite is refused with its name and the fix (exit 2), and left byte for byte
as it was; the read-only commands never write to a file at all."""

import hashlib
import sqlite3

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.store import APPLICATION_ID, RunStore, StoreError

runner = CliRunner()

# what fitdoctor before the application_id stamp wrote (schema version 1): the test of "a store
# from an older version" must not follow later changes to the schema in the code
OLD_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, stop_reason TEXT,
    config TEXT NOT NULL, monitor TEXT, mode TEXT, val_size INTEGER,
    best_epoch REAL, best_value REAL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE epochs (
    run_id TEXT NOT NULL REFERENCES runs(run_id), epoch INTEGER NOT NULL, metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch));
CREATE TABLE artifacts (
    run_id TEXT NOT NULL REFERENCES runs(run_id), kind TEXT NOT NULL, path TEXT NOT NULL,
    epoch INTEGER, created REAL NOT NULL, PRIMARY KEY (run_id, kind));
CREATE TABLE predictions (
    run_id TEXT NOT NULL REFERENCES runs(run_id), which TEXT NOT NULL, epoch INTEGER NOT NULL,
    data BLOB NOT NULL, PRIMARY KEY (run_id, which));
INSERT INTO schema_version VALUES (1);
INSERT INTO runs VALUES ('20250101-000000-abcdef', 'old-run', 'completed', 'completed', '{}',
    'val_acc', 'max', 100, 2, 0.9, 1.0, 2.0);
INSERT INTO epochs VALUES ('20250101-000000-abcdef', 0, '{"val_acc": 0.5, "train_loss": 1.0}');
INSERT INTO epochs VALUES ('20250101-000000-abcdef', 1, '{"val_acc": 0.8, "train_loss": 0.6}');
INSERT INTO epochs VALUES ('20250101-000000-abcdef', 2, '{"val_acc": 0.9, "train_loss": 0.4}');
"""


def sqlite_file(path, script, app_id=0):
    c = sqlite3.connect(path)
    c.executescript(script)
    if app_id:
        c.execute(f"PRAGMA application_id={app_id}")
    c.commit()
    c.close()
    return path


def err(r):
    return " ".join(r.stderr.split())              # the console wraps long lines


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


FOREIGN = {
    "other tables": ("CREATE TABLE notes (id INTEGER, body TEXT); INSERT INTO notes VALUES (1, 'x');",
                     0, "it holds other tables: notes"),
    "a runs table of its own": ("CREATE TABLE runs (id INTEGER, who TEXT); CREATE TABLE schema_version (v);",
                                0, "its runs table has other columns: id, who"),
    "another application's id": ("CREATE TABLE t (x);", 0x47504B47,
                                 "its header names another application, application_id 0x47504b47"),
}


@pytest.mark.parametrize("kind", FOREIGN)
def test_another_programs_sqlite_file_is_refused_and_untouched(tmp_path, kind):
    script, app_id, why = FOREIGN[kind]
    path = sqlite_file(tmp_path / "other.sqlite", script, app_id)
    before = digest(path)
    with pytest.raises(StoreError, match=f"other.sqlite: not a fitdoctor run store \\({why}"):
        RunStore(str(path))                                 # the writing side refuses it too
    for args in (["runs", "list"], ["runs", "show", "abcd"], ["diagnose", "abcd"],
                 ["runs", "export", "abcd"], ["compare", "abcd", "efgh"]):
        r = runner.invoke(app, [*args, "--store", str(path)])
        assert r.exit_code == 2, (args, r.output)
        assert "other.sqlite: not a fitdoctor run store" in err(r) and "--store" in err(r), args
        assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)
    assert digest(path) == before
    assert not (tmp_path / "other.sqlite-wal").exists() or (tmp_path / "other.sqlite-wal").stat().st_size == 0


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"just some text, not a database\n" * 50)
    before = digest(path)
    r = runner.invoke(app, ["runs", "list", "--store", str(path)])
    assert r.exit_code == 2 and "notes.db: not a fitdoctor run store (not an SQLite file)" in err(r)
    with pytest.raises(StoreError, match="not an SQLite file"):
        RunStore(str(path))
    assert digest(path) == before


def test_an_empty_file_reads_as_no_runs_without_a_write_and_becomes_a_store(tmp_path):
    path = tmp_path / "new.db"
    path.write_bytes(b"")
    r = runner.invoke(app, ["runs", "list", "--store", str(path), "--json"])
    assert r.exit_code == 0 and r.stdout.strip() == "[]"
    r = runner.invoke(app, ["runs", "show", "abcd", "--store", str(path)])
    assert r.exit_code == 2 and "no run 'abcd'" in err(r)
    assert path.stat().st_size == 0                          # read-only: nothing written
    s = RunStore(str(path))
    run_id = s.create_run({"a": 1}, name="first")
    s.close()
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert [x["run_id"] for x in RunStore(str(path)).list_runs()] == [run_id]


def test_a_missing_store_is_not_created_by_a_read_only_command(tmp_path):
    for args in (["runs", "show", "abcd"], ["runs", "export", "abcd"], ["runs", "list"]):
        r = runner.invoke(app, [*args, "--store", str(tmp_path / "none.db")])
        assert r.exit_code == 2 and "no such run store" in err(r), args
    assert list(tmp_path.iterdir()) == []


def test_a_store_from_an_older_version_is_recognised_by_its_tables(tmp_path):
    path = sqlite_file(tmp_path / "old.db", OLD_SCHEMA + "CREATE TABLE studies (study_id INTEGER);")
    before = digest(path)
    r = runner.invoke(app, ["runs", "list", "--store", str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert [x["name"] for x in __import__("json").loads(r.stdout)] == ["old-run"]
    r = runner.invoke(app, ["diagnose", "abcdef", "--store", str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert digest(path) == before                            # reading never stamps or migrates
    s = RunStore(str(path))                                  # a writer stamps it and keeps its runs
    s.log_epoch("20250101-000000-abcdef", 3, {"val_acc": 0.91})
    s.close()
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert c.execute("SELECT COUNT(*) FROM epochs").fetchone()[0] == 4
        assert c.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 0   # Optuna's, say


def test_a_fitdoctor_store_with_a_damaged_runs_table_is_refused(tmp_path):
    path = tmp_path / "s.db"
    RunStore(str(path)).close()
    with sqlite3.connect(path) as c:
        c.execute("DROP TABLE runs")
        c.execute("CREATE TABLE runs (run_id TEXT)")
    with pytest.raises(StoreError, match="its runs table has other columns: run_id"):
        RunStore(str(path))

"""An error names what its reader can change: a caller of the library reads the parameter
(``run=N``, ``mode``, ``store=PATH``), the command line the option (``--run N``, ``--mode``,
``--store PATH``). The same error, raised once below the CLI, worded for each (errors.arg)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from fitdoctor import FitDoctorError, read_history
from fitdoctor.cli import app
from fitdoctor.errors import UsageError, arg, either, render
from fitdoctor.history import make_history
from fitdoctor.lrfind import RangeCurve, summarize
from fitdoctor.report.documents import report_dir
from fitdoctor.store import RunStore
from fitdoctor.training.config import parse_overrides

from .conftest import FIXTURES

FLAG = re.compile(r"(?<![\w-])--[a-z]")
runner = CliRunner()


def _history():
    return make_history(pd.DataFrame({"epoch": [0.0, 1, 2], "val_acc": [0.5, 0.6, 0.7]}),
                        source="h.csv", format="csv")


def _no_minimum():
    lr = [1e-6 * 10 ** (6 * i / 99) for i in range(100)]
    loss = [2.3 if i < 40 else 2.3 - 0.02 * (i - 40) for i in range(100)]
    return summarize([RangeCurve(lr, loss, loss, "max_lr")], batches_per_epoch=25)


# (what the library call raises, words its message holds)
LIBRARY = {
    "two runs": (lambda tmp: read_history(FIXTURES / "two-runs.log"),
                 ["Pick one with run=N, or diagnose each with read_histories()."]),
    "run out of range": (lambda tmp: read_history(FIXTURES / "two-runs.log", run=5),
                         ["run must be between 1 and 2, got run=5."]),
    "format": (lambda tmp: read_history(FIXTURES / "two-runs.log", fmt="xml"), ["fmt must be one of"]),
    "mode": (lambda tmp: _history().with_options(mode="up"), ["mode must be 'max' or 'min'"]),
    "val_size": (lambda tmp: _history().with_options(val_size=0), ["val_size must be a positive"]),
    "monitor": (lambda tmp: _history().with_options(monitor="nope"), ["Pass one of them with monitor=NAME."]),
    "store folder": (lambda tmp: RunStore(str(tmp / "missing" / "s.db")), ["run store ", "does not exist"]),
    "no store yet": (lambda tmp: RunStore(str(tmp / "s.db"), create=False),
                     ["no such run store yet; RunStore(path) or track() creates it."]),
    "report dir": (lambda tmp: (tmp / "f").write_text("x") and report_dir(str(tmp / "f"), "report.md"),
                   ["not a directory. It names a directory for report.md"]),
    "override": (lambda tmp: parse_overrides(["lr"]), ["an item of overrides expects key=value"]),
}


@pytest.mark.parametrize("case", list(LIBRARY))
def test_a_library_error_names_the_parameter_not_a_flag(tmp_path, case):
    call, words = LIBRARY[case]
    with pytest.raises(FitDoctorError) as info:
        call(tmp_path)
    message = str(info.value)
    assert all(w in message for w in words), message
    assert not FLAG.search(message) and "\x1e" not in message, message


def test_track_names_its_store_parameter(tmp_path):
    from fitdoctor import track

    with pytest.raises(FitDoctorError) as info:
        with track("x", store=str(tmp_path / "missing" / "s.db")):
            pass
    assert str(info.value).startswith(f"run store {tmp_path}") and not FLAG.search(str(info.value))


def test_lr_find_reasons_name_find_lrs_parameters():
    result = _no_minimum()
    assert result.refused.endswith("raise max_lr") and not FLAG.search(result.message)


# (the command, words its one-line error holds): the options, as before
CLI = [
    (["diagnose", FIXTURES / "two-runs.log"], ["Pick one with --run N, or diagnose each with --run all."]),
    (["diagnose", FIXTURES / "two-runs.log", "--run", "5"], ["--run must be between 1 and 2"]),
    (["diagnose", FIXTURES / "two-runs.log", "--run", "x"], ["--run must be a run number"]),
    (["diagnose", FIXTURES / "two-runs.log", "--run", "1", "--format", "xml"], ["--format must be one of"]),
    (["diagnose", FIXTURES / "two-runs.log", "--run", "1", "--mode", "up"], ["--mode must be 'max' or 'min'"]),
    (["diagnose", FIXTURES / "two-runs.log", "--run", "1", "--val-size", "0"], ["--val-size must be a positive"]),
    (["diagnose", FIXTURES / "two-runs.log", "--run", "1", "--metric", "nope"], ["Pass one of them with --metric."]),
]


@pytest.mark.parametrize("args, words", CLI, ids=[" ".join(map(str, a[2:])) or a[0] for a, _ in CLI])
def test_the_command_line_names_the_option(args, words):
    r = runner.invoke(app, [str(a) for a in args])
    err = " ".join(r.stderr.split())
    assert r.exit_code == 2 and all(w in err for w in words), err
    assert "run=N" not in err and "\x1e" not in err and "Traceback" not in r.output


def test_the_command_line_names_the_store_option(tmp_path):
    (tmp_path / "other.db").write_bytes(b"not sqlite at all" * 10)
    r = runner.invoke(app, ["runs", "list", "--store", str(tmp_path / "other.db")])
    err = " ".join(r.stderr.split())
    assert r.exit_code == 2 and err.endswith("Pass a new or fitdoctor-made file with --store."), err
    with pytest.raises(FitDoctorError) as info:
        RunStore(str(tmp_path / "other.db"))
    assert str(info.value).endswith("Pass a new or fitdoctor-made file with store=PATH.")


def test_the_two_wordings():
    text = f"{arg('run', 'N')}, {arg('store', 'x.db', lib='run store x.db')}, {arg('mode')}, " + \
        either("RunStore(path).list_runs()", "`fitdoctor runs list`")
    assert render(text) == "run=N, run store x.db, mode, RunStore(path).list_runs()"
    assert render(text, lambda n: "--" + n) == "--run N, --store x.db, --mode, `fitdoctor runs list`"
    error = UsageError(text)
    assert str(error) == render(text) and error.cli_message(lambda n: "--" + n) == render(text, lambda n: "--" + n)

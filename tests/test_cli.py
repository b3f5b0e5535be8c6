"""The command line, as a user calls it, on real files."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app

from .conftest import FIXTURES, ROOT, SEED_LOGS, public

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_diagnose_json_document():
    r = run("diagnose", SEED_LOGS / "sst-try1.log", "--val-size", "1101", "--json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "fitdoctor.diagnosis/1" and doc["format"] == "console"
    assert doc["best"]["epoch"] == 13 and doc["best"]["value"] == pytest.approx(0.419)
    assert doc["overfitting"]["detected"] is True


def test_several_paths_give_a_json_list_and_run_all_splits():
    r = run("diagnose", SEED_LOGS / "sst-try3.log", SEED_LOGS / "sst-try4.log", "--json")
    assert r.exit_code == 0
    docs = json.loads(r.stdout)
    assert [d["overfitting"]["detected"] for d in docs] == [False, True]
    r = run("diagnose", public("resnet50-appended"), "--run", "all", "--json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 4


def test_terminal_summary_puts_the_verdict_first():
    r = run("diagnose", SEED_LOGS / "sst-try4.log")
    assert r.exit_code == 0
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert "Verdict: overfitting" in lines[1]
    assert "Phases" in r.stdout and "Recommendations" in r.stdout and "early_stopping" in r.stdout


def test_out_dir_writes_all_reports(tmp_path):
    r = run("diagnose", SEED_LOGS / "sst-try4.log", "--out", tmp_path, "--lang", "zh")
    assert r.exit_code == 0
    for name in ("report.md", "report.html", "curves.png", "diagnosis.json"):
        assert (tmp_path / name).stat().st_size > 100
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "fd-figure" in html and "plotly.min.js" in html and "过拟合" in html
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "diagnosis.json").read_text())["verdict"] == "overfitting"
    assert not list(tmp_path.glob(".tmp-*"))                  # nothing half-written left


def test_strings_from_logs_are_escaped_in_html(tmp_path):
    evil = tmp_path / "<img src=x onerror=alert(1)>.log"
    evil.write_text((SEED_LOGS / "sst-try4.log").read_text())
    r = run("diagnose", evil, "--out", tmp_path / "out")
    assert r.exit_code == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # and in the Markdown reports, which a viewer may render HTML from
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    other = tmp_path / "<b>x.log"
    other.write_text((SEED_LOGS / "sst-try1.log").read_text())
    assert run("compare", evil, other, "--out", tmp_path / "cmp").exit_code == 0
    md = (tmp_path / "cmp" / "comparison.md").read_text(encoding="utf-8")
    assert "<img" not in md and "<b>" not in md and "&lt;b&gt;x.log" in md


@pytest.mark.parametrize("args, message", [
    (["diagnose", FIXTURES / "two-runs.log"], "--run N"),
    (["diagnose", "does-not-exist.log"], "no such file"),
    (["diagnose", FIXTURES / "history.json", "--metric", "val_bleu"], "Available: lr, train_loss"),
    (["diagnose", FIXTURES / "history.json", "--lang", "fr"], "--lang must be one of"),
    (["diagnose", FIXTURES / "history.json", "--format", "xml"], "--format must be one of"),
    (["diagnose", FIXTURES / "history.json", "--val-size", "0"], "--val-size"),
    (["diagnose", FIXTURES / "history.json", "--run", "x"], "--run must be"),
])
def test_user_mistakes_exit_2_with_a_message(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert message in r.stderr and "Traceback" not in r.output + r.stderr


EYE = ROOT / "configs" / "eyestate_plateau_warmup_ema.yaml"
SST = ROOT / "configs" / "sst_cosine_warmup_early_stop.yaml"     # stepped per batch


@pytest.mark.parametrize("args, message", [
    (["schedule", EYE, "--epochs", "-5"], "Invalid value for '--epochs'"),
    (["schedule", EYE, "--epochs", "0"], "Invalid value for '--epochs'"),
    (["schedule", EYE, "--epochs", "10000000"], "Invalid value for '--epochs'"),
    (["schedule", SST, "--epochs", "100000", "--steps-per-epoch", "100"], "steps to preview"),
    (["schedule", SST, "--steps-per-epoch", "0"], "Invalid value for '--steps-per-epoch'"),
])
def test_schedule_lengths_are_bounded(args, message):
    r = run(*args)
    assert r.exit_code == 2
    assert message in " ".join(r.stderr.split()) and "Traceback" not in r.output + r.stderr


def test_out_onto_a_file_says_it_is_not_a_directory(tmp_path):
    taken = tmp_path / "report.html"
    taken.write_text("keep me")
    for args in (["diagnose", SEED_LOGS / "sst-try1.log"],
                 ["compare", SEED_LOGS / "sst-try1.log", SEED_LOGS / "sst-try4.log"]):
        r = run(*args, "--out", taken)
        assert r.exit_code == 2 and "not a directory" in " ".join(r.stderr.split())
        assert "Traceback" not in r.output + r.stderr
    assert taken.read_text() == "keep me"                       # nothing lost
    r = run("diagnose", SEED_LOGS / "sst-try1.log", "--out", taken / "sub")
    assert r.exit_code == 2 and "cannot create it" in " ".join(r.stderr.split())


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "garbage.csv"
    bad.write_text("a,b\n")
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "diagnose", str(bad)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "garbage.csv" in p.stderr


def test_metric_and_mode_overrides():
    r = run("diagnose", FIXTURES / "keras-console.log", "--metric", "val_loss", "--json")
    doc = json.loads(r.stdout)
    assert doc["monitor"] == {"name": "val_loss", "mode": "min", "reason": "chosen"}
    assert doc["best"]["epoch"] == 5


def test_demo_loop_on_a_small_config(tmp_path):
    """The run's name comes from the user's config: its folder and link are made safe (no "../"
    out of --out, no "javascript:" link)."""
    cfg = tmp_path / "small.yaml"
    cfg.write_text("name: 'javascript:../small'\ntask: {name: sentiment, train_size: 64, val_size: 64, "
                   "batch_size: 32, max_length: 24}\ntraining: {epochs: 6, learning_rate: 2e-4}\n")
    r = run("demo", "--out", tmp_path / "demo", "--config", cfg, "--no-progress")
    assert r.exit_code == 0, r.output
    index = (tmp_path / "demo" / "index.html").read_text()
    assert "href='javascript_.._small/report.html'" in index and "report:" in r.stdout
    assert "href='javascript:" not in index and not (tmp_path / "small").exists()
    assert (tmp_path / "demo" / "javascript_.._small" / "curves.png").exists()


@pytest.mark.slow
def test_the_bundled_demo(tmp_path):
    r = run("demo", "--out", tmp_path / "demo", "--no-progress")
    assert r.exit_code == 0, r.output
    assert "overfitting" in r.stdout and "McNemar" in r.stdout


def test_a_config_that_is_a_directory_or_binary_is_named(tmp_path):
    binary = tmp_path / "model.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    for cmd in ("schedule", "train"):
        for path, msg in ((tmp_path, "a directory, not a config file"),
                          (binary, "not a text file")):
            r = run(cmd, path)
            assert r.exit_code == 2 and msg in " ".join(r.stderr.split()), r.output
            assert "Traceback" not in r.output + r.stderr


@pytest.mark.parametrize("metric_file, msg", [("/dev/zero", "not a regular file"),
                                              ("/nonexistent/m.txt", "no such file")])
def test_schedule_metric_file_must_be_a_file(metric_file, msg):
    r = run("schedule", EYE, "--metric-file", metric_file)
    assert r.exit_code == 2 and msg in " ".join(r.stderr.split())


def test_write_atomic_replaces_only_a_regular_file(tmp_path):
    import os

    from fitdoctor.errors import UsageError
    from fitdoctor.report.documents import write_atomic
    target = tmp_path / "t.txt"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for path, msg in ((link, "a symlink"), (tmp_path, "a directory"), (fifo, "not a regular file"),
                      ("/dev/null", "not a regular file"),
                      (tmp_path / "missing" / "x.csv", "does not exist")):
        with pytest.raises(UsageError, match=msg):
            write_atomic(str(path), "new")
    assert target.read_text() == "old" and link.is_symlink() and os.path.exists("/dev/null")
    write_atomic(str(target), "new")
    assert target.read_text() == "new"


def test_write_atomic_keeps_the_umask_and_an_existing_files_mode(tmp_path):
    """The temporary file is 0600; what lands is a new file under the user's umask, or the
    replaced file's own mode (a report shared with a group stays shared)."""
    import os
    import stat

    from fitdoctor.report.documents import write_atomic
    old = os.umask(0o022)
    try:
        write_atomic(str(tmp_path / "new.md"), "x")
        os.umask(0o077)
        write_atomic(str(tmp_path / "private.md"), "x")
        kept = tmp_path / "kept.md"
        kept.write_text("old")
        kept.chmod(0o640)
        write_atomic(str(kept), "new")
    finally:
        os.umask(old)
    mode = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert mode == {"new.md": 0o644, "private.md": 0o600, "kept.md": 0o640}


def test_every_report_file_gets_the_umask_and_a_symlinked_png_is_refused(tmp_path):
    """curves.png went through its own temporary file (mkstemp's 0600 kept, a symlink or a
    directory named curves.png replaced or a traceback); it is written by write_atomic too."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        r = run("diagnose", SEED_LOGS / "sst-try4.log", "--out", tmp_path / "r")
        assert r.exit_code == 0, r.output
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "r").iterdir()}
        assert set(modes.values()) == {0o644}, modes
        victim = tmp_path / "victim.png"
        victim.write_bytes(b"keep")
        (tmp_path / "l").mkdir()
        (tmp_path / "l" / "curves.png").symlink_to(victim)
        (tmp_path / "d" / "curves.png").mkdir(parents=True)
        for out, kind in (("l", "a symlink"), ("d", "a directory")):
            r = run("diagnose", SEED_LOGS / "sst-try4.log", "--out", tmp_path / out)
            assert r.exit_code == 2 and "Traceback" not in r.output, r.output
            assert f"curves.png: {kind}" in r.output
        assert victim.read_bytes() == b"keep" and (tmp_path / "l" / "curves.png").is_symlink()
    finally:
        os.umask(old)


def test_write_atomic_reads_the_umask_without_changing_it(tmp_path, monkeypatch):
    """Setting the umask to read it opened a window in which another thread's new files got mode
    0666; the file is created 0666 and the kernel applies the umask itself."""
    import os
    import stat

    from fitdoctor.report import documents
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc")
    calls = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or real(m))
    old = real(0o027)
    try:
        documents.write_atomic(str(tmp_path / "x.md"), "x")
    finally:
        real(old)
    assert calls == [] and stat.S_IMODE((tmp_path / "x.md").stat().st_mode) == 0o640


def _command_paths(cmd, prefix=()):
    yield prefix
    if hasattr(cmd, "commands"):                  # a group (typer may bring its own click)
        for name, sub in cmd.commands.items():
            yield from _command_paths(sub, (*prefix, name))


def test_h_is_help_for_the_main_command_and_every_subcommand():
    import typer

    paths = list(_command_paths(typer.main.get_command(app)))
    assert {("runs", "list"), ("lr-find",), ("diagnose",), ()} <= set(paths)    # the walk found them
    for path in paths:
        long, short = run(*path, "--help"), run(*path, "-h")
        assert long.exit_code == 0 and "Usage: " in long.stdout, path
        assert (short.exit_code, short.stdout) == (0, long.stdout), path
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "runs", "show", "-h"], capture_output=True, text=True)
    assert p.returncode == 0 and "-h, --help" in p.stdout


def test_a_write_in_a_read_only_directory_is_a_message():
    from fitdoctor.errors import UsageError
    from fitdoctor.report.documents import write_atomic
    # /sys refuses new files even to root (a chmod'ed folder would not stop root, who runs CI)
    with pytest.raises(UsageError, match=r"/sys/fitdoctor-test\.txt: cannot write in /sys \("):
        write_atomic("/sys/fitdoctor-test.txt", "data")
    r = run("runs", "export", "x", "--store", "/sys/none.db")
    assert r.exit_code == 2 and "Traceback" not in r.output


def test_an_error_is_one_line_and_a_bracketed_path_is_not_markup(tmp_path):
    """Rich wrapped messages at 80 columns when stderr is not a terminal, and read "[bold]" in a
    path as markup (the path lost it)."""
    folder = tmp_path / "[bold]runs"
    folder.mkdir()
    missing = folder / ("a-rather-long-file-name-" * 4 + ".log")
    proc = subprocess.run([sys.executable, "-m", "fitdoctor", "diagnose", str(missing)],
                          capture_output=True, text=True, env={**__import__("os").environ, "COLUMNS": "60"})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "no such file" in lines[0]


def test_runs_show_json_export_whole_epochs_and_a_missing_file_beside_a_store(tmp_path, monkeypatch):
    from fitdoctor.integrations.track import track

    monkeypatch.chdir(tmp_path)
    with track("r1", {"training": {"seed": 0}}) as r:            # the default store, fitdoctor.db
        for e in range(6):
            r.log(train_loss=1 / (e + 1), val_loss=1 / (e + 1) + 0.1, val_acc=0.5 + 0.05 * e)
    doc = json.loads(run("runs", "show", "r1", "--json").stdout)
    assert doc["schema"] == "fitdoctor.run-info/1" and doc["name"] == "r1"
    assert [row["epoch"] for row in doc["epochs"]] == list(range(6))
    assert doc["epochs"][5]["val_acc"] == pytest.approx(0.75)
    csv = run("runs", "export", "r1").stdout.splitlines()
    assert csv[0].startswith("epoch,") and csv[1].startswith("0,") and csv[6].startswith("5,")
    r = run("diagnose", "missing.log")
    assert r.exit_code == 2 and "missing.log: no such file" in " ".join(r.stderr.split())


def test_compare_refuses_one_file_given_twice(tmp_path):
    """The same file twice was compared with itself, and grouped it counted as two seeds."""
    log = SEED_LOGS / "sst-try1.log"
    link = tmp_path / "again.log"
    link.symlink_to(log)
    for args in ([log, log], [log, link]):
        r = run("compare", *args)
        assert r.exit_code == 2 and "given twice" in r.stderr


def test_fail_on_is_a_ci_gate():
    """Exit 1 with each matching finding on stderr; 0 when none matches; 2 for an unknown code.
    SST Try1 overfits (from epoch 11) and learns."""
    log = SEED_LOGS / "sst-try1.log"
    r = run("diagnose", log, "--fail-on", "overfitting,no_learning", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["verdict"] == "overfitting"
    assert "fail-on overfitting: " in r.stderr and "no_learning" not in r.stderr
    assert run("diagnose", log, "--fail-on", "no_learning,divergence").exit_code == 0
    r = run("diagnose", log, "--fail-on", "overfit")
    assert r.exit_code == 2 and "unknown finding code(s) overfit" in r.stderr


def test_a_log_piped_into_dash(tmp_path):
    log = SEED_LOGS / "sst-try1.log"
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "diagnose", "-", "--json"], input=log.read_bytes(),
                       capture_output=True)
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and doc["name"] == "stdin" and doc["verdict"] == "overfitting"
    assert doc["best"] == json.loads(run("diagnose", log, "--json").stdout)["best"]
    p = subprocess.run([sys.executable, "-m", "fitdoctor", "compare", "-", str(SEED_LOGS / "sst-try3.log")],
                       input=log.read_bytes(), capture_output=True, text=False)
    assert p.returncode == 0 and b"stdin" in p.stdout
    for stdin, args, msg in ((b"", [], b"standard input is empty"),
                             ((FIXTURES / "two-runs.log").read_bytes(), [], b"holds 2 runs"),
                             ((FIXTURES / "two-runs.log").read_bytes(), ["--run", "7"], b"holds 2 run(s)")):
        p = subprocess.run([sys.executable, "-m", "fitdoctor", "diagnose", "-", *args], input=stdin,
                           capture_output=True)
        assert p.returncode == 2 and msg in p.stderr and b"Traceback" not in p.stderr


def test_a_run_without_epochs_exports_empty(tmp_path):
    """A run interrupted in its first epoch has no rows: export and show --json gave a KeyError."""
    from fitdoctor.store import RunStore

    db = str(tmp_path / "s.db")
    run_id = RunStore(db).create_run({"training": {"seed": 0}}, name="cut", monitor="val_acc", mode="max")
    r = run("runs", "export", run_id, "--store", db)
    assert r.exit_code == 0 and r.stdout.strip() == "epoch"
    r = run("runs", "show", run_id, "--store", db, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["epochs"] == []

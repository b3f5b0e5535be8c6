"""A report for a run whose name and config carry script is opened in headless Chromium: no
script runs. Needs Debian's chromium (`make test-all` installs it); marked slow."""

import shutil
import subprocess

import pytest

from fitdoctor import track
from fitdoctor.diagnosis import diagnose
from fitdoctor.report import write_reports
from fitdoctor.store import RunStore

EVIL = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


@pytest.mark.slow
def test_report_runs_no_script_in_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "make test-all installs Debian's chromium for this test"
    store = str(tmp_path / "s.db")
    with track(EVIL, config={"note": EVIL}, store=store) as run:
        for e in range(8):
            run.log(epoch=e, train_acc=0.5 + 0.06 * e, val_acc=0.5 + 0.04 * e)
    h = RunStore(store).history(run.run_id)
    paths = write_reports(h, diagnose(h), str(tmp_path / "rep"))
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                          "--no-first-run", "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          f"file://{paths['html']}"], capture_output=True, text=True, timeout=120).stdout
    assert "<title>" in dom and "pwned</title>" not in dom          # the title was not rewritten
    assert "&lt;script&gt;" in dom                                   # the name is shown as text

"""Readers under hypothesis-generated input, and training/diagnosis with the network cut off."""

import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.diagnosis import diagnose
from fitdoctor.errors import FitDoctorError
from fitdoctor.history import read_histories

runner = CliRunner()

line = st.one_of(
    st.text(max_size=80),
    st.builds(lambda e, k, v: f"epoch {e}: {k} :: {v}", st.integers(-5, 10**9), st.sampled_from(
        ["train loss", "dev acc", "val_acc", "lr", "loss", "accuracy"]),
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=6))),
    st.builds(lambda *xs: ",".join(map(str, xs)), st.integers(), st.floats(), st.text(max_size=5)),
    st.sampled_from(['{"epoch": 1, "loss": NaN}', '[{"epoch": 1}]', "epoch,loss", '{"log_history": [{}]}']),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(line, max_size=40), st.sampled_from([".log", ".csv", ".json", ".txt"]))
def test_generated_logs_give_a_history_or_a_clear_error(tmp_path, lines, suffix):
    p = tmp_path / f"gen{suffix}"
    p.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        for h in read_histories(p):
            diagnose(h)
    except FitDoctorError:
        pass


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"fitdoctor opened a network connection: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_training_and_diagnosis_open_no_connection(tmp_path, no_network):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: {name: sentiment, train_size: 32, val_size: 32, batch_size: 32, max_length: 16}\n"
                   "training: {epochs: 1}\n")
    r = runner.invoke(app, ["train", str(cfg), "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "r"),
                            "--no-progress"])
    assert r.exit_code == 0, r.output
    run_id = r.stdout.split("run ")[1].split(":")[0]
    d = runner.invoke(app, ["diagnose", run_id, "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "rep")])
    assert d.exit_code == 0, d.output

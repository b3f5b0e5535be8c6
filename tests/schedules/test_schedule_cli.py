import json

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app

runner = CliRunner()


def write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return str(p)


def test_schedule_json_per_epoch_with_warmup(tmp_path):
    cfg = write(tmp_path, "training:\n  learning_rate: 8e-4\n  scheduler: CosineAnnealingLR\n"
                          "  warmup_epochs: 5\n  epochs: 50\n")
    r = runner.invoke(app, ["schedule", cfg, "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["schema"] == "fitdoctor.schedule/1" and len(doc["lr_per_epoch"]) == 50
    assert doc["lr_per_epoch"][0] == pytest.approx(8e-5) and doc["lr_per_epoch"][5] == pytest.approx(8e-4)
    assert "lr_per_step" not in doc


def test_schedule_per_batch_has_steps_and_png(tmp_path):
    cfg = write(tmp_path, "training:\n  scheduler: OneCycleLR\n  step_per: batch\n  epochs: 4\n")
    png = tmp_path / "lr.png"
    r = runner.invoke(app, ["schedule", cfg, "--steps-per-epoch", "10", "--out", str(png), "--json"])
    doc = json.loads(r.stdout)
    assert len(doc["lr_per_step"]) == 40 and doc["lr_per_epoch"] == doc["lr_per_step"][::10]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_plateau_uses_the_metric_file(tmp_path):
    cfg = write(tmp_path, "training:\n  scheduler: ReduceLROnPlateau\n  scheduler_params: {patience: 1, factor: 0.5}\n"
                          "  epochs: 10\n")
    metric = tmp_path / "m.txt"
    metric.write_text("\n".join(["1.0", "0.8", "0.7"] + ["0.7"] * 7))
    flat = json.loads(runner.invoke(app, ["schedule", cfg, "--json"]).stdout)["lr_per_epoch"]
    real = json.loads(runner.invoke(app, ["schedule", cfg, "--json", "--metric-file", str(metric)]).stdout)["lr_per_epoch"]
    assert flat[2] == flat[0] > flat[3] and real[4] == pytest.approx(1e-3) and real[5] < real[4]
    assert real[3] == pytest.approx(1e-3) and real[-1] < 1e-3


def test_terminal_preview_and_bad_config(tmp_path):
    cfg = write(tmp_path, "training:\n  scheduler: StepLR\n  scheduler_params: {step_size: 3}\n  epochs: 9\n")
    r = runner.invoke(app, ["schedule", cfg])
    assert r.exit_code == 0 and "StepLR" in r.stdout and "*" in r.stdout
    bad = write(tmp_path, "training:\n  scheduler: StepLR\n  epochs: 9\n")
    r = runner.invoke(app, ["schedule", bad])
    assert r.exit_code == 2 and "step_size" in r.stderr

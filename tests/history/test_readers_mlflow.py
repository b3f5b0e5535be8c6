"""MLflow tracking directories, read by default from their file layout: a real ``mlruns/``
experiment (two PyTorch MLP runs, see fixtures/SOURCES.md), as a user diagnoses it."""

import json
import random
import shutil

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.errors import FitDoctorError
from fitdoctor.history import read_histories, read_history

from ..conftest import FIXTURES
from .test_mutations import mutate

MLRUNS = FIXTURES / "mlruns"
RUN_80 = MLRUNS / "2" / "9d97b6dcf63047c293d0c020b592399a"      # amusing-snipe-392, 80 epochs
runner = CliRunner()


def diagnose(*args):
    return runner.invoke(app, ["diagnose", *map(str, args)])


def test_an_mlruns_directory_is_one_history_per_run_oldest_first():
    runs = read_histories(MLRUNS)
    assert [(h.name, h.format, h.n) for h in runs] == [("amusing-snipe-392", "mlflow", 80),
                                                       ("gaudy-dolphin-859", "mlflow", 200)]
    h = runs[0]
    assert list(h.epochs) == list(range(80))                # MLflow's step is the x axis
    assert h.values("val_loss")[[0, 51, 79]] == pytest.approx([1.609894893584995,
                                                               1.591367255657091,
                                                               1.6843781547808865])
    assert {"train_loss", "val_loss", "train_bas", "val_bas"} <= set(h.columns)
    assert h.monitor == "val_loss" and h.mode == "min"
    assert h.config["Epochs"] == 80 and h.config["optimizer"] == "optim.SGD_lr=0.01_momentum=0.9"


def test_diagnose_reads_mlflow_runs_by_default():
    r = diagnose(MLRUNS, "--run", "all", "--json")
    assert r.exit_code == 0, r.output
    docs = json.loads(r.stdout)
    assert [(d["name"], d["format"], d["monitor"]["name"]) for d in docs] == [
        ("amusing-snipe-392", "mlflow", "val_loss"), ("gaudy-dolphin-859", "mlflow", "val_loss")]
    assert docs[0]["best"]["epoch"] == 51 and docs[0]["overfitting"]["detected"] is True
    one = diagnose(RUN_80)                       # a run directory on its own
    assert one.exit_code == 0 and "Verdict: overfitting" in one.stdout


def test_several_runs_need_a_choice_that_names_them():
    r = diagnose(MLRUNS)
    assert r.exit_code == 2
    assert "holds 2 MLflow runs: run 1 (amusing-snipe-392): epochs 0-79 (80 rows)" in r.output
    assert "--run all" in r.output and "Traceback" not in r.output


def test_a_value_logged_twice_at_one_step_keeps_the_last(tmp_path):
    run = shutil.copytree(RUN_80, tmp_path / "run")
    with open(run / "metrics" / "validation_loss", "a") as fh:
        fh.write("1667318604010 1.5 79\n")
    h = read_history(run)
    assert h.n == 80 and h.values("val_loss")[-1] == 1.5
    assert "1 value(s) logged again at the same MLflow step: the last kept" in h.notes


def test_a_damaged_metric_file_exits_2_naming_file_and_line(tmp_path):
    run = shutil.copytree(RUN_80, tmp_path / "run")
    metric = run / "metrics" / "train_loss"
    metric.write_text(metric.read_text()[:100])          # cut mid-line, as a full disk leaves it
    r = diagnose(run)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{metric}:3: not an MLflow metric line" in r.output.replace("\n", "")


def test_an_experiment_without_runs_is_no_history(tmp_path):
    (tmp_path / "0").mkdir()
    shutil.copy(MLRUNS / "2" / "meta.yaml", tmp_path / "0" / "meta.yaml")
    r = diagnose(tmp_path)
    assert r.exit_code == 2 and "MLflow runs" in r.output


@pytest.mark.parametrize("seed", range(4))
def test_damaged_metric_files_give_a_history_or_a_fitdoctor_error(tmp_path, seed):
    rng = random.Random(seed)
    for i in range(10):
        run = shutil.copytree(RUN_80, tmp_path / str(i))
        metric = run / "metrics" / rng.choice(["train_loss", "validation_loss", "validation_bas"])
        metric.write_bytes(mutate(metric.read_bytes(), rng))
        try:
            read_histories(run)
        except FitDoctorError:
            pass


def test_a_metric_key_with_a_slash_is_a_subfolder(tmp_path):
    """MLflow stores `train/loss` as metrics/train/loss (and params the same): the real run with
    its metrics moved to the keys Lightning and HF log."""
    run = tmp_path / "run"
    shutil.copytree(RUN_80, run)
    (run / "metrics" / "train").mkdir()
    (run / "metrics" / "train_loss").rename(run / "metrics" / "train" / "loss")
    (run / "metrics" / "eval").mkdir()
    (run / "metrics" / "validation_loss").rename(run / "metrics" / "eval" / "loss")
    (run / "params" / "opt").mkdir()
    (run / "params" / "optimizer").rename(run / "params" / "opt" / "name")
    h = read_history(run)
    assert {"train_loss", "val_loss"} <= set(h.columns) and h.n == 80
    assert h.config["opt/name"] == "optim.SGD_lr=0.01_momentum=0.9"
    r = diagnose(run)
    assert r.exit_code == 0 and "Verdict: overfitting" in r.output


def test_runs_with_one_name_get_one_report_each(tmp_path):
    """Two runs both called "baseline": `--run all --out` writes baseline/ and baseline-2/."""
    mlruns = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, mlruns)
    for tag in mlruns.glob("2/*/tags/mlflow.runName"):
        tag.write_text("baseline")
    r = runner.invoke(app, ["diagnose", str(mlruns), "--run", "all", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["baseline", "baseline-2", "plotly.min.js"]


def test_metric_files_without_a_step_take_their_line_order(tmp_path):
    """MLflow before 0.9 wrote `<timestamp> <value>`: the real run with its step column dropped
    reads as the same curve, step by line."""
    run = tmp_path / "run"
    shutil.copytree(RUN_80, run)
    for f in (run / "metrics").iterdir():
        f.write_text("".join(" ".join(line.split()[:2]) + "\n" for line in f.read_text().splitlines()))
    old, new = read_history(RUN_80), read_history(run)
    assert list(new.epochs) == list(range(80)) and new.notes == old.notes     # no "logged again"
    assert new.values("val_loss") == pytest.approx(old.values("val_loss"))

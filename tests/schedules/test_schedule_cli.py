import json

import pytest
from torch.optim import lr_scheduler as S
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
    # the metric file is a loss (it falls): the monitor says so
    cfg = write(tmp_path, "training:\n  scheduler: ReduceLROnPlateau\n  scheduler_params: {patience: 1, factor: 0.5}\n"
                          "  epochs: 10\n  early_stopping: {monitor: val_loss}\n")
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


def torch_warmup_plateau(metric, lr, warmup, mode, factor, patience):
    """torch's own classes as torch documents them: LinearLR (from 0.1x) stepped once per
    warmup epoch, then ReduceLROnPlateau.step(metric) once per epoch."""
    import torch

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    warm = S.LinearLR(opt, 0.1, 1.0, total_iters=warmup)
    plateau = S.ReduceLROnPlateau(opt, mode=mode, factor=factor, patience=patience)
    out = []
    for epoch, m in enumerate(metric):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        warm.step() if epoch < warmup else plateau.step(m)
    return out


RISING = [0.5 + 0.01 * e for e in range(13)] + [0.62] * 7            # an accuracy: rises, stalls
FALLING = [1.0 - 0.05 * e for e in range(13)] + [0.40] * 7            # a loss: falls, stalls


@pytest.mark.parametrize("early_stopping, metric, mode", [
    ("  early_stopping: {monitor: val_acc, patience: 10}\n", RISING, "max"),
    ("  early_stopping: {monitor: val_f1}\n", RISING, "max"),
    ("", RISING, "max"),                                 # the task's validation metric: accuracy-like
    ("  early_stopping: {monitor: val_loss}\n", FALLING, "min"),
    ("  early_stopping: {monitor: val_f1, mode: min}\n", FALLING, "min"),   # a mode given wins
], ids=["val_acc", "val_f1", "task-metric", "val_loss", "mode-given"])
def test_schedule_preview_plateau_follows_the_monitor(tmp_path, early_stopping, metric, mode):
    """catches: the preview's ReduceLROnPlateau ignoring the monitor's direction ("min" unless
    early_stopping.mode is written), so a rising validation accuracy halved the previewed LR
    every patience + 1 epochs while training (mode from the monitor) kept it."""
    cfg = write(tmp_path, "training:\n  learning_rate: 1e-3\n  scheduler: ReduceLROnPlateau\n"
                          "  scheduler_params: {factor: 0.5, patience: 2}\n  warmup_epochs: 2\n"
                          f"  epochs: {len(metric)}\n" + early_stopping)
    path = tmp_path / "m.txt"
    path.write_text("\n".join(map(str, metric)))
    r = runner.invoke(app, ["schedule", cfg, "--json", "--metric-file", str(path)])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)["lr_per_epoch"]
    want = torch_warmup_plateau(metric, 1e-3, 2, mode, 0.5, 2)
    assert got == pytest.approx(want, rel=1e-12)
    # by hand: warmup 1e-4, 5.5e-4; the full LR while the metric improves (to epoch 12); three
    # epochs without improvement (patience 2) halve it after epochs 15 and 18
    assert want == pytest.approx([1e-4, 5.5e-4] + [1e-3] * 14 + [5e-4] * 3 + [2.5e-4])


def test_per_batch_preview_counts_the_tasks_optimizer_steps(tmp_path):
    """400 digits images in batches of 50: 8 batches an epoch; accumulating 2, 4 steps; on 2
    devices each rank sees 200 images, 4 batches, 2 steps. Said beside the curve."""
    base = ("task: {name: image, dataset: digits, train_size: 400, val_size: 100, batch_size: 50}\n"
            "training:\n  scheduler: OneCycleLR\n  step_per: batch\n  epochs: 2\n")
    for extra, steps, said in (("", 8, "8 training batches"),
                               ("  accumulate_grad_batches: 2\n", 4, "/ 2 accumulated"),
                               ("  accumulate_grad_batches: 2\n  devices: 2\n", 2, "per device of 2")):
        cfg = write(tmp_path, base + extra)
        doc = json.loads(runner.invoke(app, ["schedule", cfg, "--json"]).stdout)
        assert len(doc["lr_per_step"]) == 2 * steps, extra
        text = " ".join(runner.invoke(app, ["schedule", cfg]).stdout.split())
        assert f"({steps} per epoch: the task's" in text and said in text, extra
        # the peak the curve shows is the per-step one, not the per-epoch LR's
        assert f"max: {max(doc['lr_per_step']):.3g}" in text, extra

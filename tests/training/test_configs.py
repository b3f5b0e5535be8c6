"""Every config in configs/ loads, previews its schedule, and builds its task (on a 16-example
subset: the real data, the real model, one forward pass and the loss)."""

from pathlib import Path

import pytest
import torch

from fitdoctor.schedules import ScheduleSpec, preview
from fitdoctor.training.config import load_config, resolve_monitor
from fitdoctor.training.losses import build_loss
from fitdoctor.training.module import _metrics
from fitdoctor.training.tasks import build_task

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loads_and_previews(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first) > 30          # a line saying what it tests
    cfg = load_config(path)
    t = cfg.training
    spec = ScheduleSpec.from_training(t, 10, "max")
    lrs = preview(spec, t.learning_rate, t.epochs, 10)["lr_per_epoch"]
    assert len(lrs) == t.epochs and max(lrs) == pytest.approx(t.learning_rate, rel=1e-6)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_builds_its_task(path):
    """The config's task as the trainer builds it (build_task, build_loss), on 16 training and
    16 validation examples: a batch goes through the model and the loss, and the monitored
    metric is one the trainer records."""
    cfg = load_config(path, ["task.train_size=16", "task.val_size=16"])
    task = build_task(cfg)
    assert len(task.train.dataset) == 16 and len(task.val.dataset) == 16
    loss_fn, _ = build_loss(cfg.loss, task)
    *xs, y = next(iter(task.train))
    xs, y = [x[:2] for x in xs], y[:2]
    task.model.eval()
    with torch.no_grad():
        out = task.model(*xs)
        loss = loss_fn(out, y)
    want = {"binary": (2,), "multiclass": (2, task.num_classes),
            "segmentation": (2, task.num_classes, *y.shape[1:])}[task.kind]
    assert tuple(out.shape) == want and torch.isfinite(loss)
    # the monitor (as runner.train resolves it) is recorded, and the schedule preview, which does
    # not build the task, follows it in the same direction (ReduceLROnPlateau's mode)
    watch = resolve_monitor(cfg.training, task.metric)
    assert watch.name in {"val_loss"} | {f"val_{name}" for name in _metrics(task)}
    assert resolve_monitor(cfg.training).mode == watch.mode

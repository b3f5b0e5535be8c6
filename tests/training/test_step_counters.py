"""The training-step bookkeeping: the batched loader yields what a per-example DataLoader yields,
and the epoch's train loss / accuracy / F1 come out of the per-step counters exactly."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from fitdoctor.training.config import build_config
from fitdoctor.training.module import FitModule
from fitdoctor.training.tasks import TaskData
from fitdoctor.training.tasks.common import EpochShuffle, loader


def test_batched_loader_matches_a_per_example_loader():
    x, y = torch.arange(203 * 3, dtype=torch.float32).reshape(203, 3), torch.arange(203) % 7
    fast = loader(x, y, batch_size=16, shuffle=True, seed=3)
    fast.sampler.set_epoch(2)
    slow_sampler = EpochShuffle(203, 3)
    slow_sampler.set_epoch(2)
    slow = DataLoader(TensorDataset(x, y), batch_size=16, sampler=slow_sampler)
    got, want = list(fast), list(slow)
    assert len(got) == len(want) == 13
    for (a, b), (c, d) in zip(got, want):
        assert torch.equal(a, c) and torch.equal(b, d)


class Identity(torch.nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_train_counters_give_the_epoch_means(kind):
    gen = torch.Generator().manual_seed(0)
    cfg = build_config({"task": {"name": "image"}, "training": {"epochs": 1}})
    task = TaskData(model=Identity(), train=None, val=None, num_classes=2 if kind == "binary" else 4,
                    kind=kind, metric="acc", default_loss="ce", train_targets=None, description="")
    loss_fn = torch.nn.BCEWithLogitsLoss() if kind == "binary" else torch.nn.CrossEntropyLoss()
    module = FitModule(task, cfg, loss_fn)
    outs, ys, losses, sizes = [], [], [], [5, 8, 3]
    for i, n in enumerate(sizes):
        if kind == "binary":
            out, y = torch.randn(n, generator=gen), torch.randint(0, 2, (n,), generator=gen).float()
        else:
            out, y = torch.randn(n, 4, generator=gen), torch.randint(0, 4, (n,), generator=gen)
        module.training_step((out, y), i)
        outs.append(out), ys.append(y), losses.append(float(loss_fn(out, y)) * n)
    tot = module._train_totals().tolist()
    pred = torch.cat([(o > 0).long() if kind == "binary" else o.argmax(1) for o in outs]).numpy()
    target = torch.cat(ys).long().numpy()
    assert tot[0] / tot[1] == pytest.approx(sum(losses) / sum(sizes), rel=1e-6)
    assert tot[1] == sum(sizes) and module.train_examples == sum(sizes)
    assert tot[2] == (pred == target).sum()
    if kind == "binary":
        tn, fn, fp, tp = tot[3:7]
        assert (tn, fn, fp, tp) == (np.sum((pred == 0) & (target == 0)), np.sum((pred == 0) & (target == 1)),
                                    np.sum((pred == 1) & (target == 0)), np.sum((pred == 1) & (target == 1)))


def test_the_gpu_finite_probe_never_waits_and_catches_a_nan(monkeypatch):
    """The GPU path's logic, with the CUDA event stood in for: the first probe only queues a
    check; the next one reads its answer (once the event says the copy landed) and stops."""
    class Event:
        landed = False

        def record(self):
            pass

        def query(self):
            return Event.landed

    monkeypatch.setattr(torch.cuda, "Event", Event)
    cfg = build_config({"task": {"name": "image"}, "training": {"epochs": 1}})
    task = TaskData(model=Identity(), train=None, val=None, num_classes=3, kind="multiclass", metric="acc",
                    default_loss="ce", train_targets=None, description="")
    module = FitModule(task, cfg, torch.nn.CrossEntropyLoss())
    module._probe._host = torch.zeros((), dtype=torch.bool)    # pinned memory needs a GPU
    module.trainer = type("T", (), {"should_stop": False, "current_epoch": 0, "global_step": 7})()
    module._steps = [(torch.tensor(0.5), 4, None, None), (torch.tensor(float("nan")), 4, None, None)]
    assert module._probe_finite() is False and module._probe.busy            # queued, not read
    assert module._probe_finite() is False and module.non_finite is None     # the copy has not landed
    Event.landed = True
    assert module._probe_finite() is True and module.non_finite == (0, 7) and module.trainer.should_stop
    module.non_finite, module._steps = None, [(torch.tensor(0.5), 4, None, None)]
    assert module._probe_finite() is False and module._probe_finite() is False and module.non_finite is None

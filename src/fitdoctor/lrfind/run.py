"""lr-find for a run config: the task's model, loss and optimizer, repeated over batches and
seeds, with the cost in epochs of compute."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UsageError
from ..training.config import RunConfig, edit_config_text, parse_overrides
from ..training.losses import build_loss
from ..training.optim import make_optimizer
from ..training.tasks import build_task
from ..training.tasks.common import EpochShuffle
from . import MAX_LR, MIN_LR, STEPS, LRFindResult, range_test, suggest, summarize


def find_lr(cfg: RunConfig, *, min_lr: float = MIN_LR, max_lr: float = MAX_LR, steps: int = STEPS,
            repeats: int = 1, on_repeat=None, flag=None) -> LRFindResult:
    """The range test on ``cfg``'s task, ``repeats`` times; the result's reasons name these
    parameters, or with ``flag`` (name -> option) the options that set them."""
    device = "cuda" if torch.cuda.is_available() and cfg.training.accelerator != "cpu" else "cpu"
    torch.manual_seed(cfg.training.seed)
    task = build_task(cfg)
    loss_fn, _ = build_loss(cfg.loss, task)
    net = task.model.to(device)
    loss_fn = loss_fn.to(device)
    curves = []
    for r in range(repeats):
        torch.manual_seed(cfg.training.seed + 1000 * r)
        sampler = EpochShuffle(len(task.train.dataset), cfg.training.seed + r)
        sampler.set_epoch(r)
        batches = torch.utils.data.DataLoader(task.train.dataset, batch_size=task.train.batch_size,
                                              sampler=sampler, collate_fn=task.train.collate_fn,
                                              pin_memory=task.train.pin_memory)
        opt = make_optimizer(cfg.training, [p for p in net.parameters() if p.requires_grad], min_lr)
        curve = range_test(net, opt, loss_fn, batches, min_lr=min_lr, max_lr=max_lr, steps=steps,
                           device=device)
        curves.append(curve)
        if on_repeat:
            on_repeat(r, curve, suggest(curve)[0])
    return summarize(curves, batches_per_epoch=len(task.train), min_lr=min_lr,
                     pretrained=task.pretrained, flag=flag)


def applied_config(config: str, overrides: list[str], cfg: RunConfig, result: LRFindResult, target: str) -> str:
    """The text of ``config`` as written (comments, key order) with the --set overrides the ramp
    used and the suggested LR (OneCycleLR's max_lr, else the learning rate), for ``target``. A
    refused suggestion is never written."""
    if result.suggestion is None:
        raise UsageError(f"no LR to apply, {target} not written: {result.message}")
    key = "training.scheduler_params.max_lr" if cfg.training.scheduler == "OneCycleLR" \
        else "training.learning_rate"
    return edit_config_text(Path(config).read_text(encoding="utf-8"),
                            parse_overrides(overrides) + [(key, float(f"{result.suggestion:.3g}"))],
                            where=config)

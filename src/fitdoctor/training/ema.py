"""EMA of the weights, on torch's AveragedModel: ``decay``, and an optional warmup of the decay
(decay_t = min(decay, (1 + t) / (10 + t))) so early averages are not dominated by the random
initial weights."""

from __future__ import annotations

import torch
from torch.optim.swa_utils import AveragedModel


def make_ema(model: torch.nn.Module, decay: float, warmup: bool) -> AveragedModel:
    @torch.no_grad()
    def ema_update(ema_params, current_params, num_averaged):
        d = min(decay, (1 + float(num_averaged)) / (10 + float(num_averaged))) if warmup else decay
        floats = [(e, c) for e, c in zip(ema_params, current_params) if e.is_floating_point()]
        if floats:
            torch._foreach_lerp_([e for e, _ in floats], [c for _, c in floats], 1 - d)
        for e, c in zip(ema_params, current_params):       # counters (BatchNorm) are copied
            if not e.is_floating_point():
                e.copy_(c)

    ema = AveragedModel(model, multi_avg_fn=ema_update, use_buffers=True)
    # the copy is never trained (updated under no_grad): frozen, or DistributedDataParallel, which
    # wraps the whole LightningModule, waits for gradients of its parameters and fails at the
    # second step ("parameters that were not used in producing the loss")
    return ema.requires_grad_(False)

"""The optimizer a run config asks for (the trainer and lr-find build it the same way)."""

from __future__ import annotations

import torch


def make_optimizer(training, params, lr: float | None = None, *, graph_safe: bool = False) -> torch.optim.Optimizer:
    """AdamW, Adam or SGD (momentum, nesterov) with the config's weight decay; ``lr`` overrides
    ``training.learning_rate``. ``graph_safe`` (Adam/AdamW on a GPU, for fast mode): the fused
    kernel, capturable, so its step can be captured in a CUDA graph with the LR a device tensor."""
    lr = training.learning_rate if lr is None else lr
    if training.optimizer == "SGD":
        return torch.optim.SGD(params, lr=lr, momentum=training.momentum, nesterov=training.nesterov,
                               weight_decay=training.weight_decay)
    cls = torch.optim.AdamW if training.optimizer == "AdamW" else torch.optim.Adam
    extra = {"fused": True, "capturable": True} if graph_safe else {}
    return cls(params, lr=lr, weight_decay=training.weight_decay, **extra)

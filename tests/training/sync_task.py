"""A user task (tests: fast mode on a GPU) whose model reads a value back to the host in its
forward, which a CUDA graph cannot capture."""

import torch

from fitdoctor.training.tasks import build_task


class ReadsBack(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        if x.abs().sum().item() < 0:         # a host synchronisation
            x = -x
        return self.net(x)


def build(cfg):
    task = build_task(cfg.model_copy(update={"task": cfg.task.model_copy(update={"name": "image"})}))
    task.model = ReadsBack(task.model)
    return task

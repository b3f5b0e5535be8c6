"""User tasks (tests: a non-finite loss under DDP on 2 processes of 32): the image task with one
training image made inf, in one rank's block of one step of epoch 0 (fast mode: a step takes the
next 64 examples of the epoch's order, rank r the r-th block of 32)."""

from fitdoctor.training.tasks import build_task


def _with_inf_at(cfg, position: int):
    task = build_task(cfg.model_copy(update={"task": cfg.task.model_copy(update={"name": "image"})}))
    sampler = task.train.sampler                  # EpochShuffle, at epoch 0
    task.train.dataset.tensors[0][list(sampler)[position]] = float("inf")
    return task


def rank0_first_step(cfg):
    """Rank 0's loss is NaN at the epoch's first step, rank 1's finite."""
    return _with_inf_at(cfg, 0)


def rank1_fourth_step(cfg):
    """Rank 1's loss is NaN at step 3; rank 0's at step 4, once the averaged gradient spread it."""
    return _with_inf_at(cfg, 3 * 64 + 32)

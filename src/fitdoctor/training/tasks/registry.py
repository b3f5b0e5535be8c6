"""Built-in tasks on real data (see shared DATA.md) and user tasks.

A task builder takes the RunConfig and returns a TaskData: the model, the data loaders and what
to measure. ``task.name`` is a built-in name or ``"package.module:function"``, which is only
imported and called, never evaluated."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import torch
from torch.utils.data import DataLoader

from ...errors import ConfigError


@dataclass
class TaskData:
    model: torch.nn.Module
    train: DataLoader
    val: DataLoader
    num_classes: int
    kind: Literal["multiclass", "binary", "segmentation"]
    metric: str                       # canonical metric: acc | f1 | fscore
    default_loss: str                 # ce | bce | ce_dice
    train_targets: torch.Tensor       # for pos_weight: auto and class counts
    description: str                  # which real data, in words
    independent_examples: bool = True  # False for pixels of tiles: no sqrt(p(1-p)/N) then
    pretrained: bool = False          # the model starts from pretrained weights (lr-find says more)
    # image and sentiment: {"split": {"train": indices, "val": indices}} into their dataset, so the
    # examples in neither (a held-out test set) can be found (bench/truth uses them as the truth)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def val_size(self) -> int | None:
        """Validation examples, for the sampling error of a proportion (None for pixels)."""
        return len(self.val.dataset) if self.independent_examples else None


def _builtin(name: str) -> Callable:
    if name == "image":
        from .image import build_image
        return build_image
    if name == "segmentation":
        from .segmentation import build_segmentation
        return build_segmentation
    if name == "sentiment":
        from .sentiment import build_sentiment
        return build_sentiment
    raise KeyError(name)


BUILTIN = ("image", "sentiment", "segmentation")


def build_task(cfg) -> TaskData:
    name = cfg.task.name
    if name in BUILTIN:
        return _builtin(name)(cfg)
    if ":" not in name:
        raise ConfigError(f"task.name: unknown task {name!r}; built-in tasks are "
                          f"{', '.join(BUILTIN)}, or give 'package.module:function'.")
    module_name, _, func_name = name.partition(":")
    if os.getcwd() not in sys.path:      # "examples.my_task:build" from the project folder
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"task.name {name!r}: cannot import {module_name!r} ({exc}).") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ConfigError(f"task.name {name!r}: {module_name} has no function {func_name!r}.")
    data = func(cfg)
    if not isinstance(data, TaskData):
        raise ConfigError(f"task.name {name!r}: {func_name}() must return a fitdoctor TaskData, "
                          f"got {type(data).__name__}.")
    return data

"""A user task for fitdoctor: an MLP on scikit-learn's wine data (178 real wine analyses, 3
cultivars). Use it with

    task:
      name: examples.wine_task:build

and run ``fitdoctor train examples/wine.yaml`` from the project folder. A task is a function
that takes the RunConfig and returns a TaskData; fitdoctor only imports and calls it."""

import numpy as np
import torch
from sklearn.datasets import load_wine
from torch import nn

from fitdoctor.training.tasks import TaskData
from fitdoctor.training.tasks.common import loader, stratified_split


def build(cfg) -> TaskData:
    seed = cfg.training.seed
    data = load_wine()
    x = data.data.astype(np.float32)
    y = data.target.astype(np.int64)
    train_idx, val_idx = stratified_split(y, 0.3, seed)
    mean, std = x[train_idx].mean(0), x[train_idx].std(0) + 1e-6     # scale on train only
    x = torch.from_numpy((x - mean) / std)
    y = torch.from_numpy(y)
    width = cfg.model.width
    model = nn.Sequential(nn.Linear(13, width), nn.ReLU(), nn.Dropout(cfg.model.dropout),
                          nn.Linear(width, 3))
    bs = cfg.task.batch_size
    return TaskData(model=model,
                    train=loader(x[train_idx], y[train_idx], bs, True, seed),
                    val=loader(x[val_idx], y[val_idx], bs, False, seed),
                    num_classes=3, kind="multiclass", metric="acc", default_loss="ce",
                    train_targets=y[train_idx],
                    description=f"scikit-learn wine: {len(train_idx)} train / {len(val_idx)} validation")

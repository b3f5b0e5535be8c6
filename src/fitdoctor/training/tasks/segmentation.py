"""``segmentation``: a small U-Net on tiles of the bundled fluorescence image of cell nuclei
(stardist's img2d.tif with its instance mask, 512x512; mirrors the face-parsing project).
The left three quarters train, the right quarter is held out for validation. Targets:
background / nucleus, or with ``task.dataset: nuclei_boundary`` also the nucleus boundary.
Loss CE + Dice by default; the metric is the mean F-score over classes on pixels."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from ...errors import ConfigError
from . import TaskData
from .common import loader
from .image import _package_dir

TILE, STRIDE, SPLIT_X = 64, 32, 384


def load_nuclei() -> tuple[np.ndarray, np.ndarray]:
    import tifffile

    base = os.path.join(_package_dir("stardist"), "data", "images")
    img = tifffile.imread(os.path.join(base, "img2d.tif")).astype(np.float32)
    mask = tifffile.imread(os.path.join(base, "mask2d.tif")).astype(np.int64)
    lo, hi = np.percentile(img, [1, 99.8])
    return np.clip((img - lo) / (hi - lo), 0, 1).astype(np.float32), mask


def targets(mask: np.ndarray, boundary: bool) -> np.ndarray:
    y = (mask > 0).astype(np.int64)
    if boundary:
        pad = np.pad(mask, 1, mode="edge")
        edge = np.zeros_like(mask, dtype=bool)
        for dy, dx in ((0, 1), (1, 0), (1, 2), (2, 1)):
            edge |= pad[dy:dy + mask.shape[0], dx:dx + mask.shape[1]] != mask
        y[(mask > 0) & edge] = 2
    return y


def tiles(img: np.ndarray, y: np.ndarray, x0: int, x1: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for r in range(0, img.shape[0] - TILE + 1, stride):
        for c in range(x0, x1 - TILE + 1, stride):
            xs.append(img[r:r + TILE, c:c + TILE])
            ys.append(y[r:r + TILE, c:c + TILE])
    return np.stack(xs)[:, None], np.stack(ys)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    def __init__(self, classes: int, width: int = 16, dropout: float = 0.1):
        super().__init__()
        w = width
        self.enc1, self.enc2 = _block(1, w), _block(w, 2 * w)
        self.bottom = nn.Sequential(_block(2 * w, 4 * w), nn.Dropout2d(dropout))
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), _block(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _block(2 * w, w)
        self.head = nn.Conv2d(w, classes, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        b = self.bottom(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.head(d1)


def build_segmentation(cfg) -> TaskData:
    t, seed = cfg.task, cfg.training.seed
    dataset = t.dataset or "nuclei"
    if dataset not in ("nuclei", "nuclei_boundary"):
        raise ConfigError(f"task.dataset: segmentation datasets are nuclei, nuclei_boundary; got {dataset!r}.")
    img, mask = load_nuclei()
    y = targets(mask, dataset == "nuclei_boundary")
    classes = int(y.max()) + 1
    xt, yt = tiles(img, y, 0, SPLIT_X, STRIDE)
    xv, yv = tiles(img, y, SPLIT_X, img.shape[1], TILE)
    rng = np.random.default_rng(seed)
    if t.train_size and t.train_size < len(xt):
        keep = np.sort(rng.choice(len(xt), t.train_size, replace=False))
        xt, yt = xt[keep], yt[keep]
    if t.val_size and t.val_size < len(xv):
        xv, yv = xv[: t.val_size], yv[: t.val_size]
    xt, yt, xv, yv = map(torch.from_numpy, (xt, yt, xv, yv))
    return TaskData(
        model=UNet(classes, cfg.model.width if cfg.model.width != 32 else 16, cfg.model.dropout),
        train=loader(xt, yt, t.batch_size, True, seed, t.num_workers),
        val=loader(xv, yv, t.batch_size, False, seed, t.num_workers),
        num_classes=classes, kind="segmentation", metric="f1", default_loss="ce_dice",
        train_targets=yt.flatten(), independent_examples=False,
        description=f"stardist nuclei image: {len(xt)} train tiles (x < {SPLIT_X}) / {len(xv)} "
                    f"held-out validation tiles of {TILE}x{TILE}, {classes} classes")

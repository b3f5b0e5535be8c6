"""Losses: cross-entropy with label smoothing, BCE-with-logits with ``pos_weight: auto``,
focal loss with label smoothing, and CE + Dice for segmentation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


def auto_pos_weight(targets: torch.Tensor) -> float:
    """negatives / positives, counted on the training set."""
    pos = float((targets > 0.5).sum())
    neg = float(targets.numel() - pos)
    if pos == 0:
        raise ConfigError("loss.pos_weight: auto needs positives in the training set; found none.")
    return neg / pos


class FocalLoss(nn.Module):
    """Multi-class focal loss (Lin et al. 2017) on label-smoothed targets."""

    def __init__(self, gamma: float = 2.0, label_smoothing: float = 0.0):
        super().__init__()
        self.gamma, self.smoothing = gamma, label_smoothing

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits, dim=1)
        k = logits.shape[1]
        soft = F.one_hot(target, k).to(logp.dtype).movedim(-1, 1)
        soft = soft * (1 - self.smoothing) + self.smoothing / k
        focal = (1 - logp.exp()) ** self.gamma
        return -(soft * focal * logp).sum(dim=1).mean()


class DiceLoss(nn.Module):
    """1 - mean soft Dice over classes, from softmax probabilities."""

    def __init__(self, eps: float = 1.0):
        super().__init__()
        self.eps = eps

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        prob = logits.softmax(dim=1)
        onehot = F.one_hot(target, logits.shape[1]).movedim(-1, 1).to(prob.dtype)
        dims = (0,) + tuple(range(2, prob.ndim))
        inter = (prob * onehot).sum(dims)
        denom = prob.sum(dims) + onehot.sum(dims)
        return 1 - ((2 * inter + self.eps) / (denom + self.eps)).mean()


class CEDice(nn.Module):
    def __init__(self, ce_weight: float, dice_weight: float, label_smoothing: float = 0.0):
        super().__init__()
        self.ce = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.dice = DiceLoss()
        self.wc, self.wd = ce_weight, dice_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.wc * self.ce(logits, target) + self.wd * self.dice(logits, target)


class SmoothedBCE(nn.Module):
    """BCE with logits; label smoothing pulls targets towards 0.5."""

    def __init__(self, pos_weight: float | None, label_smoothing: float = 0.0):
        super().__init__()
        pw = torch.tensor(pos_weight) if pos_weight is not None else None
        self.register_buffer("pos_weight", pw if pw is not None else torch.tensor(1.0))
        self.smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target.float() * (1 - self.smoothing) + 0.5 * self.smoothing
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=self.pos_weight)


def build_loss(loss_cfg, task) -> tuple[nn.Module, dict]:
    """The loss module and what was resolved (e.g. the pos_weight counted)."""
    kind = loss_cfg.type or task.default_loss
    info: dict = {"type": kind}
    if kind == "ce":
        return nn.CrossEntropyLoss(label_smoothing=loss_cfg.label_smoothing), info
    if kind == "focal":
        return FocalLoss(loss_cfg.gamma, loss_cfg.label_smoothing), info
    if kind == "ce_dice":
        return CEDice(loss_cfg.ce_weight, loss_cfg.dice_weight, loss_cfg.label_smoothing), info
    if task.kind != "binary":
        raise ConfigError(f"loss.type: bce needs a binary task (task.positive_class), the task is {task.kind}.")
    pw = loss_cfg.pos_weight
    if pw == "auto":
        pw = auto_pos_weight(task.train_targets)
        info["pos_weight"] = pw
    return SmoothedBCE(pw, loss_cfg.label_smoothing), info

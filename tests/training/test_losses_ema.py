import pytest
import torch
import torch.nn.functional as F

from fitdoctor.training.ema import make_ema
from fitdoctor.training.losses import CEDice, DiceLoss, FocalLoss, auto_pos_weight


def test_focal_with_gamma_0_is_label_smoothed_cross_entropy():
    torch.manual_seed(0)
    logits, target = torch.randn(16, 5), torch.randint(0, 5, (16,))
    ce = F.cross_entropy(logits, target, label_smoothing=0.1)
    assert FocalLoss(gamma=0.0, label_smoothing=0.1)(logits, target) == pytest.approx(ce.item(), rel=1e-5)
    assert FocalLoss(gamma=2.0)(logits, target) < F.cross_entropy(logits, target)


def test_dice_is_zero_for_a_perfect_prediction_and_weights_add_up():
    target = torch.randint(0, 3, (2, 8, 8))
    perfect = F.one_hot(target, 3).movedim(-1, 1).float() * 50
    assert DiceLoss()(perfect, target) == pytest.approx(0.0, abs=1e-3)
    logits = torch.randn(2, 3, 8, 8)
    both = CEDice(1.0, 1.5)(logits, target)
    assert both == pytest.approx((F.cross_entropy(logits, target) + 1.5 * DiceLoss()(logits, target)).item(), rel=1e-5)


def test_auto_pos_weight_counts_negatives_over_positives():
    assert auto_pos_weight(torch.tensor([1.0, 0, 0, 0, 1, 0, 0, 0, 0, 0])) == 4.0


def test_ema_follows_decay_and_warmup():
    net = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema = make_ema(net, decay=0.5, warmup=False)
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update_parameters(net)                     # the first update copies the weights (1.0)
    w1 = ema.module.weight.item()
    with torch.no_grad():
        net.weight.fill_(3.0)
    ema.update_parameters(net)
    assert ema.module.weight.item() == pytest.approx(0.5 * w1 + 0.5 * 3.0)
    warm = make_ema(net, decay=0.999, warmup=True)
    warm.update_parameters(net)
    with torch.no_grad():
        net.weight.fill_(5.0)
    warm.update_parameters(net)                    # decay_1 = min(0.999, 2/11)
    assert warm.module.weight.item() == pytest.approx(3.0 + (5.0 - 3.0) * (1 - 2 / 11))

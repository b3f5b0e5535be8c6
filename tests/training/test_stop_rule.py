import math

from fitdoctor.training.early_stopping import StopReason, StopRule


def feed(rule, values, **kw):
    for epoch, v in enumerate(values):
        d = rule.update(epoch, v, **kw)
        if d.stop:
            return epoch, d
    return None, None


def test_patience_on_raw_values():
    epoch, d = feed(StopRule(mode="max", patience=2), [0.5, 0.6, 0.59, 0.58, 0.7])
    assert (epoch, d.reason) == (3, StopReason.PATIENCE)


def test_smoothing_is_not_fooled_as_early_by_a_single_lucky_epoch():
    values = [0.60, 0.61, 0.62, 0.75, 0.63, 0.64, 0.65, 0.66, 0.67, 0.68, 0.69, 0.70]
    raw, _ = feed(StopRule(mode="max", patience=3), values)
    smooth, _ = feed(StopRule(mode="max", patience=3, smoothing=3), values)
    assert raw == 6 and smooth == 8               # the trend still rises: the raw rule quit first


def test_min_delta_relative_and_min_mode():
    epoch, _ = feed(StopRule(mode="min", patience=2, min_delta=0.1, min_delta_mode="rel"),
                    [1.0, 0.95, 0.93, 0.5])
    assert epoch == 2                              # 5 % and 7 % are not a 10 % improvement


def test_max_gap_for_k_epochs():
    rule = StopRule(mode="max", patience=50, max_gap=0.2, gap_patience=2)
    gaps = [0.1, 0.25, 0.1, 0.3, 0.35]
    stop = [rule.update(e, 0.5 + 0.01 * e, gap=g) for e, g in enumerate(gaps)]
    assert [d.stop for d in stop] == [False, False, False, False, True]
    assert stop[-1].reason is StopReason.MAX_GAP


def test_restart_aware_waits_for_the_next_restart():
    flat = [0.8] + [0.7] * 30
    plain, _ = feed(StopRule(mode="max", patience=3, restart_aware=False), flat)
    aware = StopRule(mode="max", patience=3)
    stopped = None
    for e, v in enumerate(flat):
        d = aware.update(e, v, epochs_to_restart=max(1, 10 - e))    # next restart at epoch 10
        if d.stop:
            stopped = e
            break
    assert plain == 3 and stopped is not None and stopped >= 10 + 3 - 1


def test_non_finite_stops_at_once():
    _, d = feed(StopRule(), [0.5, math.nan])
    assert d.reason is StopReason.NON_FINITE


def test_state_dict_round_trip():
    a = StopRule(mode="max", patience=4, smoothing=3, max_gap=0.3)
    for e, v in enumerate([0.5, 0.6, 0.55, 0.54]):
        a.update(e, v, gap=0.35)
    b = StopRule(mode="max", patience=4, smoothing=3, max_gap=0.3)
    b.load_state_dict(a.state_dict())
    for e, v in enumerate([0.53, 0.52, 0.51, 0.5], start=4):
        assert a.update(e, v, gap=0.1).stop == b.update(e, v, gap=0.1).stop
    assert a.state_dict() == b.state_dict()


def test_an_improvement_clears_the_hold_for_the_restart():
    """catches: the post-restart hold not cleared on an improvement (the run then stops at
    epoch 13, three epochs after the restart that improved it, instead of 23).

    Warm restarts every 10 epochs (at 10, 20, 30), patience 3. By hand:
    - best 0.80 at epoch 0; epochs 1-3 do not improve: patience runs out at epoch 3, and the
      rule holds until the next restart (epoch 3 + 7 to go = 10) plus the patience: epoch 13;
    - the restart at epoch 10 improves (0.85): wait and hold start over;
    - epochs 11-13 do not improve: patience runs out at 13, with 7 epochs to the next restart:
      hold until 13 + 7 + 3 = 23; the restart at 20 brings nothing; it stops at epoch 23, after
      13 epochs without improvement."""
    values = [0.80] + [0.70] * 9 + [0.85] + [0.75] * 29
    rule = StopRule(mode="max", patience=3)
    for epoch, v in enumerate(values):
        d = rule.update(epoch, v, epochs_to_restart=10 - epoch % 10)
        if d.stop:
            break
    assert epoch == 23 and d.reason is StopReason.PATIENCE
    assert rule.best == 0.85 and rule.wait == 13
    assert "for 13 epochs" in d.message

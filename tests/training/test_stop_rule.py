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


# ---------------------------------------------------------------- the rule's parts, by hand
# (written against mutmut's survivors: each assertion pins one comparison or constant)

def test_train_val_gap_signs_and_names():
    from fitdoctor.training.early_stopping import train_val_gap

    # an accuracy: train - val; the metric name is everything after the split prefix
    assert train_val_gap({"train_top1_acc": 0.875, "val_top1_acc": 0.625}, "val_top1_acc") == 0.25
    # a loss: val - train, positive when training is better
    assert train_val_gap({"train_loss": 0.25, "val_loss": 0.75}, "val_loss") == 0.5
    assert train_val_gap({"val_acc": 0.5}, "val_acc") is None             # no training value
    assert train_val_gap({"train_acc": 0.5}, "val_acc") is None           # no validation value
    assert train_val_gap({}, "val_acc") is None


def test_defaults():
    rule = StopRule()
    assert (rule.mode, rule.patience, rule.min_delta, rule.min_delta_mode) == ("max", 10, 0.0, "abs")
    assert (rule.smoothing, rule.max_gap, rule.gap_patience, rule.restart_aware) == (1, None, 3, True)
    # gap_patience 3 by default: the third epoch in a row above max_gap stops
    rule = StopRule(patience=50, max_gap=0.25)
    stops = [rule.update(e, 0.5 + 0.125 * e, gap=0.5).stop for e in range(3)]
    assert stops == [False, False, True]


def test_min_delta_absolute_and_relative_strictly():
    # absolute, max mode: 0.5 then 0.75 is exactly best + 0.25, not more: no improvement
    rule = StopRule(mode="max", min_delta=0.25)
    assert rule.update(0, 0.5).improved and not rule.update(1, 0.75).improved
    assert rule.update(2, 0.875).improved and rule.best == 0.875
    # absolute, min mode: 1.0 -> 0.75 is exactly best - 0.25: no; 0.625 is
    rule = StopRule(mode="min", min_delta=0.25)
    assert rule.update(0, 1.0).improved and not rule.update(1, 0.75).improved
    assert rule.update(2, 0.625).improved
    # relative: 25 % of |best| 2.0 is 0.5, so 2.25 (enough in absolute terms) is not enough
    rel = StopRule(mode="max", min_delta=0.25, min_delta_mode="rel")
    ab = StopRule(mode="max", min_delta=0.25, min_delta_mode="abs")
    for rule in (rel, ab):
        rule.update(0, 2.0)
    assert not rel.update(1, 2.25 + 0.125).improved and ab.update(1, 2.25 + 0.125).improved
    assert not rel.update(2, 2.5).improved and rel.update(3, 2.625).improved


def test_smoothing_averages_the_last_values():
    rule = StopRule(mode="max", smoothing=2)
    rule.update(0, 1.0)
    rule.update(1, 3.0)
    assert rule.best == 2.0                      # (1 + 3) / 2
    rule.update(2, 0.0)                          # (3 + 0) / 2 = 1.5: no improvement
    assert rule.best == 2.0 and rule.wait == 1


def test_messages_and_improved_flags():
    _, d = feed(StopRule(), [0.5, math.nan])
    assert d.message == "monitored value is nan at epoch 1" and d.stop
    from fitdoctor.training.early_stopping import Decision

    rule = StopRule(mode="max", patience=2)
    assert rule.update(0, 0.5) == Decision(False, improved=True)
    d1, d2 = rule.update(1, 0.25), rule.update(2, 0.25)
    assert d1.stop is False and d1.improved is False
    assert d2.stop and d2.improved is False and d2.reason is StopReason.PATIENCE
    assert d2.message == "no improvement of the monitored metric for 2 epochs (best 0.5)"
    epoch, d = feed(StopRule(mode="max", patience=2, smoothing=3), [0.5, 0.5, 0.5, 0.25])
    assert epoch == 2
    assert d.message == "no improvement of the 3-epoch average of the monitored metric for 2 " \
                        "epochs (best 0.5)"


def test_gap_strictly_above_max_gap_and_only_with_one():
    rule = StopRule(mode="max", patience=50, max_gap=0.25, gap_patience=2)
    assert not rule.update(0, 0.5, gap=0.25).stop       # equal is not above
    assert not rule.update(1, 0.5, gap=0.25).stop
    assert rule.gap_count == 0
    assert not rule.update(2, 0.5, gap=0.375).stop
    d = rule.update(3, 0.625, gap=0.5)
    assert d.stop and d.reason is StopReason.MAX_GAP and d.improved is True
    assert d.message == "train-val gap 0.5 above max_gap 0.25 for 2 epochs"
    # no max_gap: a gap is recorded nowhere and never stops the run
    rule = StopRule(mode="max", patience=50)
    assert not any(rule.update(e, 0.5, gap=9.0).stop for e in range(5)) and rule.gap_count == 0
    # a first epoch above max_gap counts one, not two
    rule = StopRule(mode="max", patience=50, max_gap=0.25, gap_patience=2)
    assert not rule.update(0, 0.5, gap=0.5).stop and rule.gap_count == 1


def test_state_dict_keys_and_the_restored_average():
    a = StopRule(mode="max", patience=4, smoothing=2)
    a.update(0, 1.0)
    a.update(1, 3.0)
    state = a.state_dict()
    assert state == {"recent": [1.0, 3.0], "best": 2.0, "wait": 0, "gap_count": 0,
                     "hold_until": None}
    b = StopRule(mode="max", patience=4, smoothing=2)
    b.load_state_dict(state)
    assert list(b.recent) == [1.0, 3.0] and b.recent.maxlen == 2
    d = b.update(2, 1.5)               # with the restored values: (3 + 1.5) / 2 = 2.25 > 2.0
    assert d.improved is True and b.best == 2.25


def test_load_state_dict_restores_every_counter_and_defaults_missing_ones():
    rule = StopRule(mode="max", patience=4, smoothing=2, max_gap=0.25)
    rule.load_state_dict({"recent": [0.5], "best": 0.75, "wait": 3, "gap_count": 1,
                          "hold_until": 12})
    assert (list(rule.recent), rule.best, rule.wait, rule.gap_count, rule.hold_until) == \
        ([0.5], 0.75, 3, 1, 12)
    rule.load_state_dict({})                                  # an older checkpoint: defaults
    assert (list(rule.recent), rule.best, rule.wait, rule.gap_count, rule.hold_until) == \
        ([], None, 0, 0, None)


def test_a_two_epoch_average_is_named_in_the_message():
    epoch, d = feed(StopRule(mode="max", patience=1, smoothing=2), [0.5, 0.5])
    assert epoch == 1
    assert d.message == "no improvement of the 2-epoch average of the monitored metric for 1 " \
                        "epochs (best 0.5)"

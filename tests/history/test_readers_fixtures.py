"""Formats for which no public log is bundled: small realistic fixtures written for fitdoctor,
plus TensorBoard event files written by torch at test time."""

import pytest

from fitdoctor.errors import LogFormatError, UsageError
from fitdoctor.history import read_histories, read_history

from ..conftest import FIXTURES


def test_keras_console_with_progress_bars():
    h = read_history(FIXTURES / "keras-console.log")
    assert h.format == "console" and h.n == 8
    assert h.values("val_acc")[-1] == pytest.approx(0.9417)
    assert h.values("lr")[3] == pytest.approx(5e-4)
    assert h.final_metrics == {"final_loss": pytest.approx(0.2301), "final_acc": pytest.approx(0.9401)}
    assert h.config["epochs"] == 8


def test_generic_key_value_log_with_tqdm_debris_and_a_repeated_line():
    h = read_history(FIXTURES / "generic-kv.log")
    assert h.n == 12 and h.monitor == "val_f1"
    assert {"step", "lr", "train_loss", "val_loss"} <= set(h.columns)
    assert any("repeated" in n for n in h.notes)


def test_seed_style_log_with_command_line_and_closing_summary(seed_log):
    h = read_history(seed_log("sst-try4"))
    assert h.n == 24 and h.epochs[0] == 0
    assert h.config["lr"] == pytest.approx(1e-5) and h.config["hidden_dropout_prob"] == 0.8
    assert h.final_metrics == {"val_acc": pytest.approx(0.429), "test_acc": pytest.approx(0.425)}
    short = read_history(seed_log("sst-try1"))
    assert short.values("val_acc")[34] == pytest.approx(0.39)    # "0.39", a short number


def test_mmcv_json_log():
    h = read_history(FIXTURES / "mmcv.log.json")
    assert h.format == "mmcv-json" and h.n == 8
    assert h.values("val_acc")[0] == pytest.approx(0.457)
    assert h.values("lr")[-1] == pytest.approx(0.025)


def test_plain_json_list_and_timm_summary():
    h = read_history(FIXTURES / "history.json")
    assert h.format == "json-list" and h.monitor == "val_acc" and h.n == 10
    t = read_history(FIXTURES / "timm-summary.csv")
    assert t.format == "timm-csv" and t.monitor == "val_acc"
    assert t.values("val_acc")[1] == pytest.approx(0.055)      # percent rescaled


def test_nan_loss_is_recorded_as_non_finite():
    h = read_history(FIXTURES / "nan-loss.log")
    assert h.non_finite == {"train_loss": 6.0}


def test_two_runs_in_one_file_need_a_choice():
    with pytest.raises(LogFormatError, match="run 1: epochs 0-5.*run 2: epochs 0-4"):
        read_history(FIXTURES / "two-runs.log")
    assert read_history(FIXTURES / "two-runs.log", run=2).n == 5
    with pytest.raises(UsageError, match="between 1 and 2"):
        read_history(FIXTURES / "two-runs.log", run=3)


def test_tensorboard_event_files(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as w:
        for epoch in range(6):
            w.add_scalar("epoch", epoch, epoch)
            w.add_scalar("train/loss", 1.0 / (epoch + 1), epoch)
            w.add_scalar("val/accuracy", 0.5 + 0.05 * epoch, epoch)
            w.add_scalar("lr-AdamW", 1e-3, epoch)
    h = read_history(tmp_path)
    assert h.format == "tensorboard" and h.n == 6 and h.monitor == "val_acc"
    assert h.values("val_acc")[-1] == pytest.approx(0.75)
    assert h.values("lr")[0] == pytest.approx(1e-3)


@pytest.mark.parametrize("content, match", [
    ("", "empty"),
    ("hello world\nnothing to see here\n", "no epoch lines with metrics"),
    ('{"log_history": 3}', "log_history"),
    ("\x00\x01\x02binary", "binary"),
    ('{"epoch": 1, "loss": 0.5}\n{"epoch": 2, "loss"', None),   # truncated last line: kept
])
def test_bad_input_gives_a_log_format_error(tmp_path, content, match):
    p = tmp_path / "bad.log"
    p.write_bytes(content.encode("latin-1"))
    if match is None:
        assert read_history(p).n == 1
        return
    with pytest.raises(LogFormatError, match=match):
        read_history(p)


def test_missing_file_and_bad_format_name(tmp_path):
    with pytest.raises(LogFormatError, match="no such file"):
        read_history(tmp_path / "nope.log")
    with pytest.raises(UsageError, match="--format must be one of"):
        read_history(FIXTURES / "history.json", fmt="xml")


def test_tensorboard_per_step_scalars_average_per_epoch(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as w:
        step = 0
        for epoch in range(5):
            for _ in range(4):
                w.add_scalar("epoch", epoch, step)
                w.add_scalar("train_loss_step", 1.0 / (epoch + 1), step)
                step += 1
            w.add_scalar("val_acc", 0.6 + 0.05 * epoch, step - 1)
    h = read_history(tmp_path)
    assert list(h.epochs) == [0, 1, 2, 3, 4]
    assert h.values("val_acc")[-1] == pytest.approx(0.8)
    assert any("averaged per epoch" in n for n in h.notes)
    assert h.values("train_loss")[1] == pytest.approx(0.5)

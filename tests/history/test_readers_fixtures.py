"""Formats for which no public log is bundled: small realistic fixtures written for fitdoctor,
plus TensorBoard event files written by torch at test time."""

import json

import pytest

from fitdoctor.errors import LogFormatError, UsageError
from fitdoctor.history import read_history
from fitdoctor.history.readers.tables import read_json_records

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
    for fmt in (None, "tensorboard", "hf"):       # not "a damaged event file" for tensorboard
        with pytest.raises(LogFormatError, match="nope.log: no such file"):
            read_history(tmp_path / "nope.log", fmt=fmt)
    with pytest.raises(UsageError, match="^fmt must be one of"):
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


# ---------------------------------------------------------------- TensorBoard, part by part
# (written against mutmut's survivors in history/readers/tensorboard.py)

def _events(tmp_path, write):
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as w:
        write(w)
    return tmp_path


def test_tensorboard_epoch_twin_wins_over_step_values_and_lr_is_the_epochs_first(tmp_path):
    """Lightning logs `loss_step` each step and `loss_epoch` once an epoch: the epoch twin is
    kept (the step values are not averaged into it); an LR that changes inside an epoch reads
    as the epoch's first value, the step column as the epoch's last step."""
    def write(w):
        step = 0
        for epoch in range(3):
            for k in range(4):
                w.add_scalar("epoch", epoch, step)                        # as Lightning does
                w.add_scalar("train_loss_step", 10.0 + k, step)          # would average 11.5
                w.add_scalar("lr-SGD", 0.1 * (epoch + 1) + 0.01 * k, step)
                step += 1
            w.add_scalar("train_loss_epoch", 1.0 / (epoch + 1), step - 1)
            w.add_scalar("val_acc", 0.5 + 0.125 * epoch, step - 1)
    h = read_history(_events(tmp_path, write))
    assert list(h.epochs) == [0, 1, 2]
    assert list(h.values("train_loss")) == pytest.approx([1.0, 0.5, 1 / 3])
    assert list(h.values("lr")) == pytest.approx([0.1, 0.2, 0.3])
    assert list(h.values("step")) == [3, 7, 11]
    assert list(h.values("val_acc")) == pytest.approx([0.5, 0.625, 0.75])


def test_tensorboard_epoch_scalar_logged_now_and_then_is_carried_forward(tmp_path):
    """An epoch scalar logged at each epoch's first step only: the steps after it belong to it
    (carried forward), and steps before the first one to the first epoch (carried back)."""
    def write(w):
        w.add_scalar("val_loss", 9.0, 0)                                  # before any epoch
        for step in range(1, 10):
            if step % 4 == 1:
                w.add_scalar("epoch", step // 4, step)
            w.add_scalar("val_loss", float(step // 4 + 1), step)
    h = read_history(_events(tmp_path, write))
    assert list(h.epochs) == [0, 1, 2]
    # epoch 0: steps 0-4 (9, 1, 1, 1, 2), epoch 1: steps 5-8 (2, 2, 2, 3)
    assert list(h.values("val_loss"))[:2] == pytest.approx([14 / 5, 9 / 4])


def test_tensorboard_without_an_epoch_scalar_uses_steps(tmp_path):
    def write(w):
        for step in range(5):
            w.add_scalar("val_loss_step", 1.0 / (step + 1), 10 * step)
    h = read_history(_events(tmp_path, write))
    assert any(n == "no 'epoch' scalar: TensorBoard steps used as the x axis" for n in h.notes)
    assert list(h.values("val_loss")) == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])
    assert not any("averaged" in n for n in h.notes)


def test_tensorboard_one_row_per_epoch_is_not_averaged(tmp_path):
    def write(w):
        for epoch in range(4):
            w.add_scalar("epoch", epoch, epoch)
            w.add_scalar("val_acc", 0.5 + 0.125 * epoch, epoch)
    h = read_history(_events(tmp_path, write))
    assert list(h.values("val_acc")) == pytest.approx([0.5, 0.625, 0.75, 0.875])
    assert not any("averaged" in n for n in h.notes)


def test_tensorboard_files_without_scalars_or_damaged(tmp_path):
    from fitdoctor.history.readers.tensorboard import is_event_file, read_tensorboard

    def write(w):
        w.add_text("note", "no scalars here", 0)
    path = _events(tmp_path / "text", write)
    with pytest.raises(LogFormatError, match="no scalar summaries"):
        read_tensorboard(str(path))
    assert is_event_file(str(path)) and not is_event_file(str(FIXTURES / "mlruns"))
    event = next(p for p in path.iterdir() if "tfevents" in p.name)
    assert is_event_file(str(event)) and not is_event_file(str(FIXTURES / "history.json"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "events.out.tfevents.1.host").write_bytes(event.read_bytes()[:40] + b"\xff" * 64)
    with pytest.raises(LogFormatError):       # TensorBoard skips the bad records: nothing left
        read_tensorboard(str(broken))


def test_tensorboard_two_values_an_epoch_are_averaged_too(tmp_path):
    def write(w):
        for step in range(6):
            w.add_scalar("epoch", step // 2, step)
            w.add_scalar("train_loss", float(step), step)
    h = read_history(_events(tmp_path, write))
    assert list(h.values("train_loss")) == pytest.approx([0.5, 2.5, 4.5])
    assert "TensorBoard scalars logged several times per epoch averaged per epoch" in h.notes


# ---------------------------------------------------------------- JSON records, part by part
# (written against mutmut's survivors in history/readers/tables.py's read_json_records)

def test_mmcv_train_iterations_averaged_and_val_taken_as_logged(tmp_path):
    """By hand: epoch 1 has train losses 1.0 and 2.0 (mean 1.5) at LRs 0.1 then 0.05 (the last
    one logged is the epoch's LR), a val record with top-1 40 (percent: 0.40); a 'test' record,
    a record with no epoch and the time/memory/iter fields are ignored; the first line (no mode)
    is the config. Epoch 2 has one train iteration (loss 0.5, a flag and a None skipped)."""
    lines = [
        {"seed": 7, "work_dir": "runs/x", "nested": {"a": 1}},
        {"mode": "train", "epoch": 1, "iter": 50, "lr": 0.1, "loss": 1.0, "time": 9.0,
         "memory": 100, "data_time": 3.0},
        {"mode": "train", "epoch": 1, "iter": 100, "lr": 0.05, "loss": 2.0, "time": 9.0},
        {"mode": "val", "epoch": 1, "iter": 10, "lr": 0.05, "accuracy_top-1": 40.0},
        {"mode": "test", "epoch": 1, "accuracy_top-1": 99.0},
        {"mode": "train", "iter": 5, "loss": 50.0},
        {"mode": "train", "epoch": 2, "iter": 50, "lr": 0.025, "loss": 0.5, "flag": True,
         "grad_norm": None},
        {"mode": "val", "epoch": 2, "accuracy_top-1": 50.0},
    ]
    p = tmp_path / "run.log.json"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    h = read_history(p)
    assert h.format == "mmcv-json" and list(h.epochs) == [1, 2]
    assert list(h.values("train_loss")) == pytest.approx([1.5, 0.5])
    assert list(h.values("lr")) == pytest.approx([0.05, 0.025])
    assert list(h.values("val_acc")) == pytest.approx([0.40, 0.50])
    assert not any(c in h.columns for c in ("train_time", "train_memory", "train_iter",
                                            "train_data_time", "train_flag", "train_grad_norm"))
    assert dict(h.config) == {"seed": 7, "work_dir": "runs/x"}
    assert "mmcv train iterations averaged per epoch" in h.notes


def test_deit_test_keys_are_validation_and_non_finite_values_are_found(tmp_path):
    """DeiT/DETR log.txt: 'test_*' keys are the evaluation on the validation set (read as val_*,
    said in a note) unless real val_* keys exist; n_parameters is not a metric; a NaN loss is
    reported with its epoch; DETR's coco_eval_bbox list gives map and map50."""
    recs = [{"epoch": 0, "train_loss": 2.0, "test_acc1": 40.0, "test_loss": 1.8,
             "n_parameters": 22000000, "test_coco_eval_bbox": [0.25, 0.5, 0.1]},
            {"epoch": 1, "train_loss": float("nan"), "test_acc1": 45.0, "test_loss": 1.7,
             "n_parameters": 22000000, "test_coco_eval_bbox": [0.3, 0.55, 0.1]}]
    p = tmp_path / "log.txt"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    h = read_history(p, fmt="jsonl")
    assert "val_loss" in h.columns and not any(c.startswith("test_") for c in h.columns)
    assert list(h.values("val_map")) == pytest.approx([0.25, 0.3])
    assert list(h.values("val_map50")) == pytest.approx([0.5, 0.55])
    assert "n_parameters" not in h.columns
    assert any("'test_*' keys are evaluations on the validation set" in n for n in h.notes)
    assert dict(h.non_finite) == {"train_loss": 1.0}
    # with val_* keys present, test_* stay test results
    recs2 = [{"epoch": e, "train_loss": 1.0 / (e + 1), "val_loss": 0.5, "test_loss": 0.6}
             for e in range(3)]
    p2 = tmp_path / "log2.txt"
    p2.write_text("\n".join(json.dumps(r) for r in recs2) + "\n")
    h2 = read_history(p2, fmt="jsonl")
    assert "test_loss" in h2.columns and list(h2.values("val_loss")) == [0.5, 0.5, 0.5]
    assert not any("'test_*' keys" in n for n in h2.notes)


def test_json_records_without_metrics_are_refused(tmp_path):
    p = tmp_path / "log.txt"
    p.write_text('{"epoch": 0, "note": "x"}\n{"epoch": 1, "note": "y"}\n')
    with pytest.raises(LogFormatError, match="no numeric metrics"):
        read_history(p, fmt="jsonl")


def test_lightning_csv_rows_merged_by_hand(tmp_path):
    """A CSVLogger metrics.csv written out of step order: per-step rows (train_loss_step, an LR
    that changes inside the epoch) and an end-of-epoch row (train_loss_epoch, val_acc). By hand:
    the epoch twin is kept over the steps' values, the LR is the epoch's first (by step), the
    step column the epoch's last, val_acc as logged; rows are ordered by step before the epoch
    is carried forward over the steps that lack it (step 2 belongs to epoch 0, so epoch 1's
    first LR is step 3's 0.004)."""
    rows = ["epoch,step,lr-AdamW,train_loss_step,train_loss_epoch,val_acc",
            "0,1,0.002,10.0,,",
            "0,0,0.001,20.0,,",
            "0,1,,,0.75,0.5",
            "1,3,0.004,30.0,,",
            ",2,0.003,40.0,,",
            "1,3,,,0.25,0.625"]
    p = tmp_path / "metrics.csv"
    p.write_text("\n".join(rows) + "\n")
    h = read_history(p)
    assert h.format == "lightning-csv" and list(h.epochs) == [0, 1]
    assert list(h.values("train_loss")) == pytest.approx([0.75, 0.25])
    assert list(h.values("lr")) == pytest.approx([0.001, 0.004])
    assert list(h.values("step")) == [2, 3]
    assert list(h.values("val_acc")) == pytest.approx([0.5, 0.625])
    assert "Lightning CSVLogger rows merged into one row per epoch" in h.notes
    assert not any(n.startswith("per-step values averaged") for n in h.notes)


def test_mmcv_non_finite_values_are_named_by_their_record_mode(tmp_path):
    """A NaN accuracy in a val record is the validation accuracy's, not the training's."""
    lines = [{"mode": "train", "epoch": 1, "lr": 0.1, "loss": 1.0},
             {"mode": "val", "epoch": 1, "accuracy_top-1": float("nan")},
             {"mode": "train", "epoch": 2, "lr": float("inf"), "loss": 0.8},
             {"mode": "val", "epoch": 2, "accuracy_top-1": 50.0}]
    p = tmp_path / "run.log.json"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert dict(read_history(p).non_finite) == {"val_acc": 1.0, "lr": 2.0}


def test_mmcv_restarted_epoch_counter_is_split_not_averaged(tmp_path):
    """Epochs 1, 2, then 1, 2 again (a second run appended): two runs, not one whose epoch 1
    train loss is the mean of both runs'."""
    lines = []
    for loss, acc in ((1.0, 40.0), (3.0, 20.0)):
        for epoch in (1, 2):
            lines += [{"mode": "train", "epoch": epoch, "lr": 0.1, "loss": loss / epoch},
                      {"mode": "val", "epoch": epoch, "accuracy_top-1": acc + epoch}]
    p = tmp_path / "run.log.json"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    runs = read_json_records(str(p), lines, "mmcv-json")
    assert len(runs) == 2
    assert list(runs[0][0]["train_loss"]) == [1.0, 0.5] and list(runs[1][0]["train_loss"]) == [3.0, 1.5]
    assert "epoch counter restarts 1 time(s): split into 2 runs" in runs[0][1]["notes"]


def test_mmcv_a_run_does_not_inherit_another_runs_nan(tmp_path):
    """Two runs appended to one log.json; only the second has a NaN loss (at its epoch 2)."""
    lines = []
    for run, losses in enumerate(((1.0, 0.5, 0.4), (1.0, float("nan"), 0.3))):
        for epoch, loss in enumerate(losses, start=1):
            lines += [{"mode": "train", "epoch": epoch, "lr": 0.1, "loss": loss},
                      {"mode": "val", "epoch": epoch, "accuracy_top-1": 40.0 + epoch + run}]
    (first, meta1), (second, meta2) = read_json_records("x", lines, "mmcv-json")
    assert meta1["non_finite"] == {} and meta2["non_finite"] == {"train_loss": 2.0}


def test_a_fifo_or_a_device_is_refused_not_read(tmp_path):
    import os
    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(LogFormatError, match="not a regular file"):
            read_history(path)


def test_a_yolov5_results_csv_is_read_by_default():
    """YOLOv5 v6's results.csv (a real one, tests/fixtures/SOURCES.md): space-padded headers with
    ':' in 'metrics/mAP_0.5:0.95' were not sniffed as CSV without --format csv, and its names
    were not mapped (precision was monitored instead of mAP; x/lr0, the bias group's warmup LR,
    would be the LR)."""
    from fitdoctor.diagnosis import diagnose

    h = read_history(FIXTURES / "yolov5-anpr-results.csv")
    assert h.format == "ultralytics-csv" and h.n == 20
    assert {"val_map", "val_map50", "val_precision", "val_recall", "lr", "lr_pg0", "lr_pg2"} <= set(h.columns)
    assert h.monitor == "val_map"
    assert h.values("val_map")[19] == 0.64718 and h.values("val_map50")[0] == 0.80734
    # lr is the weights' group (x/lr1: 0.0033244 at epoch 0), not the bias group's 0.070081
    assert h.values("lr")[0] == 0.0033244 and h.values("lr_pg0")[0] == 0.070081
    d = diagnose(h)
    assert d.monitor == "val_map" and d.best.epoch == 19.0

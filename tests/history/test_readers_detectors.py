"""Detector logs as their users diagnose them, on real files (tests/fixtures/SOURCES.md): YOLOv5's
headerless results.txt and its TensorBoard scalars (one run, written both ways by YOLOv5 itself),
and a detectron2 metrics.json with evaluation results on some lines and resumed runs appended."""

import json

import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.history import read_history

from ..conftest import FIXTURES

YOLO_RUN = FIXTURES / "yolov5-mushrooms-exp2"                     # runs/train/exp2, 100 epochs
YOLO_TXT = YOLO_RUN / "results.txt"
YOLO_EVENTS = YOLO_RUN / "events.out.tfevents.1612793791.amel-system.14690.0"
D2 = FIXTURES / "detectron2-ssod-metrics.json"
runner = CliRunner()


def diagnose(*args):
    return runner.invoke(app, ["diagnose", *map(str, args)])


def test_yolov5_results_txt_is_read_by_default():
    """Was: 'no epoch lines with metrics found (read as console text ...)', exit 2."""
    r = diagnose(YOLO_TXT, "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["format"] == "yolov5-txt" and d["n_points"] == 100
    assert d["monitor"]["name"] == "val_map"                     # mAP@.5:.95, not precision
    assert (d["best"]["epoch"], round(d["best"]["value"], 4)) == (92.0, 0.4266)
    text = diagnose(YOLO_TXT).stdout
    assert "Monitored metric: val_map (max)" in text and "Best: 0.4266 @ epoch 92" in text
    h = read_history(YOLO_TXT)
    assert list(h.epochs[[0, -1]]) == [0, 99]
    # the 15 columns of 'epoch 99': 0.03757 0.07069 0 (train box/obj/cls) ... 0.2969 0.7121
    # 0.5582 0.3633 (P R mAP@.5 mAP@.5:.95) 0.04283 0.05539 0 (val box/obj/cls)
    last = {c: h.values(c)[-1] for c in ("train_box_loss", "val_precision", "val_recall",
                                         "val_map50", "val_map", "val_obj_loss")}
    assert last == {"train_box_loss": 0.03757, "val_precision": 0.2969, "val_recall": 0.7121,
                    "val_map50": 0.5582, "val_map": 0.3633, "val_obj_loss": 0.05539}
    assert h.values("train_loss")[-1] == pytest.approx(0.03757 + 0.07069)
    assert "lr" not in h.columns                               # results.txt has no LR


def test_a_yolov5_run_directory_reads_its_results_txt():
    r = diagnose(YOLO_RUN)                   # before: its event file, the only file read
    assert r.exit_code == 0, r.output
    assert "Monitored metric: val_map (max)" in r.stdout and "Best: 0.4266 @ epoch 92" in r.stdout
    assert json.loads(diagnose(YOLO_RUN, "--json").stdout)["format"] == "yolov5-txt"


def test_yolov5_tensorboard_scalars_agree_with_its_results_txt():
    """Was: the step as x axis with no train_loss (so the verdict was a plateau, where the
    results.txt of the same run says overfitting) and x/lr0 as the LR."""
    tb, txt = read_history(YOLO_EVENTS), read_history(YOLO_TXT)
    assert tb.format == "tensorboard" and tb.monitor == "val_map" and tb.n == 100
    assert list(tb.epochs) == list(txt.epochs)
    for c in ("val_map", "val_map50", "train_loss", "val_loss"):
        assert tb.values(c) == pytest.approx(txt.values(c), rel=1e-3, abs=1e-4), c
    assert {"lr", "lr_pg0", "lr_pg2"} <= set(tb.columns)        # lr is x/lr1, a weights group
    r = diagnose(YOLO_EVENTS)
    assert r.exit_code == 0, r.output
    assert "Verdict: overfitting" in r.stdout and "Best: 0.4266 @ epoch 92" in r.stdout
    assert "Verdict: overfitting" in diagnose(YOLO_TXT).stdout


def test_a_damaged_yolov5_results_txt_exits_2_naming_the_line(tmp_path):
    lines = YOLO_TXT.read_text().splitlines(keepends=True)
    broken = tmp_path / "results.txt"
    broken.write_text("".join(lines[:30] + ["     30/99     1.93G   0.05\n"] + lines[31:]))
    r = diagnose(broken)
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"error: {broken}:31: not a YOLOv5 results.txt line (expected 'epoch/epochs', GPU memory "
        "and 13 numbers; got 3 fields)."]
    cut = tmp_path / "cut" / "results.txt"                       # killed mid-write: last line cut
    cut.parent.mkdir()
    cut.write_text("".join(lines) + "    100/99     1.93G   0.0")
    assert read_history(cut).n == 100


def test_detectron2_metrics_json_one_row_per_evaluation():
    """Was: read as generic JSON-lines, one row per logged iteration, the runs appended in the
    file merged, and train_data_time monitored; bbox/AP read as a training metric."""
    r = diagnose(D2)
    assert r.exit_code == 2
    assert r.output.startswith(f"error: {D2}: holds 10 runs")
    assert "run 1: epochs 499-5499 (11 rows)" in r.output and "--run N" in r.output
    r = diagnose(D2, "--run", "1", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["format"] == "detectron2" and d["n_points"] == 11
    assert d["monitor"]["name"] == "val_map"
    # bbox/AP 0.29786... % at iteration 5499: in percent even below 1 %
    assert d["best"]["epoch"] == 5499.0 and d["best"]["value"] == pytest.approx(0.0029786, rel=1e-3)
    h = read_history(D2, run=4)
    # the line of iteration 30999 holds "bbox/AP50": 14.435419656971552 with its training values
    assert h.n == 16 and h.values("val_map50")[-1] == pytest.approx(0.14435419656971552)
    assert {"train_loss", "train_loss_cls", "train_loss_box_reg", "lr"} <= set(h.columns)
    assert not any(c.startswith(("train_data_time", "train_fast_rcnn", "train_bbox"))
                   for c in h.columns)
    # the training loss of a row is the mean of the logged iterations since the last evaluation
    records = [json.loads(line) for line in D2.read_text().splitlines()][:294]
    first = [x["total_loss"] for x in records if x["iteration"] <= 499]
    assert read_history(D2, run=1).values("train_loss")[0] == pytest.approx(sum(first) / len(first))


def test_detectron2_damaged_line_exits_2(tmp_path):
    lines = D2.read_text().splitlines(keepends=True)[:300]
    broken = tmp_path / "metrics.json"
    broken.write_text("".join(lines[:10] + ['{"iteration": 219, "total_loss": \n'] + lines[10:]))
    r = diagnose(broken)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip() == (f"error: {broken}:11: not a JSON object (Expecting value). "
                                "Expected one JSON object per line (JSON-lines).")


def test_quoted_and_wide_csv_headers_are_sniffed(tmp_path):
    """Generated here with Python's csv module (QUOTE_ALL, as pandas' to_csv(quoting=...) and
    spreadsheet exports write them), not a copy of a real log: these were read as console text."""
    import csv
    quoted = tmp_path / "quoted.csv"
    with quoted.open("w", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(["epoch", "loss", "val_loss", "val_accuracy"])
        for e in range(12):
            w.writerow([e, 1 / (e + 1), 1 / (e + 1) + 0.1, 0.5 + e / 30])
    wide = tmp_path / "wide.csv"
    with wide.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "loss", "val_loss", "val_accuracy"] + [f"feature_{i}" for i in range(10_000)])
        for e in range(12):
            w.writerow([e, 1 / (e + 1), 1 / (e + 1) + 0.1, 0.5 + e / 30] + [0.123456789012] * 10_000)
    assert wide.stat().st_size > 256 * 1024 * 2                # no whole row fits in the head
    for path in (quoted, wide):
        r = diagnose(path, "--json")
        assert r.exit_code == 0, r.output
        d = json.loads(r.stdout)
        assert (d["format"], d["n_points"], d["monitor"]["name"]) == ("keras-csv", 12, "val_acc")


def test_a_short_yolov5_results_txt_cut_mid_line_is_still_sniffed(tmp_path):
    """A run read in its first epochs (fitdoctor watch) or killed mid-write: the first 20 lines
    include the cut last one. Was read as console text, exit 2. A cut inside the last number
    leaves 15 fields that look whole: the missing newline says it is cut."""
    lines = YOLO_TXT.read_text().splitlines(keepends=True)
    short = tmp_path / "short.txt"
    short.write_text("".join(lines[:5]) + lines[5][:60])
    h = read_history(short)
    assert h.format == "yolov5-txt" and list(h.epochs) == [0, 1, 2, 3, 4]
    assert any("cut short" in n for n in h.notes)
    mid_number = tmp_path / "mid.txt"
    # this single-class run logs val cls_loss 0; a multi-class run's last number is longer
    cut = lines[5].rstrip("\n").rsplit(None, 1)[0] + "   0.0123"[:-2]
    assert len(cut.split()) == 15
    mid_number.write_text("".join(lines[:5]) + cut)
    h = read_history(mid_number)
    assert list(h.epochs) == [0, 1, 2, 3, 4] and any("cut short" in n for n in h.notes)
    whole = read_history(YOLO_TXT)
    assert whole.n == 100 and not any("cut short" in n for n in whole.notes)

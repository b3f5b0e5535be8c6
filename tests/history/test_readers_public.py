"""Every real public log in ../shared/public-logs reads into the right History."""

import pytest

from fitdoctor.errors import LogFormatError
from fitdoctor.history import read_histories, read_history

from ..conftest import public

# name part, format, runs, monitor, rows of run 1, columns that must be there
CASES = [
    ("yolov8-cwfid", "ultralytics-csv", 1, "val_map", 102, {"lr", "train_loss", "val_loss", "val_map50"}),
    ("yolov8-fire", "ultralytics-csv", 1, "val_map", 25, {"lr", "lr_pg0", "train_box_loss"}),
    ("islp-nyse", "lightning-csv", 1, "val_r2", 201, {"train_loss", "val_loss", "test_r2"}),
    ("convnextv2-garbage", "lightning-csv", 1, "val_acc", 10, {"lr", "train_loss", "val_loss"}),
    ("imagebind-meld", "lightning-csv", 1, "val_acc", 23, {"train_acc", "val_acc5", "val_loss"}),
    ("tomato-cnn", "keras-csv", 1, "val_acc", 29, {"train_acc", "train_loss", "val_loss"}),
    ("resnet50-appended", "keras-csv", 4, "val_acc", 5, {"lr", "train_acc"}),
    ("seq2seq-reducelr", "keras-csv", 1, "val_acc", 63, {"lr", "train_acc"}),
    ("car-brand-cnn", "keras-csv", 1, "val_acc", 100, {"train_acc", "val_loss"}),
    ("cifar10-cnn", "console", 1, "test_acc", 35, {"train_loss"}),
    ("alz-earlystop", "console", 1, "val_acc", 39, {"train_loss"}),
    ("bilstm-lm-resumed", "console", 2, "test_acc", 100, {"train_loss"}),
    ("deit-s-300ep", "jsonl", 1, "val_96_acc", 300, {"lr", "train_loss", "val_384_acc"}),
    ("cond-detr-swin", "jsonl", 1, "val_map", 50, {"lr", "train_loss", "val_loss", "val_map50"}),
    ("mt5-azsumm", "hf-trainer-state", 1, "val_loss", 70, {"lr", "train_loss", "val_rouge1"}),
    ("multigroup-30ep", "hf-trainer-state", 1, "val_g0_acc", 31, {"val_g5_acc", "train_loss"}),
    ("codebert-10ep", "hf-trainer-state", 1, "val_acc", 10, {"lr", "val_f1", "train_loss", "grad_norm"}),
    ("convnext-eeg", "hf-trainer-state", 1, "val_acc", 34, {"lr", "train_loss"}),
    ("vit-lungcancer", "hf-trainer-state", 1, "val_acc", 12, {"lr", "train_loss"}),
]


@pytest.mark.parametrize("part, fmt, runs, monitor, rows, columns", CASES, ids=[c[0] for c in CASES])
def test_public_log_reads(part, fmt, runs, monitor, rows, columns):
    histories = read_histories(public(part))
    assert len(histories) == runs
    h = histories[0]
    assert h.format == fmt
    assert h.monitor == monitor
    assert h.n == rows
    assert columns <= set(h.columns)
    assert h.epochs[0] <= h.epochs[-1]


def test_keras_append_and_resumed_runs_are_split_never_merged():
    runs = read_histories(public("resnet50-appended"))
    assert [h.n for h in runs] == [5, 4, 10, 5]
    assert [h.values("lr")[0] for h in runs][2] == pytest.approx(1e-5, rel=1e-3)
    with pytest.raises(LogFormatError, match=r"holds 4 runs.*Pick one with run=N"):
        read_history(public("resnet50-appended"))
    resumed = read_histories(public("bilstm-lm-resumed"))
    assert (resumed[0].epochs[0], resumed[0].epochs[-1]) == (1, 100)
    assert (resumed[1].epochs[0], resumed[1].epochs[-1]) == (71, 270)
    assert read_history(public("bilstm-lm-resumed"), run=2).n == 200


def test_percent_and_counts_are_normalised():
    h = read_history(public("cifar10-cnn"))
    assert h.values("test_acc")[0] == pytest.approx(0.5986)
    assert h.final_metrics["best_test_acc"] == pytest.approx(0.8538)
    assert h.config["learning_rate"] == pytest.approx(0.001)
    bilstm = read_histories(public("bilstm-lm-resumed"))[0]
    assert bilstm.values("test_acc")[0] == pytest.approx(0.2078)
    assert 2_466_000 < bilstm.val_size < 2_467_000      # from "(correct/total)"


def test_hf_crlf_and_eval_rows():
    h = read_history(public("codebert-10ep"))          # CRLF line endings
    assert list(h.epochs) == pytest.approx([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert h.config["best_model_checkpoint"] == "./results\\checkpoint-1626"
    assert h.values("train_loss")[0] > h.values("train_loss")[-1]


def test_lightning_interleaved_rows_merge_per_epoch():
    h = read_history(public("convnextv2-garbage"))
    assert list(h.epochs) == list(range(10))
    assert h.values("lr")[0] == pytest.approx(1e-4)
    assert not h.table[["train_loss", "val_acc", "val_loss"]].isna().any().any()


def _hf_expected_train_loss(path):
    """By hand, with the json module: each evaluation's training loss is the mean of the
    ``loss`` entries logged after the previous evaluation's step, up to its own step."""
    import json

    with open(path, encoding="utf-8") as fh:
        log = json.load(fh)["log_history"]
    eval_steps = sorted({r["step"] for r in log if any(k.startswith("eval_") for k in r)})
    losses = [(r["step"], r["loss"]) for r in log
              if "loss" in r and not any(k.startswith("eval_") for k in r) and "train_runtime" not in r]
    out, prev = [], -1
    for s in eval_steps:
        window = [x for step, x in losses if prev < step <= s]
        out.append((s, sum(window) / len(window) if window else float("nan"), len(window)))
        prev = s
    return out


@pytest.mark.parametrize("part", ["codebert-10ep", "vit-lungcancer", "convnext-eeg", "mt5-azsumm"])
def test_hf_train_loss_is_the_mean_of_the_epochs_logged_losses(part):
    """catches: the Hugging Face reader taking an evaluation's training loss as the last logged
    value instead of the mean of the losses logged since the previous evaluation."""
    path = public(part)
    want = _hf_expected_train_loss(path)
    h = read_history(path)
    assert list(h.values("step")) == [s for s, _, _ in want]
    assert all(k > 1 for _, _, k in want)                 # several logged losses per evaluation
    assert list(h.values("train_loss")) == pytest.approx([m for _, m, _ in want], rel=1e-12)


def test_lightning_step_rows_are_averaged_per_epoch():
    """catches: the Lightning CSVLogger reader keeping the last step-level value of an epoch
    instead of the mean of that epoch's step-level values.

    By hand, with the csv module: convnextv2-garbage logs ``train_loss`` every 10 steps (38-39
    rows an epoch, each with its epoch number); the epoch's value is their mean."""
    import csv
    from collections import defaultdict

    path = public("convnextv2-garbage")
    per_epoch = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["train_loss"]:
                per_epoch[int(row["epoch"])].append(float(row["train_loss"]))
    assert min(len(v) for v in per_epoch.values()) >= 38
    want = [sum(v) / len(v) for _, v in sorted(per_epoch.items())]
    h = read_history(path)
    assert list(h.epochs) == sorted(per_epoch)
    assert list(h.values("train_loss")) == pytest.approx(want, rel=1e-12)


def test_hf_epoch_that_restarts_is_ordered_by_step(tmp_path):
    """A Trainer on a streaming dataset logs an epoch that restarts while the step rises. No real
    such file was found; this one is the real CodeBERT trainer_state with its epoch field taken
    modulo 3 (what a 3-epoch stream that restarts looks like), everything else as logged."""
    import json

    state = json.loads(public("codebert-10ep").read_text())
    for rec in state["log_history"]:
        if "epoch" in rec:
            rec["epoch"] = rec["epoch"] % 3.0
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(state))
    h, original = read_history(str(path)), read_history(str(public("codebert-10ep")))
    assert list(h.values("epoch")) == list(original.values("step"))      # every evaluation, in order
    assert h.values("val_acc").tolist() == original.values("val_acc").tolist()
    assert any("epoch field restarts" in n for n in h.notes)
    assert not any("epoch field restarts" in n for n in original.notes)


def test_hf_entries_without_a_step_exit_2_in_one_line(tmp_path):
    """Was a KeyError traceback ('step'), or with no step anywhere every evaluation merged into
    one row keyed None."""
    import json

    from typer.testing import CliRunner

    from fitdoctor.cli import app

    state = json.loads(public("codebert-10ep").read_text())
    for which, keep in (("all", lambda r: False), ("train", lambda r: "eval_loss" in r)):
        s = json.loads(json.dumps(state))
        for rec in s["log_history"]:
            if not keep(rec):
                rec.pop("step", None)
        folder = tmp_path / which
        folder.mkdir()
        (folder / "trainer_state.json").write_text(json.dumps(s))
        r = CliRunner().invoke(app, ["diagnose", str(folder)])
        assert r.exit_code == 2 and "Traceback" not in r.output, r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and "no numeric 'step'" in lines[0], lines

"""The history readers pinned rule by rule, on small logs written here by hand (or real logs
read with json/csv in the test). Every expected value is worked out from the log text itself,
never taken from the reader's own output. Written against mutmut's survivors in
history/readers/ (tables.py, sniff.py, hf.py, text.py, tensorboard.py)."""

from __future__ import annotations

import json
import math

import pytest

from fitdoctor.errors import LogFormatError, UsageError
from fitdoctor.history import read_histories, read_history
from fitdoctor.history.readers.sniff import _looks_like_csv
from fitdoctor.history.readers.hf import read_trainer_state
from fitdoctor.history.readers.tables import _flatten, parse_jsonl, read_json_records
from fitdoctor.history.readers.text import clean_line, parse_command_line, read_text

from ..conftest import FIXTURES


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _jsonl(tmp_path, name, records):
    return _write(tmp_path, name, "".join(json.dumps(r) + "\n" for r in records))


def _nan_equal(got, want):
    """Lists equal, NaN where NaN is expected."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, float) and math.isnan(w):
            assert math.isnan(g)
        else:
            assert g == pytest.approx(w, rel=1e-12)


# ================================================================ Hugging Face trainer_state

HF_STATE = {
    "best_metric": 0.75, "best_model_checkpoint": "out/checkpoint-20", "global_step": 20,
    "num_train_epochs": 2, "train_batch_size": 8, "eval_steps": 10, "max_steps": 20,
    "log_history": [
        {"epoch": 0.5, "step": 5, "loss": 2.0, "learning_rate": 1e-4, "grad_norm": 4.0,
         "num_input_tokens_seen": 640},
        "not a record",
        {"epoch": 1.0, "step": 10, "loss": 1.0, "learning_rate": 5e-5, "grad_norm": 2.0,
         "num_input_tokens_seen": 1280},
        {"epoch": 1.0, "step": 10, "eval_loss": 0.9, "eval_accuracy": 0.6, "eval_runtime": 1.5,
         "eval_samples_per_second": 100.0, "eval_steps_per_second": 12.5},
        {"epoch": 1.2, "step": 12, "grad_norm": 9.0},             # neither loss nor LR
        {"epoch": 1.5, "step": 15, "loss": 0.6},                   # a loss without an LR
        {"epoch": 2.0, "step": 20, "learning_rate": 1e-5},         # an LR without a loss
        {"epoch": 2.0, "step": 20, "train_runtime": 50.0, "train_samples_per_second": 3.2,
         "train_steps_per_second": 0.4, "total_flos": 1e12, "train_loss": 1.2},
        {"epoch": 2.0, "step": 20, "eval_loss": 0.7, "eval_accuracy": 0.75, "eval_runtime": 1.4},
    ],
}


def test_hf_one_row_per_evaluation_by_hand(tmp_path):
    """Rules, by hand from HF_STATE: one row per evaluation (eval_* -> val_*; runtime and
    throughput of the evaluation dropped); its train_loss is the mean of the losses logged
    after the previous evaluation up to its step (2.0, 1.0 -> 1.5; then 0.6 alone), its LR the
    last one logged (5e-5; then the LR-only entry's 1e-5), grad_norm the mean (4, 2 -> 3; none
    logged after step 10, since an entry with neither loss nor LR is not a training entry);
    token counts are not metrics; the train_runtime summary (even before the last evaluation)
    goes to the final metrics with its five known keys only; the config keeps the six known
    state keys; a non-dict entry is skipped."""
    p = _write(tmp_path, "trainer_state.json", json.dumps(HF_STATE))
    h = read_history(p)
    assert h.format == "hf-trainer-state"
    assert set(h.columns) == {"epoch", "step", "lr", "train_loss", "grad_norm", "val_loss", "val_acc"}
    assert list(h.epochs) == [1.0, 2.0]
    assert list(h.values("step")) == [10, 20]
    assert list(h.values("train_loss")) == pytest.approx([1.5, 0.6])
    assert list(h.values("lr")) == pytest.approx([5e-5, 1e-5])
    _nan_equal(list(h.values("grad_norm")), [3.0, float("nan")])
    assert list(h.values("val_loss")) == pytest.approx([0.9, 0.7])
    assert list(h.values("val_acc")) == pytest.approx([0.6, 0.75])
    assert h.final_metrics == {"summary_train_runtime": 50.0, "summary_train_samples_per_second": 3.2,
                               "summary_train_steps_per_second": 0.4, "summary_total_flos": 1e12,
                               "summary_train_loss": 1.2}
    assert h.config == {"best_metric": 0.75, "best_model_checkpoint": "out/checkpoint-20",
                        "global_step": 20, "num_train_epochs": 2, "train_batch_size": 8,
                        "eval_steps": 10}
    assert h.notes == ("one row per evaluation; training loss averaged over the logging steps "
                       "since the previous evaluation",)


def test_hf_without_evaluations_one_row_per_logging_step(tmp_path):
    """Rule: no eval_* entries -> one row per logging entry, with its own epoch (not the step)
    and only the known training columns; the note says so."""
    state = {"log_history": [
        {"epoch": 0.25, "step": 5, "loss": 2.5, "learning_rate": 2e-4, "num_input_tokens_seen": 9},
        {"epoch": 0.5, "step": 10, "loss": 2.0, "learning_rate": 1e-4, "num_input_tokens_seen": 19},
        {"epoch": 0.75, "step": 15, "loss": 1.5, "learning_rate": 5e-5, "num_input_tokens_seen": 29},
    ]}
    p = _write(tmp_path, "trainer_state.json", json.dumps(state))
    h = read_history(p)
    assert set(h.columns) == {"epoch", "step", "lr", "train_loss"}
    assert list(h.epochs) == [0.25, 0.5, 0.75]
    assert list(h.values("train_loss")) == [2.5, 2.0, 1.5]
    assert h.notes == ("no evaluation entries: one row per logging step (training loss only)",)
    assert h.config == {} and h.final_metrics == {}


def test_hf_reader_contract_on_a_state_without_log_history():
    """Rule: read_trainer_state on a state with no log_history gives one empty table (no
    crash) and the documented meta keys."""
    [(table, meta)] = read_trainer_state("x.json", {"global_step": 3})
    assert len(table) == 0
    assert meta == {"notes": ["no evaluation entries: one row per logging step (training loss "
                              "only)"], "final": {}, "config": {"global_step": 3}, "val_size": None}


def test_hf_meta_has_the_reader_contract_keys():
    """Rule: every reader's meta has the keys notes/final/config/val_size (read_histories
    looks them up by name)."""
    [(table, meta)] = read_trainer_state("x.json", HF_STATE)
    assert set(meta) == {"notes", "final", "config", "val_size"}
    assert meta["final"]["summary_total_flos"] == 1e12 and meta["val_size"] is None
    assert list(table.index) == [0, 1] and "index" not in table.columns


@pytest.mark.parametrize("content, fmt, match", [
    ('{"log_history": [}', "hf", r"trainer_state\.json:1: invalid JSON \(.*\); expected a Hugging "
                                 r"Face trainer_state\.json\.$"),
    ('{"best_metric": 1}', "hf", r"trainer_state\.json: JSON without a 'log_history' list; "
                                 r"expected a Hugging Face trainer_state\.json\.$"),
    ('[{"epoch": 0,', "json", r"trainer_state\.json:1: invalid JSON \(.*\)\.$"),
    ('[]', "json", r"trainer_state\.json: expected a JSON list of per-epoch objects such as "
                   r'\[\{"epoch": 0, "train_loss": 1\.2, "val_acc": 0\.6\}, \.\.\.\]\.$'),
    ('[{"epoch": 0, "loss": 1.0}, 5]', "json", "expected a JSON list of per-epoch objects"),
    ('{"name": "run", "size": 3}', "json", "expected a JSON list of per-epoch objects"),
    ('[{"epoch": 0, "note": "a"}, {"epoch": 1, "note": "b"}]', "json",
     r"trainer_state\.json: JSON records carry no numeric metrics\.$"),
    ('\n\n', "jsonl", "empty"),
    ('{"epoch": 0, "loss": 1}\n{bad}\n{"epoch": 1, "loss": 0.5}\n', "jsonl",
     r"trainer_state\.json:2: not a JSON object \(.*\)\. Expected one JSON object per line"),
    ('7\n"text"\n', "jsonl", r"trainer_state\.json: no JSON objects found; expected JSON-lines, "
                             r"one object per epoch\.$"),
    ('{"epoch": 0, "note": "a"}\n', "jsonl",
     r"trainer_state\.json: JSON records carry no numeric metrics\.$"),
])
def test_json_errors_name_the_file_and_what_was_expected(tmp_path, content, fmt, match):
    """Rule: each way a JSON log can be unusable gives a LogFormatError that starts with the
    file's path and says what was expected (never another exception)."""
    p = _write(tmp_path, "trainer_state.json", content)
    with pytest.raises(LogFormatError, match=match) as info:
        read_history(p, fmt=fmt)
    assert str(info.value).startswith(str(p))


def test_json_document_holding_its_list_under_a_key(tmp_path):
    """Rule: with --format json, a JSON object is read through its first list value."""
    doc = {"name": "run-3", "history": [{"epoch": 0, "val_acc": 0.5}, {"epoch": 1, "val_acc": 0.7}],
           "other": [{"epoch": 9, "val_acc": 0.1}]}
    h = read_history(_write(tmp_path, "h.json", json.dumps(doc)), fmt="json")
    assert h.format == "json-list" and list(h.values("val_acc")) == [0.5, 0.7]


def test_mmcv_is_sniffed_from_the_first_fifty_records_only(tmp_path):
    """Rule: a JSON-lines file is mmcv's when one of its first 50 records has 'mode'; a 'mode'
    first seen in record 51 leaves it plain JSON-lines."""
    recs = [{"epoch": e, "val_acc": 0.5} for e in range(50)] + [{"epoch": 50, "mode": "val",
                                                                  "val_acc": 0.9}]
    assert read_history(_jsonl(tmp_path, "a.json", recs), fmt="jsonl").format == "jsonl"
    recs2 = recs[:49] + [{"epoch": 49, "mode": "val", "accuracy": 0.9}]
    assert read_history(_jsonl(tmp_path, "b.json", recs2), fmt="jsonl").format == "mmcv-json"


def test_big_json_document_read_whole_with_bom_and_a_bad_byte(tmp_path):
    """Rule: a JSON document larger than the 256 KiB head is read whole from disk, as UTF-8
    with its BOM removed and undecodable bytes replaced (not an error)."""
    n = 3000
    recs = [{"epoch": e, "train_loss": 1.0 / (e + 1), "val_acc": e / n,
             "note": "x" * 80} for e in range(n)]
    body = "[\n" + ",\n".join(json.dumps(r) for r in recs) + "\n]\n"
    body = body.replace('"note": "' + "x" * 80, '"note": "\udcff' + "x" * 79, 1)
    raw = b"\xef\xbb\xbf" + body.encode("utf-8", "surrogateescape")
    assert len(raw) > 256 * 1024 and b"\xff" in raw
    p = tmp_path / "history.json"
    p.write_bytes(raw)
    h = read_history(p)
    assert h.format == "json-list" and h.n == n
    assert h.values("train_loss")[9] == pytest.approx(0.1)
    assert h.values("val_acc")[-1] == pytest.approx((n - 1) / n)


def test_json_lines_with_bom_blank_lines_and_crlf(tmp_path):
    """Rule: JSON-lines are read as UTF-8 with the BOM removed, CRLF endings and blank lines
    in the middle skipped: every record after a blank line still counts."""
    text = '\ufeff{"epoch": 0, "val_loss": 0.5}\r\n\r\n{"epoch": 1, "val_loss": 0.4}\r\n' \
           '{"epoch": 2, "val_loss": 0.3}\r\n'
    p = tmp_path / "log.txt"
    p.write_bytes(text.encode("utf-8"))
    h = read_history(p, fmt="jsonl")
    assert list(h.values("val_loss")) == [0.5, 0.4, 0.3]


# ================================================================ parse_jsonl

def test_parse_jsonl_line_numbers_and_messages():
    """Rules: a bad line before another line is an error naming its 1-based line number (blank
    lines counted); a cut last line is dropped; a non-object line is skipped; blank lines in
    the middle do not stop the reading."""
    good = ['{"epoch": 0, "loss": 1}', "", '[1, 2]', '{"epoch": 1, "loss": 0.5}', '{"epoch": 2, "lo']
    assert parse_jsonl("f.log", good) == [{"epoch": 0, "loss": 1}, {"epoch": 1, "loss": 0.5}]
    bad = ['{"epoch": 0, "loss": 1}', "", "{not json}", '{"epoch": 1, "loss": 0.5}']
    with pytest.raises(LogFormatError, match=r"^f\.log:3: not a JSON object \(.+\)\. Expected one "
                                             r"JSON object per line \(JSON-lines\)\.$"):
        parse_jsonl("f.log", bad)


def test_parse_jsonl_deep_nesting_is_a_log_format_error():
    """Rule: a line nested deeper than Python's recursion limit is refused with a clear message."""
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(LogFormatError, match=r"^f\.log:2: JSON nested too deeply to be a "
                                             r"training history\.$"):
        parse_jsonl("f.log", ['{"epoch": 0}', deep])


# ================================================================ runs in one file

def test_run_selection_is_one_based_and_bounded():
    """Rules: --run counts from 1 to the number of runs; anything else is a usage error; without
    --run the error lists every run as 'run i: epochs a-b (n rows)' joined by '; '."""
    path = FIXTURES / "two-runs.log"      # epochs 0-5, then the counter restarts at 0-4
    assert list(read_history(path, run=1).epochs) == [0, 1, 2, 3, 4, 5]
    assert list(read_history(path, run=2).epochs) == [0, 1, 2, 3, 4]
    with pytest.raises(UsageError, match=r": run must be between 1 and 2, got run=0\."):
        read_history(path, run=0)
    with pytest.raises(LogFormatError, match=r"holds 2 runs \(the epoch counter restarts\): "
                                             r"run 1: epochs 0-5 \(6 rows\); run 2: epochs 0-4 "
                                             r"\(5 rows\)\. Pick one"):
        read_history(path)


# ================================================================ console text

def test_console_config_header_values_are_typed(tmp_path):
    """Rules: 'key: value' lines before the first epoch are the config: true/false (any case)
    become booleans, numbers numbers, anything else stays the text as written (a value ending
    in X keeps it); a command line with two --flags is parsed (a bare flag is True)."""
    log = ("python train.py --lr 0.01 --amp\n"
           "model: GPT-NeoX\n"
           "use_amp: True\n"
           "shuffle: FALSE\n"
           "pin_memory: false\n"
           "workers = 4\n"
           "note: trueish\n"
           "epoch 1: train loss: 0.5, val acc: 0.6\n"
           "epoch 2: train loss: 0.4, val acc: 0.7\n")
    h = read_history(_write(tmp_path, "run.log", log))
    assert h.config == {"lr": 0.01, "amp": True, "model": "GPT-NeoX", "use_amp": True,
                        "shuffle": False, "pin_memory": False, "workers": 4, "note": "trueish"}
    assert parse_command_line("run.py --epochs 50 --use_gpu --name a") == \
        {"epochs": 50, "use_gpu": True, "name": "a"}


def test_console_key_value_lines_after_the_epochs_are_not_config(tmp_path):
    """Rule: a text 'key: value' line after the first epoch is not config."""
    log = ("optimizer: AdamW\n"
           "epoch 1: train loss: 0.5, val acc: 0.6\n"
           "saving: best.pt\n"
           "epoch 2: train loss: 0.4, val acc: 0.7\n")
    h = read_history(_write(tmp_path, "run.log", log))
    assert h.config == {"optimizer": "AdamW"}


def test_console_metric_chunks(tmp_path):
    """Rules, by hand on one line per epoch: eta/time keys and keys starting with 'epoch' are
    not metrics (and do not stop the metrics after them); thousands separators are removed
    (1,234 -> 1234); a percent is divided by 100; '(correct/total)' counts are cut out of the
    value; ANSI colour codes and block debris are removed before reading; a progress bar in
    the line is ignored."""
    log = ("\x1b[32mEpoch 1/2\x1b[0m [=====>....] 40/40 time: 3.1, epoch_time: 3.1, "
           "train loss: 0.50, tokens: 1,234, ETA: 5, val acc: 59.86% (5986/10000)\n"
           "Epoch 2/2 \u2588\u2588\u2588\u2588 time: 3.0, epoch_time: 3.0, "
           "train loss: 0.25, tokens: 2,468, ETA: 0, val acc: 61.00% (6100/10000)\n")
    h = read_history(_write(tmp_path, "run.log", log))
    assert set(h.columns) == {"epoch", "train_loss", "train_tokens", "val_acc"}
    assert list(h.epochs) == [1, 2]
    assert list(h.values("train_loss")) == [0.5, 0.25]
    assert list(h.values("train_tokens")) == [1234, 2468]
    assert list(h.values("val_acc")) == pytest.approx([0.5986, 0.61])
    assert h.val_size == 10000 and h.config == {"epochs": 2}


def test_clean_line_keeps_the_text_after_the_last_carriage_return():
    """Rule: a console line rewritten with \\r (progress bars) reads as its last rewrite;
    ANSI codes go, block-drawing debris becomes a space."""
    assert clean_line("10%|# \r50%|### \rEpoch 3: loss: 0.1") == "Epoch 3: loss: 0.1"
    assert clean_line("\x1b[1;31mloss\x1b[0m: 0.2") == "loss: 0.2"
    assert clean_line("\u2501\u2501\u2501 loss: 0.3") == "loss: 0.3"
    assert clean_line("a\u2588b") == "a b"
    [(table, _)] = read_text("x.log", ["Epoch 1: loss: 9\rEpoch 1: loss: 8\rEpoch 1: loss: 0.7"])
    assert list(table["train_loss"]) == [0.7]


def test_console_validation_size_is_the_median_of_all_counts(tmp_path):
    """Rule: the evaluation-set size is the median of the distinct '(correct/total)' totals seen
    in the run, on epoch lines and on the lines that continue an epoch: here 996, 998, 1000,
    1002, 1004 -> 1000."""
    log = ("Epoch 1\n"
           "train loss: 0.9\n"
           "val acc: 50.0% (498/996)\n"
           "Epoch 2\n"
           "train loss: 0.8\n"
           "val acc: 60.0% (599/998)\n"
           "Epoch 3: val acc: 70.0% (700/1000)\n"
           "Epoch 4: val acc: 71.0% (711/1002)\n"
           "Epoch 5\n"
           "val acc: 72.0% (723/1004)\n")
    h = read_history(_write(tmp_path, "run.log", log))
    assert h.val_size == 1000
    assert "evaluation-set size 1000 read from '(correct/total)' counts" in h.notes
    assert list(h.values("val_acc")) == pytest.approx([0.5, 0.6, 0.7, 0.71, 0.72])


def test_console_continuation_lines_follow_the_majority_of_epoch_lines(tmp_path):
    """Rules: whether a metrics line after an epoch line continues that epoch or is a closing
    summary follows the majority of epoch lines (bare 'Epoch N' lines vote for continuation,
    'Epoch N: metrics' lines for summaries); a tie counts as summaries."""
    mixed = ("Epoch 1\n"
             "train loss: 0.9\n"
             "Epoch 2\n"
             "train loss: 0.8\n"
             "Epoch 3: train loss: 0.7\n"
             "val acc: 0.6\n")            # 2 bare vs 1 with metrics: continues epoch 3
    h = read_history(_write(tmp_path, "mixed.log", mixed))
    assert list(h.values("train_loss")) == [0.9, 0.8, 0.7]
    _nan_equal(list(h.values("val_acc")), [float("nan"), float("nan"), 0.6])
    assert h.final_metrics == {}
    tie = ("Epoch 1: train loss: 0.9\n"
           "Epoch 2\n"
           "val acc: 0.6\n")              # 1 vs 1: a summary
    t = read_history(_write(tmp_path, "tie.log", tie))
    assert "val_acc" not in t.columns and t.final_metrics == {"val_acc": 0.6}


def test_console_repeated_epoch_line_keeps_filling_the_same_epoch(tmp_path):
    """Rule: an epoch line printed twice (same number, no conflicting values) is one epoch; the
    metrics lines after the repeat still belong to it; the note names the line (1-based)."""
    log = ("Epoch 1/2\n"
           "loss: 0.9 - val_loss: 1.0\n"
           "Epoch 2/2\n"
           "Epoch 2/2\n"
           "loss: 0.5 - val_loss: 0.6\n")
    h = read_history(_write(tmp_path, "run.log", log))
    assert list(h.epochs) == [1, 2]
    assert list(h.values("train_loss")) == [0.9, 0.5]
    assert list(h.values("val_loss")) == [1.0, 0.6]
    assert h.notes == ("line 4: epoch 2 repeated; kept one copy",)
    assert h.config == {"epochs": 2}


def test_console_three_runs_each_get_their_own_rows(tmp_path):
    """Rule: every restart of the epoch counter starts a new run (the third run's rows are not
    added to the second); the note gives the 1-based line of the restart."""
    log = "".join(f"epoch {e}: train loss: {v}\n" for e, v in
                  [(1, 0.9), (2, 0.8), (1, 0.7), (2, 0.6), (3, 0.5), (1, 0.4)])
    runs = read_histories(_write(tmp_path, "run.log", log))
    assert [list(h.values("train_loss")) for h in runs] == [[0.9, 0.8], [0.7, 0.6, 0.5], [0.4]]
    assert runs[1].notes == ("epoch counter restarts at line 3 (epoch 1 after 2)",)
    assert runs[2].notes == ("epoch counter restarts at line 6 (epoch 1 after 3)",)


def test_console_non_finite_values_recorded_with_their_epoch(tmp_path):
    """Rule: the first epoch where a metric is NaN or +-inf is recorded per column."""
    log = ("epoch 1: train loss: 0.5, val loss: 0.6, val acc: 0.1\n"
           "epoch 2: train loss: inf, val loss: -inf, val acc: 0.2\n"
           "epoch 3: train loss: nan, val loss: 0.5, val acc: nan\n")
    h = read_history(_write(tmp_path, "run.log", log))
    assert dict(h.non_finite) == {"train_loss": 2.0, "val_loss": 2.0, "val_acc": 3.0}


@pytest.mark.parametrize("log, ok", [
    ("epoch 1: train loss: 0.5\n", True),                 # one epoch, one metric: enough
    ("Epoch 1\nEpoch 2\n", False),                         # epoch numbers, no metrics
])
def test_console_minimum_is_one_epoch_with_one_metric(log, ok):
    """Rule: a console log needs at least one epoch line carrying at least one metric."""
    if ok:
        [(table, _)] = read_text("x.log", log.splitlines())
        assert list(table.columns) == ["epoch", "train_loss"] and len(table) == 1
    else:
        with pytest.raises(LogFormatError, match="no epoch lines with metrics found"):
            read_text("x.log", log.splitlines())


@pytest.mark.parametrize("lines, seen", [
    (["lr: 0.1", "batch: 32", "hello"], "read as console text: 2 'key: value' pair(s) but no "
                                        "epoch numbers"),
    (["hello", "world"], "read as console text: no 'key: value' metrics at all"),
])
def test_console_error_says_what_was_seen(lines, seen):
    """Rule: the error tells whether key/value pairs were found (how many) or none at all, and
    shows the two accepted line shapes."""
    with pytest.raises(LogFormatError) as info:
        read_text("x.log", lines)
    assert str(info.value) == (
        f"x.log: no epoch lines with metrics found ({seen}). Expected lines such as 'epoch 3: "
        "train loss :: 1.42, dev acc :: 0.38' or 'Epoch 3/50 ... loss: 0.31 - val_loss: 0.35'; "
        "for CSV, JSON or TensorBoard files pass fmt.")
    assert info.value.cli_message(lambda name: {"fmt": "--format"}[name]).endswith(
        "for CSV, JSON or TensorBoard files pass --format.")


# ================================================================ JSON records (tables.py)

def test_flatten_keeps_numbers_and_detr_box_ap_only():
    """Rules: booleans and nulls are skipped (the keys after them still count); numbers are kept;
    a '*coco_eval_bbox' list of at least two numbers gives '*map' (its first) and '*map50' (its
    second); other lists and strings are not metrics."""
    rec = {"flag": True, "none": None, "loss": 1.5, "step": 3, "test_coco_eval_bbox": [0.3, 0.5],
           "short_coco_eval_bbox": [0.9], "test_coco_eval_masks": [0.2, 0.4, 0.1], "name": "ab"}
    assert _flatten(rec) == {"loss": 1.5, "step": 3, "test_map": 0.3, "test_map50": 0.5}


def test_mmcv_by_hand_columns_config_notes_and_nan(tmp_path):
    """Rules, by hand: train iterations averaged per epoch (epoch 1: 1.0, 0.5 -> 0.75; epoch 2
    has a NaN so its mean is NaN and the NaN is reported at epoch 2), the epoch's last train LR,
    val records taken as logged (their own lr is not a val metric), epoch/iter/mode/time/
    data_time/memory are not metrics; records without an epoch or with another mode are
    skipped; config is the first record's plain values, and only when it has no 'mode'."""
    lines = [
        {"env_info": "Python 3.8", "seed": 0, "exp_name": "r18", "norm_cfg": {"type": "BN"}},
        {"mode": "train", "iter": 5, "loss": 50.0},                    # no epoch: skipped
        {"mode": "test", "epoch": 1, "accuracy_top-1": 99.0},          # not train/val: skipped
        {"mode": "train", "epoch": 1, "iter": 10, "lr": 0.1, "loss": 1.0, "time": 0.5,
         "data_time": 0.1, "memory": 900},
        {"mode": "train", "epoch": 1, "iter": 20, "lr": 0.09, "loss": 0.5, "time": 0.5,
         "data_time": 0.1, "memory": 900},
        {"mode": "val", "epoch": 1, "iter": 5, "lr": 0.09, "accuracy_top-1": 40.0, "loss": 1.2},
        {"mode": "train", "epoch": 2, "iter": 10, "lr": 0.05, "loss": float("nan")},
        {"mode": "train", "epoch": 2, "iter": 20, "lr": 0.04, "loss": 0.3},
        {"mode": "val", "epoch": 2, "iter": 5, "lr": 0.04, "accuracy_top-1": 50.0, "loss": 1.0},
    ]
    h = read_history(_jsonl(tmp_path, "run.log.json", lines))
    assert h.format == "mmcv-json"
    assert set(h.columns) == {"epoch", "lr", "train_loss", "val_acc", "val_loss"}
    _nan_equal(list(h.values("train_loss")), [0.75, float("nan")])
    assert list(h.values("lr")) == [0.09, 0.04]
    assert list(h.values("val_loss")) == [1.2, 1.0]
    assert list(h.values("val_acc")) == pytest.approx([0.4, 0.5])
    assert dict(h.non_finite) == {"train_loss": 2.0}
    assert h.config == {"env_info": "Python 3.8", "seed": 0, "exp_name": "r18"}
    assert h.notes[0] == "mmcv train iterations averaged per epoch"
    [(_, meta)] = read_json_records("x", [json.loads(json.dumps(r)) for r in lines], "mmcv-json")
    assert set(meta) == {"notes", "final", "config", "val_size", "non_finite"}
    [(_, meta2)] = read_json_records("x", [json.loads(json.dumps(r)) for r in lines[3:]], "mmcv-json")
    assert meta2["config"] == {}                       # the first record is a train record


def test_deit_log_by_hand(tmp_path):
    """Rules, by hand on a DeiT/DETR-style log.txt: test_* keys read as val_* (a NaN test loss is
    reported as val_loss at its epoch), train_lr is the LR, n_parameters is not a metric,
    coco_eval_bbox gives map/map50, a flag before the metrics does not hide them, a NaN train
    loss stays train_loss; only the
    reader's note and make_history's percent notes are added."""
    recs = [{"ok": True, "train_lr": 0.001 / (e + 1), "train_loss": 3.0 - e, "test_loss": 2.5 - e,
             "test_acc1": 40.0 + 10 * e, "epoch": e, "n_parameters": 22_000_000,
             "test_coco_eval_bbox": [0.1 * (e + 1), 0.2 * (e + 1), 0.0]} for e in range(3)]
    recs[2]["test_loss"] = float("nan")
    recs[1]["train_loss"] = float("nan")
    h = read_history(_jsonl(tmp_path, "log.txt", recs), fmt="jsonl")
    assert set(h.columns) == {"epoch", "lr", "train_loss", "val_loss", "val_acc", "val_map",
                              "val_map50"}
    assert list(h.values("lr")) == pytest.approx([0.001, 0.0005, 0.001 / 3])
    assert list(h.values("val_acc")) == pytest.approx([0.4, 0.5, 0.6])
    assert list(h.values("val_map50")) == pytest.approx([0.2, 0.4, 0.6])
    assert dict(h.non_finite) == {"train_loss": 1.0, "val_loss": 2.0}
    assert h.notes == ("DeiT/DETR-style 'test_*' keys are evaluations on the validation set: "
                       "read as val_*", "val_acc was in percent; rescaled to 0-1")


@pytest.mark.parametrize("prefix", ["val_", "valid_", "eval_"])
def test_test_keys_stay_test_when_a_validation_key_exists(tmp_path, prefix):
    """Rule: with any val_/valid_/eval_ key in the log, test_* keys are test results (kept as
    test_*, a NaN among them reported as test_*), and no renaming note is added."""
    recs = [{"epoch": e, "loss": 1.0 - 0.1 * e, prefix + "loss": 0.9 - 0.1 * e,
             "test_loss": 0.95 if e != 1 else float("nan")} for e in range(3)]
    h = read_history(_jsonl(tmp_path, "log.txt", recs), fmt="jsonl")
    assert set(h.columns) == {"epoch", "train_loss", "val_loss", "test_loss"}
    assert list(h.values("val_loss")) == pytest.approx([0.9, 0.8, 0.7])
    assert dict(h.non_finite) == {"test_loss": 1.0}
    assert h.notes == ()


def test_json_list_test_keys_are_not_renamed(tmp_path):
    """Rule: only JSON-lines logs (DeiT/DETR) have their test_* keys read as validation; a
    plain JSON list keeps test_*, and a list with neither gets no renaming note."""
    doc = [{"epoch": e, "loss": 1.0 - 0.1 * e, "test_acc": 0.5 + 0.1 * e} for e in range(3)]
    h = read_history(_write(tmp_path, "h.json", json.dumps(doc)))
    assert h.format == "json-list" and set(h.columns) == {"epoch", "train_loss", "test_acc"}
    assert h.notes == ()
    doc2 = [{"epoch": e, "loss": 1.0 - 0.1 * e} for e in range(3)]
    assert read_history(_write(tmp_path, "h2.json", json.dumps(doc2))).notes == ()


def test_json_records_without_epoch_report_nan_at_row_zero(tmp_path):
    """Rules: a bare 'loss' key is the training loss; a record without an epoch reports its NaN
    at epoch 0."""
    doc = [{"loss": float("nan"), "val_acc": 0.5}, {"loss": 0.5, "val_acc": 0.6}]
    h = read_history(_write(tmp_path, "h.json", json.dumps(doc)))
    assert dict(h.non_finite) == {"train_loss": 0.0}
    assert set(h.columns) == {"epoch", "train_loss", "val_acc"}


def test_json_lines_with_a_restart_and_a_repeated_record(tmp_path):
    """Rules: an identical repeated record is dropped and the epoch counter going back splits the
    log into runs, both said in the notes."""
    recs = [{"epoch": 0, "loss": 1.0}, {"epoch": 1, "loss": 0.8}, {"epoch": 1, "loss": 0.8},
            {"epoch": 2, "loss": 0.6}, {"epoch": 0, "loss": 0.9}, {"epoch": 1, "loss": 0.7}]
    runs = read_histories(_jsonl(tmp_path, "log.txt", recs), fmt="jsonl")
    assert [list(h.values("train_loss")) for h in runs] == [[1.0, 0.8, 0.6], [0.9, 0.7]]
    assert runs[0].notes == ("1 repeated row(s) with identical values dropped",
                             "epoch counter restarts 1 time(s): split into 2 runs")


# ================================================================ Lightning CSV

LIGHTNING = """epoch,step,lr-SGD,train_loss_step,train_loss_epoch,train_acc_step,val_acc
0,0,0.1,2.0,,0.25,
0,1,0.1,1.0,,0.75,
0,1,,,1.5,,0.5
1,2,0.05,0.8,,0.5,
1,3,0.05,0.6,,1.0,
1,3,,,0.7,,0.6
"""


def test_lightning_twins_and_averaging_note_by_hand(tmp_path):
    """Rules: a *_step column with an *_epoch twin is dropped (the twin is kept under the bare
    name); a *_step column without a twin is kept, averaged per epoch (0.25, 0.75 -> 0.5; 0.5,
    1.0 -> 0.75); the note lists the metric columns logged more than once in an epoch (not
    epoch, step, or the LR); the LR is the epoch's first, the step its last."""
    h = read_history(_write(tmp_path, "metrics.csv", LIGHTNING))
    assert set(h.columns) == {"epoch", "step", "lr", "train_loss", "train_acc_step", "val_acc"}
    assert list(h.values("train_loss")) == [1.5, 0.7]
    assert list(h.values("train_acc_step")) == [0.5, 0.75]
    assert list(h.values("lr")) == [0.1, 0.05]
    assert list(h.values("step")) == [1, 3]
    assert h.notes == ("per-step values averaged per epoch: train_acc_step",
                       "Lightning CSVLogger rows merged into one row per epoch")


@pytest.mark.parametrize("k, listed", [
    (6, "m1, m2, m3, m4, m5, m6"),
    (7, "m1, m2, m3, m4, m5, m6..."),
])
def test_lightning_averaging_note_lists_six_columns_at_most(tmp_path, k, listed):
    """Rule: the averaging note names up to six columns, then '...'."""
    names = [f"m{i}" for i in range(1, k + 1)]
    rows = ["epoch,step,lr-Adam," + ",".join(names)]
    for step in range(4):
        rows.append(f"{step // 2},{step},0.1," + ",".join(str(step + i) for i in range(k)))
    h = read_history(_write(tmp_path, "metrics.csv", "\n".join(rows) + "\n"))
    assert h.notes[0] == "per-step values averaged per epoch: " + listed
    assert list(h.values("train_m1")) == [0.5, 2.5]          # (0 + 1) / 2, (2 + 3) / 2


# ================================================================ Ultralytics CSV

ULTRA = """epoch, train/box_loss, train/cls_loss, train/dfl_loss, metrics/precision(B), metrics/mAP50(B), metrics/mAP50-95(B), val/box_loss, val/cls_loss, val/dfl_loss, lr/pg0, lr/pg1, lr/pg2, time
1, 1.0, 2.0, 0.5, 0.4, 0.3, 0.2, 1.5, 2.5, 0.75, 0.07, 0.001, 0.001, 30.5
2, 0.8, , 0.4, 0.5, 0.4, 0.25, 1.25, 2.0, 0.5, 0.04, 0.002, 0.002, 61.0
3, 0.6, 1.0, 0.3, 0.6, 0.5, 0.3, 1.0, 1.5, 0.25, 0.01, 0.003, 0.003, 91.5
"""


def test_ultralytics_losses_summed_by_hand(tmp_path):
    """Rules, by hand: train_loss is the row's sum of train/*_loss (1 + 2 + 0.5 = 3.5; a row with
    a missing part has no total), val_loss the sum of val/*_loss; lr is lr/pg1 and pg0 stays as
    lr_pg0; the wall-clock 'time' column is not a metric; the notes say each of these."""
    h = read_history(_write(tmp_path, "results.csv", ULTRA))
    assert h.format == "ultralytics-csv"
    assert set(h.columns) == {"epoch", "lr", "lr_pg0", "lr_pg2", "train_box_loss", "train_cls_loss",
                              "train_dfl_loss", "train_loss", "val_precision", "val_map50", "val_map",
                              "val_box_loss", "val_cls_loss", "val_dfl_loss", "val_loss"}
    _nan_equal(list(h.values("train_loss")), [3.5, float("nan"), 1.9])
    assert list(h.values("val_loss")) == pytest.approx([4.75, 3.75, 2.75])
    assert list(h.values("lr")) == [0.001, 0.002, 0.003]
    assert list(h.values("lr_pg0")) == [0.07, 0.04, 0.01]
    assert h.notes == ("train_loss = sum of train_box_loss, train_cls_loss, train_dfl_loss",
                       "val_loss = sum of val_box_loss, val_cls_loss, val_dfl_loss",
                       "lr is Ultralytics' lr/pg1, a weights group (the bias group, pg0 since "
                       "YOLOv5 v6 and pg2 before, has its own warmup)")


def test_ultralytics_classification_without_val_losses(tmp_path):
    """Rule: no val/*_loss columns -> no val_loss is made up; a train/loss column is kept as is."""
    csv_text = ("epoch,train/loss,metrics/mAP50(B),lr/pg0\n"
                "1,2.0,0.5,0.01\n2,1.5,0.6,0.008\n")
    h = read_history(_write(tmp_path, "results.csv", csv_text))
    assert set(h.columns) == {"epoch", "lr", "train_loss", "val_map50"}
    assert list(h.values("train_loss")) == [2.0, 1.5] and h.notes == ()


# ================================================================ CSV and sniffing

@pytest.mark.parametrize("text, is_csv", [
    ("epoch,loss\n0,1.0\n1,0.5\n", True),
    ("epoch,loss\n", False),                                   # a header alone
    ("epoch loss\n0 1.0\n", False),                            # no comma in the header
    ("epoch,2nd loss\n0,1.0\n", False),                        # a header cell must start with a letter
    ("epoch,loss\n0,1.0\n1,0.5,9\n2,0.4,9\n3,0.3,9\n", False),  # under 80 % of rows match
    ("epoch,loss\n0,1.0\n1,0.5\n2,0.4\n3,0.3\n4,0.2,9\n", True),  # exactly 80 %
])
def test_csv_detection_rules(text, is_csv):
    """Rule: CSV is a header of names with a comma plus rows, at least 80 % of them with the
    header's number of commas."""
    assert _looks_like_csv(text) is is_csv


def test_csv_literal_nan_and_duplicate_names(tmp_path):
    """Rules: a cell written 'nan'/'inf' is reported with its epoch (an empty cell is not); two
    raw columns with the same canonical name are kept apart (_2)."""
    text = "epoch,loss,acc,accuracy,val_loss\n0,1.0,0.5,0.51,\n1,nan,0.6,0.61,0.9\n2,0.5,0.7,0.71,inf\n"
    h = read_history(_write(tmp_path, "log.csv", text))
    assert h.format == "keras-csv"
    assert set(h.columns) == {"epoch", "train_loss", "train_acc", "train_acc_2", "val_loss"}
    assert dict(h.non_finite) == {"train_loss": 1.0, "val_loss": 2.0}
    assert list(h.values("train_acc_2")) == [0.51, 0.61, 0.71]


def test_csv_with_one_column_is_refused(tmp_path):
    """Rule: a CSV needs an epoch column and at least one metric."""
    with pytest.raises(LogFormatError, match=r"CSV with 1 column\(s\) and 2 row\(s\)"):
        read_history(_write(tmp_path, "a.csv", "epoch\n0\n1\n"), fmt="csv")


def test_sniffing_picks_the_format_from_the_content(tmp_path):
    """Rules: '[date] ...' lines are console text; a JSON object with log_history is HF; a JSON
    list is a json-list; one object per line is JSON-lines; a directory is read through its
    known file names in order (results.csv before log.txt)."""
    console = _write(tmp_path, "a.log", "[2025-03-02 10:00:01] epoch 1: train loss: 0.5\n"
                                        "[2025-03-02 10:00:02] epoch 2: train loss: 0.4\n")
    assert read_history(console).format == "console"
    assert list(read_history(console).values("train_loss")) == [0.5, 0.4]
    d = tmp_path / "run"
    d.mkdir()
    _jsonl(d, "log.txt", [{"epoch": 0, "val_loss": 1.0}])
    _write(d, "results.csv", "epoch,train/box_loss,metrics/mAP50(B)\n1,1.0,0.2\n")
    assert read_history(d).format == "ultralytics-csv"
    with pytest.raises(LogFormatError, match="a directory with no training history in it"):
        read_history(tmp_path / "run" / "..")


# ================================================================ TensorBoard

def test_tensorboard_keeps_every_scalar_of_a_long_run(tmp_path):
    """Rule: all scalars are read, not TensorBoard's default sample of 10,000 per tag: 10,050
    steps give 10,050 rows with the values as written (1 / (step + 1))."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    from fitdoctor.history.readers.tensorboard import read_tensorboard

    w = EventFileWriter(str(tmp_path))
    for s in range(10_050):
        w.add_event(Event(step=s, wall_time=1.0, summary=Summary(
            value=[Summary.Value(tag="val_loss", simple_value=1.0 / (s + 1))])))
    w.close()
    [(df, meta)] = read_tensorboard(str(tmp_path))
    assert len(df) == 10_050 and list(df["step"][:3]) == [0, 1, 2]
    assert df["val_loss"].iloc[-1] == pytest.approx(1.0 / 10_050)
    assert meta == {"notes": ["no 'epoch' scalar: TensorBoard steps used as the x axis"],
                    "final": {}, "config": {}, "val_size": None}


def test_tensorboard_missing_extra_and_unreadable_files(tmp_path, monkeypatch):
    """Rules: without the tensorboard package the error says how to install the extra; an event
    'file' that cannot be opened is reported as a damaged event file, naming the path."""
    import sys

    from fitdoctor.history.readers.tensorboard import read_tensorboard

    (tmp_path / "events.out.tfevents.1.host").mkdir()
    with pytest.raises(LogFormatError, match=r"damaged TensorBoard event file \(") as info:
        read_tensorboard(str(tmp_path))
    assert str(info.value).startswith(f"{tmp_path}: ")
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing.event_accumulator", None)
    with pytest.raises(LogFormatError) as info:
        read_tensorboard(str(tmp_path))
    assert str(info.value) == (f"{tmp_path}: TensorBoard event files need the optional extra: "
                               "pip install 'fitdoctor[tensorboard]'.")


def test_tensorboard_metrics_tags_alone_are_not_yolov5(tmp_path):
    """Was: any tag under metrics/ read the file as YOLOv5's (its note 'the TensorBoard step is
    the epoch', Ultralytics' loss summing and LR groups) on a run logging per global step."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    from fitdoctor.history.readers.tensorboard import read_tensorboard

    w = EventFileWriter(str(tmp_path))
    for s in range(0, 3000, 100):
        w.add_event(Event(step=s, wall_time=1.0, summary=Summary(value=[
            Summary.Value(tag="metrics/accuracy", simple_value=s / 3000),
            Summary.Value(tag="loss/train", simple_value=1 - s / 3000)])))
    w.close()
    [(df, meta)] = read_tensorboard(str(tmp_path))
    assert meta["notes"] == ["no 'epoch' scalar: TensorBoard steps used as the x axis"]
    assert "epoch" not in df.columns and list(df["step"][:2]) == [0, 100]

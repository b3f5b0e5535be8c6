"""Reports agree with themselves, read from the user's side: `fitdoctor diagnose` on the real
logs, en and zh, each sentence checked against the numbers beside it in the same report."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from fitdoctor.cli import app

from ..conftest import ROOT, SEED_LOGS, public


def report(log, *more) -> str:
    """The terminal report of ``diagnose`` on a log, its lines joined back into one text."""
    result = CliRunner().invoke(app, ["diagnose", str(log), *map(str, more)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output)


def test_a_linear_decay_after_warmup_reaches_zero_at_the_logs_epoch():
    """YOLOv8 (cwfid): a 33-epoch warmup, then a linear decay fitted to end at epoch 152.5. The
    schedule's description said 'reaching 0 at epoch 119' (119 epochs after the decay began)
    beside 'fitted length 152.515 epochs' in the mismatch finding of the same report."""
    log = public("yolov8-cwfid")
    text = report(log)
    assert "linear decay reaching 0 at epoch 153" in text, text
    assert "fitted length 152.5 epochs" in text and "fitted to 152.5 epochs" in text
    zh = report(log, "--lang", "zh")
    assert "线性衰减，在 epoch 153 降到 0" in zh


def test_the_gap_note_does_not_call_a_small_gap_large():
    """Brain-tumour ResNet50, third appended run: the smoothed train-val gap ends at 0.00613 (the
    phases table's gap -0.0116): the note called it 'large (0.00613)'."""
    text = report(public("resnet50-appended-runs"), "--run", "3")
    assert "The smoothed train-val gap (0.00613) is not growing beyond noise after epoch 3" in text
    assert "gap is large" not in text
    assert "较大" not in report(public("resnet50-appended-runs"), "--run", "3", "--lang", "zh")


def test_an_lr_that_rose_with_the_epochs_is_not_called_lower():
    """ConvNeXt EEG (Hugging Face): a 29-epoch warmup, r = +1.00, the LR at its end 99 % of its
    peak: the confound was worded 'a lower LR causes overfitting'."""
    log = public("convnext-eeg-earlystop")
    text = report(log)
    assert "(r = 1.00): this history cannot tell 'a higher LR causes overfitting'" in text
    assert "a lower LR" not in text
    assert "“学习率升高导致过拟合”" in report(log, "--lang", "zh")


def test_no_overfitting_no_question_of_its_cause():
    """ConvNeXtV2 garbage (Lightning, cosine, no overfitting, verdict 'no problem'): the confound
    note spoke of telling the causes of an overfitting the run does not have apart, with a
    control experiment to run."""
    log = public("convnextv2-garbage")
    text = report(log)
    assert "no problem found beyond noise" in text
    line = text[text.index("lr_epoch_confounded:"):text.index("schedule:", text.index("lr_epoch_confounded:"))]
    assert "(r = -0.99): in this history the LR's effect cannot be told apart" in line
    assert "overfitting" not in line and "control" not in line
    zh = report(log, "--lang", "zh")
    assert "学习率的作用无法与训练 epoch 数的作用区分开" in zh and "导致过拟合" not in zh


def test_warm_restarts_speak_of_a_low_late_lr_only_where_the_lr_fell():
    """The warm-restart advice said it 'tests whether the low LR late in the run matters' for a
    run at a constant LR 1e-05 (a public multi-group HF log), one whose LR rose to 99 % of its
    peak (ConvNeXt EEG) and one with no LR logged (sst-try4); a run whose LR fell after the
    onset (the truth corpus's sentiment/plateau/s3, ReduceLROnPlateau) keeps it."""
    for log in (public("multigroup-30ep"), public("convnext-eeg-earlystop"), SEED_LOGS / "sst-try4.log"):
        text = report(log)
        assert "Warm restarts at the convergence epoch" in text
        assert "low LR late in the run" not in text, log
        assert "后期低学习率" not in report(log, "--lang", "zh")
    fell = ROOT / "bench/truth/corpus/sentiment/plateau/s3/history.csv"
    assert "memorising, and tests whether the low LR late in the run matters." in report(fell)


def test_smoothed_figures_say_they_are_smoothed():
    """ImageBind on MELD (Lightning): 'validation ended 0.00464 worse than its best' beside a
    header whose best and final differ by 0.00877, and 'val_acc kept improving until epoch 17'
    beside a best at epoch 18: both figures are the smoothed curve's, and now say so."""
    log = public("imagebind-meld-v23")
    text = report(log)
    assert "the smoothed validation curve ended 0.00464 worse than its best level" in text
    assert "while smoothed val_acc kept improving until epoch 17" in text
    assert "validation ended" not in text
    zh = report(log, "--lang", "zh")
    assert "平滑后的验证曲线最终比其最佳水平差 0.00464" in zh and "而平滑后的 val_acc 持续提升到 epoch 17" in zh


def test_a_run_that_learned_nothing_has_no_fit_phase():
    """MNIST at SGD LR 0.5 (truth corpus): the verdict 'learned nothing' beside a phases table
    'fit 0-19'. The stretch the finding judged is 'no learning', the epochs before it 'underfit';
    a run that learned and then collapsed (s2) keeps its fit phase before the collapse."""
    from fitdoctor.diagnosis import diagnose
    from fitdoctor.history.readers import read_history

    corpus = ROOT / "bench" / "truth" / "corpus" / "mnist" / "lr_high_sgd"
    d = diagnose(read_history(corpus / "s0" / "history.csv"))
    assert d.verdict == "no_learning"
    assert [(p.label, p.start, p.end) for p in d.phases] == [("underfit", 0, 4), ("no_learning", 5, 19)]
    assert d.finding("no_learning").evidence["from_epoch"] == 5
    collapsed = diagnose(read_history(corpus / "s2" / "history.csv"))
    assert [p.label for p in collapsed.phases] == ["underfit", "fit", "no_learning"]
    assert re.search(r"no learning\s*│\s*5-19", report(corpus / "s0" / "history.csv"))
    assert re.search(r"未学习\s*│\s*5-19", report(corpus / "s0" / "history.csv", "--lang", "zh"))


def test_small_counts_and_shares_read_right():
    """'(0% of peak)' for an LR of 2.03e-08 against 2e-05 (CodeBERT); '1 epochs are tied'
    (ImageBind); 'linear warmup for 1 epochs' and 'drops at epochs 40' (a MiniLM run, a
    Conditional-DETR log); the Chinese header's LR line joined with '; ' and '()'."""
    assert "LR: 2.03e-08 @ best (<1% of peak)" in report(public("codebert-10ep"))
    assert "1 epoch is tied with it" in report(public("imagebind-meld-v23"))
    assert "Schedule: drops at epoch 40 (x0.1)" in report(public("cond-detr-swin-50ep"))
    plateau = ROOT / "bench" / "truth" / "corpus" / "sentiment" / "plateau" / "s3" / "history.csv"
    text = report(plateau)
    assert "linear warmup for 1 epoch to 5e-05" in text and "1 epochs" not in text
    zh = report(plateau, "--lang", "zh")
    assert "线性预热 1 个 epoch 到 5e-05" in zh
    assert "最佳处 1.5e-05（峰值的 30%）；过拟合起点处 5e-05（100%）" in zh


def test_the_chinese_report_counts_in_epochs_as_it_does_elsewhere():
    """The smoothing window was '5 轮移动平均' (rounds) in reports that say 'epoch' everywhere else."""
    zh = report(SEED_LOGS / "sst-try1.log", "--lang", "zh")
    assert "5 个 epoch 的移动平均" in zh and "轮移动平均" not in zh

"""lr-find refuses a suggestion its curve does not support, and --apply writes only a supported
one, into the config as the person wrote it. The curves are built by hand: 100 steps, the LR
10^(-7 + 8 i / 100) at step i (0.08 decades a step), the debiased EMA with beta 0.98 as in
range_test; the expected values are worked out from those definitions in the comments."""

import math
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from fitdoctor.cli import app
from fitdoctor.errors import ConfigError
from fitdoctor.lrfind import RangeCurve, moved_from, refusal, suggest, summarize
from fitdoctor.training.config import edit_config_text, load_config

runner = CliRunner()
N = 100
LR = [10 ** (-7 + 8 * i / N) for i in range(N)]


def curve(raw, beta=0.98):
    avg, smooth = 0.0, []
    for i, v in enumerate(raw):
        avg = beta * avg + (1 - beta) * v
        smooth.append(avg / (1 - beta ** (i + 1)))
    return RangeCurve(lr=list(LR), loss=smooth, raw=[float(v) for v in raw], stopped="max_lr", beta=beta)


def noisy_start():
    """Flat at 2.3 (+-0.01, alternating) up to step 50, down 0.052 a step to 1.0 at step 75, up
    0.1 a step after; the first batch's loss is 3.5."""
    level = [2.3 if i < 50 else 2.3 - 0.052 * (i - 50) if i <= 75 else 1.0 + 0.1 * (i - 75) for i in range(N)]
    raw = [v + 0.01 * (-1) ** i for i, v in enumerate(level)]
    raw[0] = 3.5
    return curve(raw)


def sharp_descent():
    """Noise-free: flat at 2.3 up to step 60, down to 1.0 at step 72 (1.3/12 a step), then up
    0.15 a step."""
    return curve([2.3 if i < 60 else 2.3 - 1.3 * (i - 60) / 12 if i <= 72 else 1.0 + 0.15 * (i - 72)
                  for i in range(N)])


def test_noise_in_the_first_steps_is_the_steepest_point_and_the_suggestion_is_refused():
    c = noisy_start()
    rules, message = suggest(c)
    assert message == ""                          # a clear descent: the rules give values
    # the first batch's excess 1.2 decays in the debiased EMA about as 1.2 / (i + 1): 2.692 at
    # step 2 and 2.530 at step 4 (the weighted means, by hand), a slope of -1.0 per decade at
    # step 3, the first step the rule looks at; the real descent falls 0.052 / 0.08 = 0.65 per
    # decade, and an EMA is never steeper than what it averages: the steepest point is step 3
    assert rules["steepest"] == pytest.approx(LR[3])                       # 1.74e-7
    # the smoothed minimum is at or after the raw one (step 75): min/10 >= 10^(-1) / 10
    assert rules["min_div_10"] >= LR[75] / 10 * 0.999
    # moved: start = median of the first 20 raw = 2.30, sigma = 1.4826 * 0.02 / sqrt 2 = 0.021,
    # need = 4 sigma sqrt(pi/2 (1/5 + 1/20)) = 0.053. Window 49-53 (2.29, 2.31, 2.238, 2.206,
    # 2.134) has median 2.238 < 2.247; window 48-52 has 2.29: the loss moved from step 49
    assert moved_from(c) == pytest.approx(LR[49])                          # 8.3e-4
    result = summarize([c], batches_per_epoch=25, min_lr=LR[0])
    assert result.suggestion is None and result.agreement_decades > 4.7     # >= log10(1e-2 / 1.74e-7)
    assert result.refused.startswith("no suggestion: the rules disagree by")
    assert "--min-lr 8e-05" in result.refused                               # a decade below step 49
    # repeats of the same curve do not rescue it (the reported --repeats 3)
    assert summarize([c, noisy_start(), c], batches_per_epoch=25).suggestion is None


def test_a_sharp_clean_descent_is_a_suggestion_inside_it():
    c = sharp_descent()
    # moved: noise-free, so need = 0.1 % of 2.3; the first window whose median (its middle
    # value) is below 2.2977 is the one centred on step 61: it starts at step 59
    assert moved_from(c) == pytest.approx(LR[59])
    result = summarize([c], batches_per_epoch=25, min_lr=LR[0])
    # every rule lies in the descent (steps 60-72) or, min/10, a decade below its minimum
    # (the smoothed minimum is where the rising raw loss crosses the lagging EMA, steps 73-85)
    assert result.refused == "" and result.suggestion is not None
    assert LR[60] / 10 <= result.suggestion <= LR[72]
    assert result.agreement_decades <= 1.0


@pytest.mark.parametrize("rules, moved, refused", [
    # within a decade of each other and of the onset: used
    ({"steepest": 5e-3, "valley": 2e-3, "min_div_10": 1e-3}, 2e-3, ""),
    ({"steepest": 9e-3, "valley": 2e-3, "min_div_10": 1e-3}, 5e-3, ""),          # 0.95 decades
    ({"steepest": 1.2e-2, "valley": 2e-3, "min_div_10": 1e-3}, 5e-3, "disagree by 1.1 decades"),
    ({"steepest": 1.75e-7, "valley": 3e-3, "min_div_10": 2e-2}, 1e-3, "disagree by 5.1 decades"),
    # agreeing, but two decades below where the loss moved
    ({"steepest": 1e-5, "valley": 2e-5, "min_div_10": 3e-5}, 1e-3, "1e-05 lies 2.0 decades below 0.001"),
    ({"steepest": 1e-4, "valley": None, "min_div_10": None}, 1e-3, ""),       # one decade: allowed
    ({"steepest": None, "valley": None, "min_div_10": None}, 1e-3, ""),       # nothing to refuse
])
def test_refusal_thresholds(rules, moved, refused):
    present = [v for v in rules.values() if v]
    message = refusal(rules, min(present) if present else None, moved, min_lr=1e-7)
    assert (message == "") if not refused else (refused in message)


def test_moved_from_reads_noise_as_noise():
    rng = np.random.default_rng(3)
    flat = 2.3 + rng.normal(0, 0.1, N)
    flat[70] = 1.0                                # one outlier batch: a median of 5 ignores it
    flat[71] = 1.2
    assert moved_from(curve(flat)) is None
    # the same noise over a fall of 0.05 a step from step 60: need = 4 x 0.1 x 0.63 = 0.25, which
    # a window's median (its middle step) passes about 5 steps into the fall, window start ~63
    falling = flat.copy()
    falling[70], falling[71] = flat[69], flat[72]
    falling[60:] -= 0.05 * np.arange(N - 60)
    onset = moved_from(curve(falling))
    assert onset is not None and LR[57] <= onset <= LR[69]


CONFIG = """\
# lr-find test config: every comment must survive --apply
name: refusal-test   # the run's name

task: {name: image, dataset: digits, train_size: 200, val_size: 100, batch_size: 32}
model:
    width: 8          # small on purpose
    dropout: 0.1
training:
    epochs: 2
    # the LR lr-find replaces
    learning_rate: 1e-7
    weight_decay: 1e-4
"""


@pytest.fixture
def ramp(monkeypatch):
    """lr-find runs the real task and find_lr, with range_test answering a hand-built curve."""
    def use(c):
        calls = []

        def fake(net, opt, loss_fn, batches, **kw):
            calls.append(kw)
            return c
        monkeypatch.setattr("fitdoctor.lrfind.run.range_test", fake)
        return calls
    return use


def test_apply_keeps_comments_key_order_and_layout(tmp_path, ramp):
    ramp(sharp_descent())
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    new = tmp_path / "tuned.yaml"
    r = runner.invoke(app, ["lr-find", str(cfg), "--apply", str(new), "--set", "task.batch_size=16"])
    assert r.exit_code == 0, r.output
    lr = load_config(new).training.learning_rate
    assert LR[60] / 10 <= lr <= LR[72]
    # only the LR line and the --set key changed, everything else byte for byte
    expected = CONFIG.replace("learning_rate: 1e-7", f"learning_rate: {lr:g}").replace(
        "batch_size: 32}", "batch_size: 16}")
    assert new.read_text() == expected
    assert cfg.read_text() == CONFIG
    # in place works too
    r = runner.invoke(app, ["lr-find", str(cfg), "--apply", str(cfg)])
    assert r.exit_code == 0 and "# the LR lr-find replaces" in cfg.read_text()


def test_a_refused_suggestion_is_never_written(tmp_path, ramp):
    ramp(noisy_start())
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    before = cfg.read_bytes()
    for target in (cfg, tmp_path / "tuned.yaml"):
        r = runner.invoke(app, ["lr-find", str(cfg), "--apply", str(target)])
        assert r.exit_code == 2, r.output
        text = " ".join(r.stderr.split())
        assert "no LR to apply" in text and "rules disagree" in text and "Traceback" not in r.output
    assert cfg.read_bytes() == before and not (tmp_path / "tuned.yaml").exists()
    r = runner.invoke(app, ["lr-find", str(cfg), "--json"])         # without --apply: a result
    assert r.exit_code == 0 and '"suggestion": null' in r.stdout


@pytest.mark.parametrize("target, msg", [("missing/dir/c.yaml", "does not exist"),
                                         ("adir", "a directory"), ("fifo", "not a regular file")])
def test_apply_to_a_path_that_cannot_be_a_config_fails_before_the_ramp(tmp_path, ramp, target, msg):
    calls = ramp(sharp_descent())
    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    (tmp_path / "adir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    r = runner.invoke(app, ["lr-find", str(cfg), "--apply", str(tmp_path / target)])
    assert r.exit_code == 2 and msg in " ".join(r.stderr.split()) and "Traceback" not in r.output
    assert calls == []                            # refused before any compute


def test_edit_config_text_flow_maps_missing_keys_and_indentation():
    text = "# c\ntraining: {epochs: 3, learning_rate: 1e-7, scheduler: OneCycleLR}  # flow\n"
    out = edit_config_text(text, [("training.scheduler_params.max_lr", 0.0123)])
    assert out.startswith("# c\ntraining: {epochs: 3, learning_rate: 1e-7, scheduler: OneCycleLR,")
    assert "max_lr: 0.0123" in out and "# flow" in out
    text = "training:\n    epochs: 3   # keep\n    learning_rate: 0.1\n"
    assert edit_config_text(text, [("training.learning_rate", 0.002)]) == \
        "training:\n    epochs: 3   # keep\n    learning_rate: 0.002\n"
    assert math.isclose(load_config_text(edit_config_text("", [("training.learning_rate", 3e-4)])), 3e-4)
    with pytest.raises(ConfigError, match=r"^c\.yaml:3: cannot edit it keeping its layout \(found duplicate key"):
        edit_config_text("training:\n  epochs: 3\n  epochs: 4\n", [("training.learning_rate", 0.1)], where="c.yaml")


def load_config_text(text):
    import yaml

    from fitdoctor.training.config import build_config
    return build_config(yaml.safe_load(text)).training.learning_rate

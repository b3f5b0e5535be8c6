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


def test_noise_in_the_first_steps_is_not_read_as_the_descent():
    c = noisy_start()
    rules, message = suggest(c)
    assert message == ""                          # a clear descent: the rules give values
    # the first batch's 3.5 is one value in a running median of 5: the smoothed curve ignores it,
    # where the debiased EMA carried it for dozens of steps (its steepest point was step 3)
    assert max(c.smooth[:40]) == pytest.approx(2.3, abs=0.011)
    # the descent runs from step 50 (LR 1e-3) to 75 (1e-1): the steepest point lies inside it;
    # half-way down (1.65) is reached at step 63 in the raw losses, the centred mean crosses it there
    assert LR[50] <= rules["steepest"] <= LR[75]
    assert LR[61] <= rules["half_drop"] <= LR[65]
    # the raw minimum is step 75; falling 0.052 a step and rising 0.1, the centred mean's minimum
    # sits a little before it
    assert LR[72] / 10 <= rules["min_div_10"] <= LR[75] / 10
    # moved: start = median of the first 20 raw = 2.30, sigma = 1.4826 * 0.02 / sqrt 2 = 0.021,
    # need = 4 sigma sqrt(pi/2 (1/5 + 1/20)) = 0.053. Window 49-53 (2.29, 2.31, 2.238, 2.206,
    # 2.134) has median 2.238 < 2.247; window 48-52 has 2.29: the loss moved from step 49
    assert moved_from(c) == pytest.approx(LR[49])                          # 8.3e-4
    result = summarize([c], batches_per_epoch=25, min_lr=LR[0])
    # the suggestion is twice the median of the three (not the smallest rule), inside the descent
    middle = sorted(rules[r] for r in ("steepest", "half_drop", "min_div_10"))[1]
    assert result.refused == "" and result.suggestion == pytest.approx(2 * middle)
    assert LR[50] <= result.suggestion <= LR[75]
    assert result.agreement_decades <= 1.0


def long_even_descent():
    """Noise-free: flat at 2.3 to step 10, then falling by a shrinking amount a step (slope
    0.06 x 0.97^k) to step 90, then up 0.2 a step: a descent spread over six decades of LR."""
    raw, level = [], 2.3
    for i in range(N):
        if 10 < i <= 90:
            level -= 0.06 * 0.97 ** (i - 10)
        elif i > 90:
            level += 0.2
        raw.append(level)
    return curve(raw)


def test_a_descent_over_six_decades_pins_no_lr_down_and_is_refused():
    c = long_even_descent()
    rules, message = suggest(c)
    assert message == ""
    # steepest at the descent's start (step ~11-14, LR ~1e-6), min/10 a decade below step ~90
    # (LR 1.6e-1 / 10): the rules span about four decades
    assert rules["steepest"] < 1e-5 and rules["min_div_10"] > 1e-2
    result = summarize([c], batches_per_epoch=25, min_lr=LR[0])
    assert result.suggestion is None and result.refused.startswith("no suggestion: the rules disagree by")


def test_no_minimum_in_the_ramp_is_refused():
    """Falling to the very end: the minimum is not seen, so min/10 and half-way are unknown."""
    c = curve([2.3 if i < 40 else 2.3 - 0.02 * (i - 40) for i in range(N)])
    rules, message = suggest(c)
    assert all(v is None for v in rules.values()) and message.startswith("no minimum")
    result = summarize([c], batches_per_epoch=25)
    assert result.suggestion is None and "raise max_lr" in result.refused      # find_lr's parameter
    cli = summarize([c], batches_per_epoch=25, flag=lambda name: "--" + name.replace("_", "-"))
    assert "raise --max-lr" in cli.refused and "max_lr" not in cli.refused    # the option, on the command line


def test_smoothing_is_centred_and_ignores_outlier_batches():
    from fitdoctor.lrfind import smoothed

    step = np.r_[np.full(50, 2.0), np.full(50, 1.0)]
    s = smoothed(step)
    # no lag: the centred smoothing crosses the half-way level at the step itself
    assert s[47] > 1.5 > s[52] and s[49] == pytest.approx(1.5, abs=0.12)
    spiky = step.copy()
    spiky[20] = spiky[70] = 50.0                  # two outlier batches: a median of 5 ignores them
    assert np.allclose(smoothed(spiky), s)


def test_the_ramp_stops_once_the_loss_has_risen():
    torch = pytest.importorskip("torch")
    from fitdoctor.lrfind import range_test

    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)
    x, y = torch.randn(256, 4), torch.randint(0, 3, (256,))
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]
    c = range_test(net, torch.optim.SGD(net.parameters(), lr=1e-4), torch.nn.CrossEntropyLoss(),
                   batches, min_lr=1e-4, max_lr=1e4, steps=100)
    assert c.stopped in ("rose", "diverged", "non_finite") and len(c.lr) < 100
    lowest = min(np.median(c.raw[max(0, i - 4):i + 1]) for i in range(len(c.raw) - 1))
    assert c.stopped != "rose" or np.median(c.raw[-5:]) > 2 * lowest


def test_a_sharp_clean_descent_is_a_suggestion_inside_it():
    c = sharp_descent()
    # moved: noise-free, so need = 0.1 % of 2.3; the first window whose median (its middle
    # value) is below 2.2977 is the one centred on step 61: it starts at step 59
    assert moved_from(c) == pytest.approx(LR[59])
    result = summarize([c], batches_per_epoch=25, min_lr=LR[0])
    # steepest and half_drop lie in the descent (steps 60-72), min/10 a decade below its minimum
    # (step 72); twice their median is inside the descent
    assert result.refused == "" and result.suggestion is not None
    assert LR[60] <= result.suggestion <= LR[72]
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
    ramp(long_even_descent())
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

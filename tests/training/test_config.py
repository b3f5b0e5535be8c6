import pytest

from fitdoctor.errors import ConfigError
from fitdoctor.training.config import build_config, config_dict, load_config

SEED_CONFIG = """
# seeds 000/001: "终极配置" as written in the notes
loss:
  ce_weight: 1.0
  dice_weight: 1.5
  label_smoothing: 0.1
model:
  dropout: 0.2
training:
  learning_rate: 8e-4
  weight_decay: 2e-4
  scheduler: CosineAnnealingWarmRestarts
  scheduler_params:
    T_0: 25
    T_mult: 2
    eta_min: 1e-6
  warmup_epochs: 10
  early_stopping_patience: 100
  epochs: 200
"""


def test_the_seed_config_loads_as_written(tmp_path):
    p = tmp_path / "seed.yaml"
    p.write_text(SEED_CONFIG)
    cfg = load_config(p)
    t = cfg.training
    assert t.learning_rate == 8e-4 and t.weight_decay == 2e-4        # YAML read them as strings
    assert t.scheduler_params == {"T_0": 25, "T_mult": 2, "eta_min": 1e-6}
    assert t.early_stopping.patience == 100 and t.warmup_epochs == 10
    assert cfg.loss.dice_weight == 1.5 and cfg.model.dropout == 0.2
    assert config_dict(cfg)["training"]["scheduler"] == "CosineAnnealingWarmRestarts"


def test_overrides_with_set():
    cfg = build_config({"training": {"learning_rate": 1e-3}},
                       ["training.learning_rate=2e-5", "training.early_stopping.patience=4",
                        "loss.pos_weight=auto", "training.scheduler=null"])
    assert cfg.training.learning_rate == 2e-5 and cfg.training.early_stopping.patience == 4
    assert cfg.loss.pos_weight == "auto" and cfg.training.scheduler is None


@pytest.mark.parametrize("data, overrides, match", [
    ({"training": {"learning_rat": 1e-3}}, [], r"unknown key 'training.learning_rat'; valid keys here: epochs, learning_rate"),
    ({"trainig": {}}, [], r"unknown key 'trainig'; valid keys here: name, task, model, training, loss"),
    ({"training": {"epochs": "many"}}, [], r"training.epochs:.*'many'"),
    ({"model": {"dropout": 1.5}}, [], r"model.dropout"),
    ({}, ["training.learning_rate"], "key=value"),
    ({"training": {"early_stopping": {"patince": 3}}}, [], r"valid keys here: monitor, mode, patience"),
])
def test_bad_configs_say_which_key_and_what_is_valid(data, overrides, match):
    with pytest.raises(ConfigError, match=match):
        build_config(data, overrides)


def test_yaml_errors_name_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("training:\n  epochs: [1,\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(p)
    with pytest.raises(ConfigError, match="no such config"):
        load_config(tmp_path / "missing.yaml")

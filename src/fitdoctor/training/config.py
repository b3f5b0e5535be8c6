"""RunConfig: one YAML file describes a run. Defaults live here and nowhere else.

Validated by pydantic: unknown keys are rejected with the list of valid ones, and numbers that
YAML 1.1 reads as strings (``8e-4``, ``1e-6``) are accepted as numbers. The seeds' own configs
load as written (``training.scheduler``, ``training.scheduler_params``,
``training.early_stopping_patience``, ``loss.ce_weight``, ``model.dropout``, ...)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigError, arg
from ..history.names import Monitor
from ..history.names import resolve_monitor as _resolve


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _number(value: Any) -> Any:
    """'1e-6' -> 1e-06 (YAML 1.1 reads exponent floats without a dot as strings)."""
    if isinstance(value, str):
        try:
            f = float(value)
        except ValueError:
            return value
        return int(f) if f.is_integer() and "." not in value and "e" not in value.lower() else f
    return value


class TaskConfig(_Strict):
    name: str = Field("image", description="image | sentiment | segmentation | 'package.module:function'")
    dataset: Optional[str] = Field(None, description="image: mnist|animal|digits; sentiment: rotten_tomatoes|tweets")
    positive_class: Optional[int] = Field(None, description="image: make it binary, this class vs the rest")
    train_size: Optional[int] = Field(None, ge=8, description="subset of the training split")
    val_size: Optional[int] = Field(None, ge=8, description="subset of the validation split")
    batch_size: int = Field(64, ge=1)
    max_length: int = Field(64, ge=8, description="sentiment: tokens per text")
    num_workers: int = Field(0, ge=0)
    params: dict[str, Any] = Field(default_factory=dict, description="passed to a user task")


class ModelConfig(_Strict):
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    width: int = Field(32, ge=4, description="channels of the first CNN / U-Net block")


class EarlyStoppingConfig(_Strict):
    monitor: Optional[str] = Field(None, description="default: the task's validation metric")
    mode: Optional[Literal["max", "min"]] = None
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0.0)
    min_delta_mode: Literal["abs", "rel"] = "abs"
    smoothing: int = Field(1, ge=1, description="decide on the mean of the last k values")
    max_gap: Optional[float] = Field(None, gt=0.0, description="stop when train - val exceeds it ...")
    gap_patience: int = Field(3, ge=1, description="... for this many epochs in a row")
    restart_aware: bool = True


def resolve_monitor(training: "TrainingConfig", task_metric: str = "acc") -> Monitor:
    """What a run follows (early stopping, ReduceLROnPlateau, the best checkpoint, a sweep's
    objective): the declared ``early_stopping.monitor``, else the task's validation metric
    (``val_<task_metric>``: every built-in task's is accuracy-like); the declared mode, else the
    monitor's own. Training, the schedule preview and sweeps all ask here."""
    es = training.early_stopping
    return _resolve(es.monitor if es else None, es.mode if es else None, f"val_{task_metric}")


class EMAConfig(_Strict):
    decay: float = Field(0.999, gt=0.0, lt=1.0)
    warmup: bool = Field(False, description="decay_t = min(decay, (1 + t) / (10 + t))")


class TrainingConfig(_Strict):
    epochs: int = Field(10, ge=1)
    learning_rate: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    optimizer: Literal["AdamW", "Adam", "SGD"] = "AdamW"
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    nesterov: bool = False
    scheduler: Optional[str] = Field(None, description="a torch.optim.lr_scheduler class name; none = constant")
    scheduler_params: dict[str, Any] = Field(default_factory=dict)
    step_per: Literal["epoch", "batch"] = "epoch"
    warmup_epochs: float = Field(0.0, ge=0.0)
    warmup_steps: int = Field(0, ge=0, description="warmup in batches (step_per: batch)")
    warmup_start_factor: float = Field(0.1, gt=0.0, le=1.0)
    lr_floor: Optional[float] = Field(None, ge=0.0)
    early_stopping: Optional[EarlyStoppingConfig] = None
    early_stopping_patience: Optional[int] = Field(None, ge=1, description="shorthand for early_stopping.patience")
    max_grad_norm: Optional[float] = Field(None, gt=0.0)
    accumulate_grad_batches: int = Field(1, ge=1)
    precision: Literal["32", "bf16-mixed", "16-mixed"] = "32"
    accelerator: Literal["auto", "cpu", "gpu"] = "auto"
    devices: int = Field(1, ge=1)
    num_nodes: int = Field(1, ge=1)
    compile: bool = False
    fast: Optional[bool] = Field(None, description="the whole training step as one CUDA graph, data on the "
                                 "GPU (None: wherever it is safe; see fitdoctor.training.fast)")
    ema: Optional[EMAConfig] = None
    gap_warning: Optional[float] = Field(None, gt=0.0, description="warn when train - val exceeds it")
    seed: int = 0

    @field_validator("scheduler_params", mode="before")
    @classmethod
    def _params_numbers(cls, v: Any) -> Any:
        return {k: _number(x) for k, x in v.items()} if isinstance(v, dict) else v

    @field_validator("scheduler", mode="before")
    @classmethod
    def _scheduler_name(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lower() in ("", "none", "null", "constant"):
            return None
        return v

    @property
    def processes(self) -> int:
        """The training processes (devices x nodes; over 1: DDP)."""
        return self.devices * self.num_nodes

    @model_validator(mode="after")
    def _warmup_within_the_run(self) -> "TrainingConfig":
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs:g}) must be shorter than the run "
                             f"(epochs: {self.epochs}): the LR would never reach learning_rate. "
                             "Lower warmup_epochs or train longer.")
        return self

    @model_validator(mode="after")
    def _patience_shorthand(self) -> "TrainingConfig":
        if self.early_stopping_patience is not None:
            es = self.early_stopping or EarlyStoppingConfig()
            self.early_stopping = es.model_copy(update={"patience": self.early_stopping_patience})
        return self


class LossConfig(_Strict):
    type: Optional[Literal["ce", "bce", "focal", "ce_dice"]] = Field(None, description="default: the task's")
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    pos_weight: Union[float, Literal["auto"], None] = None
    gamma: float = Field(2.0, ge=0.0, description="focal loss")
    ce_weight: float = Field(1.0, ge=0.0)
    dice_weight: float = Field(1.0, ge=0.0)

    @field_validator("pos_weight", mode="before")
    @classmethod
    def _pos_weight(cls, v: Any) -> Any:
        return _number(v)


class RunConfig(_Strict):
    name: Optional[str] = None
    task: TaskConfig = Field(default_factory=TaskConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    loss: LossConfig = Field(default_factory=LossConfig)


def _valid_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        inner = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not inner:
            return []
        model = inner[0]
    return list(model.model_fields)


def _explain(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            valid = _valid_keys(RunConfig, loc)
            lines.append(f"unknown key {key!r}; valid keys here: {', '.join(valid)}")
        else:
            lines.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
    return f"{where}: invalid config: " + "; ".join(lines)


def set_key(data: dict, dotted: str, value: Any) -> None:
    node = data
    parts = dotted.split(".")
    for p in parts[:-1]:
        nxt = node.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            node[p] = nxt
        node = nxt
    node[parts[-1]] = value


def parse_overrides(pairs: list[str]) -> list[tuple[str, Any]]:
    out = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{arg('overrides', lib='an item of overrides')} expects key=value "
                              f"(e.g. training.learning_rate=2e-5), got {pair!r}.")
        out.append((key.strip(), _number(yaml.safe_load(raw)) if raw.strip() else None))
    return out


def build_config(data: dict | None, overrides: list[str] = (), where: str = "config") -> RunConfig:
    data = copy.deepcopy(data or {})
    for key, value in parse_overrides(list(overrides)):
        set_key(data, key, value)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, where)) from None


def load_config(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file.") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: a directory, not a config file (YAML).") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; a config is YAML text.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{at}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: a config is a YAML mapping with sections task, model, "
                          f"training, loss; got a {type(data).__name__}.")
    return build_config(data, overrides, where=str(path))


def config_dict(cfg: RunConfig) -> dict:
    """The resolved config as plain data (saved with every run)."""
    return cfg.model_dump(mode="json")


def apply_patch(base: dict, patch: dict) -> dict:
    """``base`` with ``patch`` merged in, section by section (a recommendation's patch)."""
    out = copy.deepcopy(base)
    for k, v in patch.items():
        out[k] = apply_patch(out.get(k) or {}, v) if isinstance(v, dict) else v
    return out


def read_patch(path: str, pick: int = 1) -> tuple[dict, str]:
    """A config patch and where it came from: a YAML/JSON mapping of config sections, or a
    diagnosis document (``fitdoctor diagnose --json``), whose recommendation number ``pick``
    (from 1) gives it; ``-`` reads standard input."""
    import sys

    if path == "-":
        text, where = sys.stdin.read(), "standard input"
    else:
        try:
            text, where = Path(path).read_text(encoding="utf-8"), path
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{arg('patch', path, lib=path)}: cannot read it "
                              f"({getattr(exc, 'strerror', None) or type(exc).__name__}).") from None
    named = arg("patch", where, lib=where)                   # --patch on the command line
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, list) and all(isinstance(d, dict) and "recommendations" in d for d in data):
        raise ConfigError(f"{named}: holds {len(data)} diagnoses; give the one of the run "
                          "to patch (diagnose one history at a time).")
    if isinstance(data, dict) and str(data.get("schema", "")).startswith("fitdoctor.diagnosis/"):
        recs = [r for r in data.get("recommendations") or [] if r.get("patch")]
        if not 1 <= pick <= len(recs):
            raise ConfigError(f"{named}: the diagnosis has {len(recs)} recommendation(s) "
                              f"with a patch; {arg('pick', pick)} is not one of them.")
        rec = recs[pick - 1]
        return rec["patch"], (f"recommendation {pick} ({rec.get('code')}) of the diagnosis of "
                              f"{data.get('source')}")
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{named}: a patch is a YAML or JSON mapping of config sections "
                          "(training:, model:, ...), or a diagnosis from `fitdoctor diagnose --json`.")
    return data, where



def edit_config_text(text: str, updates: list[tuple[str, Any]], where: str = "config") -> str:
    """``text`` (a config's YAML) with each dotted key of ``updates`` set, everything else kept:
    comments, key order, flow or block style, indentation (ruamel.yaml's round trip). The result
    is read back as fitdoctor reads a config, and must resolve to the original config with the
    updates applied; otherwise a ConfigError, and nothing should be written."""
    import io

    from ruamel.yaml import YAML, YAMLError
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        doc, indent, block_seq_indent = load_yaml_guess_indent(text)
    except YAMLError as exc:                         # e.g. a duplicate key, which PyYAML lets pass
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{where}{at}: cannot edit it keeping its layout "
                          f"({getattr(exc, 'problem', None) or type(exc).__name__}); fix that line, "
                          "or set the value by hand.") from None
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a config is a YAML mapping; got a {type(doc).__name__}.")
    for key, value in updates:
        set_key(doc, key, value)
    rt = YAML()
    rt.width = 4096                                  # never re-wrap a long line
    rt.indent(mapping=indent or 2, sequence=indent or 2, offset=block_seq_indent or 0)
    buf = io.StringIO()
    rt.dump(doc, buf)
    new = buf.getvalue()
    expected = copy.deepcopy(yaml.safe_load(text) or {})
    for key, value in updates:
        set_key(expected, key, value)
    wanted = config_dict(build_config(expected, where=where))
    try:
        got = config_dict(build_config(yaml.safe_load(new), where=where))
    except (yaml.YAMLError, ConfigError):
        got = None
    if got != wanted:
        keys = ", ".join(f"{k}: {v}" for k, v in updates)
        raise ConfigError(f"{where}: the edited config would not read back as intended; set "
                          f"{keys} by hand.")
    return new

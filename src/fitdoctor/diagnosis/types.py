"""Frozen results of a diagnosis. Plain data: renderers and the JSON document read them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "critical")


Z95 = 1.959963984540054             # two-sided 95 %: the one place it is written


@dataclass(frozen=True)
class DiagnoseOptions:
    """Knobs of the detectors; defaults are the documented behaviour."""

    z: float = Z95
    spike_z: float = 4.0                  # robust z beyond which a point is a spike or dip
    underfit_level: float = 0.9           # a proportion metric below this on train is "low"
    noisy_ratio: float = 0.1              # noise / improvement range above which validation is noisy
    lr_confound_r: float = 0.9            # |corr(lr, epoch)| above which LR and epoch are confounded


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recommendation:
    code: str
    title: str
    patch: dict[str, Any]
    rationale: str
    because: tuple[str, ...] = ()         # the finding codes that triggered it
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Phase:
    label: str                            # underfit | fit | overfit | plateau | diverged
    start: float
    end: float
    mean_lr: float | None
    train: float | None
    val: float | None
    gap: float | None


@dataclass(frozen=True)
class Best:
    epoch: float
    value: float
    index: int
    ci95: tuple[float, float] | None      # for the true best level of the curve
    expected: float | None                # bias-corrected estimate of that level
    tied_epochs: tuple[float, ...]
    noise: float | None                   # epoch-to-epoch noise (sigma)
    sampling_se: float | None             # sqrt(p(1-p)/N) when the validation size is known
    se: float | None = None               # the interval's standard error, before any clipping


@dataclass(frozen=True)
class ScheduleFit:
    family: str                           # constant, step, multistep, plateau, exponential, ...
    params: dict[str, Any]
    warmup: float                         # epochs of warmup in front (0 if none)
    rmse: float                           # fit error relative to the peak LR
    description: str


@dataclass(frozen=True)
class GapTrend:
    """The trend of the train-validation gap after the monitor reached its best level."""

    slope_per_epoch: float
    t: float                              # the slope's t statistic


@dataclass(frozen=True)
class Overfitting:
    """Whether and where the run overfits, and the gap at the best epoch and at the end.
    The fields in the order of the JSON document's "overfitting" object."""

    detected: bool = False
    onset_epoch: float | None = None      # where validation stopped improving
    reach_epoch: float | None = None      # the smoothed curve's first epoch near its peak
    gap_at_best: float | None = None      # the raw gap at the best epoch
    gap_at_end: float | None = None
    gap_trend: GapTrend | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class LRSummary:
    """The LR at the moments that matter, as logged. The fields in the order of the JSON
    document's "lr" object; a ``*_frac`` is the LR as a fraction of the peak, None where the
    LR is or the peak is 0."""

    peak: float
    at_best: float | None
    at_onset: float | None
    final: float | None
    at_best_frac: float | None
    at_onset_frac: float | None
    final_frac: float | None
    corr_with_epoch: float                # Pearson's r of the LR with the epoch

    @property
    def fell_after_onset(self) -> bool:
        """The LR ended below its level at the overfitting onset."""
        return self.at_onset is not None and self.final is not None and self.final < self.at_onset

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Diagnosis:
    source: str
    format: str
    name: str
    monitor: str
    mode: str
    monitor_reason: str
    n_points: int
    best: Best
    final_epoch: float
    final_value: float
    overfitting: Overfitting
    phases: tuple[Phase, ...]
    findings: tuple[Finding, ...]
    recommendations: tuple[Recommendation, ...]
    lr: LRSummary | None
    schedule: ScheduleFit | None
    verdict: str
    notes: tuple[str, ...]
    val_size: int | None
    train_column: str | None
    val_size_inferred: bool = False       # val_size read off the metric's granularity

    def finding(self, code: str) -> Finding | None:
        return next((f for f in self.findings if f.code == code), None)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

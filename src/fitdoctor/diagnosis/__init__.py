"""Pure functions over a History: findings with stable codes, phases, LR and schedule audit,
recommendations. No printing, plotting or file I/O here."""

from .document import to_document
from .engine import diagnose
from .types import (Best, DiagnoseOptions, Diagnosis, Finding, Phase, Recommendation,
                    ScheduleFit)

__all__ = ["Best", "DiagnoseOptions", "Diagnosis", "Finding", "Phase", "Recommendation",
           "ScheduleFit", "diagnose", "to_document"]

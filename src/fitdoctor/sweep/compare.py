"""A finished study's runs compared: run against run, or with several seeds per point,
configuration against configuration (a point's seeds are one configuration, named by its
parameters)."""

from __future__ import annotations

from ..diagnosis.comparison import Comparison, compare
from ..diagnosis.configs import ConfigComparison, compare_configs
from ..errors import UsageError
from ..inputs import compare_inputs, name_by_point
from .space import Dimension


def compare_study(run_ids: list[str], store_path: str, dims: list[Dimension], seeds: int,
                  study: str) -> tuple[Comparison | ConfigComparison, dict, dict]:
    """The comparison of the study's runs, their histories and their diagnoses by name."""
    if len(run_ids) < 2:
        raise UsageError(f"study {study} has fewer than two finished runs to compare.")
    inputs, histories = compare_inputs(run_ids, store_path, None, None, None)
    if seeds == 1:
        return compare(inputs), histories, {i.name: i.diagnosis for i in inputs}
    keys = [d.key for d in dims]
    if len({tuple(i.config.get(k) for k in keys) for i in inputs}) < 2:
        raise UsageError(f"study {study} has one configuration (its seeds); nothing to "
                         "compare it with. Give the grid or space more than one point.")
    inputs, histories = name_by_point(inputs, histories, keys)
    return (compare_configs(inputs, r"^(.*) #seed\S+$"), histories,
            {i.name: i.diagnosis for i in inputs})

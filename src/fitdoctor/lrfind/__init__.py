"""LR range test (rules.py: the ramp and the suggestion rules; run.py: on a config's task)."""

from .rules import (
    CONSENSUS, MAX_DISAGREEMENT, MAX_LR, MIN_LR, MOVE_WINDOW, POLICY, PRETRAINED_FACTOR,
    PRETRAINED_NOTE, PRETRAINED_RULE, RISE, RULES, RUN_FACTOR, SMOOTH_MEAN, SMOOTH_MEDIAN, STEPS,
    LRFindResult, RangeCurve, combine, moved_from, policy, range_test, refusal, smoothed, suggest,
    summarize)

__all__ = [
    "CONSENSUS", "MAX_DISAGREEMENT", "MAX_LR", "MIN_LR", "MOVE_WINDOW", "POLICY",
    "PRETRAINED_FACTOR", "PRETRAINED_NOTE", "PRETRAINED_RULE", "RISE", "RULES", "RUN_FACTOR",
    "SMOOTH_MEAN", "SMOOTH_MEDIAN", "STEPS", "LRFindResult", "RangeCurve", "combine", "moved_from",
    "policy", "range_test", "refusal", "smoothed", "suggest", "summarize"]

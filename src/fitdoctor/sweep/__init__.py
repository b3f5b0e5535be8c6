"""Sweeps on Optuna. A trial is one config (grid point or sampled point) trained once per seed
through the trainer; its value is the mean smoothed best of the monitored metric. The study
lives in the run store's SQLite file by default, so a sweep survives interruption and several
processes (``--worker``) can share it; ``--storage`` takes any RDB URL (PostgreSQL for several
machines) or ``journal:PATH`` (Optuna's journal file)."""

from .space import SPACE_KINDS, Dimension, all_grid_points, grid_size, parse_grid, parse_space, suggest
from .storage import make_storage

__all__ = ["SPACE_KINDS", "Dimension", "all_grid_points", "grid_size", "make_storage", "parse_grid",
           "parse_space", "suggest"]

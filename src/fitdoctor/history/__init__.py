"""Training histories: the History type, canonical metric names, and the readers."""

from .core import History, make_history
from .names import canonical_name, infer_mode
from .readers import FORMATS, read_histories, read_history

__all__ = ["FORMATS", "History", "canonical_name", "infer_mode", "make_history",
           "read_histories", "read_history"]

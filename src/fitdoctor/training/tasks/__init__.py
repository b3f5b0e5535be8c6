"""Built-in real-data tasks and the entry point for user tasks (registry.py)."""

from .registry import (
    TaskData, BUILTIN, build_task)

__all__ = [
    "TaskData", "BUILTIN", "build_task"]

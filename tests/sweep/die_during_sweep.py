"""Test helper: run a sweep and die (os._exit) in the middle of its second trial's training."""

import os
import sys

from fitdoctor.training import runner

calls = {"n": 0}
original = runner.train


def dying_train(*args, **kwargs):
    calls["n"] += 1
    if calls["n"] == 2:
        os._exit(9)
    return original(*args, **kwargs)


runner.train = dying_train
from fitdoctor.cli import main  # noqa: E402

sys.argv = ["fitdoctor", *sys.argv[1:]]
main()

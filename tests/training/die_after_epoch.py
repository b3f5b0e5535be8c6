"""Test helper: run `train` and kill the process (os._exit, no cleanup) right after epoch N
was recorded, as a kill -9 would."""

import os
import sys

from fitdoctor.training import callbacks
from fitdoctor.training.config import load_config
from fitdoctor.training.runner import train

config, die_after, store, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
original = callbacks.EpochRecorder.on_train_epoch_end


def dying(self, trainer, module):
    original(self, trainer, module)
    if int(self.last.get("epoch", -1)) == die_after:
        os._exit(9)


callbacks.EpochRecorder.on_train_epoch_end = dying
train(load_config(config), store_path=store, out_dir=out, progress=False, say=lambda m: None)

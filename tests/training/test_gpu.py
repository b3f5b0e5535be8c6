"""On a GPU (skipped without one; run on the device machine), the standard loop (fast mode off; see
test_fast_gpu.py for fast mode): a training step never waits for
the GPU — torch's sync debug mode set to "error" around every step after the first turns any
host synchronisation (an .item(), a bool() of a device tensor, a pageable copy) into an error —
and a non-finite loss is still caught by the asynchronous probe."""

import lightning as L
import pytest
import torch

from fitdoctor.store import RunStore
from fitdoctor.training.config import build_config
from fitdoctor.training.runner import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class NoSyncInSteps(L.Callback):
    steps = 0

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if batch_idx >= 1:                  # the first step allocates and may synchronise
            torch.cuda.set_sync_debug_mode("error")
            NoSyncInSteps.steps += 1

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        torch.cuda.set_sync_debug_mode("default")


def config(**training):
    return build_config({"task": {"name": "image", "dataset": "digits", "train_size": 1400, "val_size": 200,
                                  "batch_size": 16},
                         "training": {"epochs": 2, "learning_rate": 3e-3, "accelerator": "gpu", "fast": False,
                                      **training}})


@pytest.mark.parametrize("precision", ["32", "bf16-mixed"])
def test_training_steps_never_wait_for_the_gpu(tmp_path, precision):
    NoSyncInSteps.steps = 0
    try:
        r = train(config(precision=precision), store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path),
                  say=lambda m: None, warn=lambda m: None, progress=False, extra_callbacks=[NoSyncInSteps()])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert r.status == "completed" and NoSyncInSteps.steps >= 2 * 80
    table = RunStore(str(tmp_path / "s.db")).epochs(r.run_id)
    assert table["train_loss"].notna().all() and table["train_acc"].between(0, 1).all()


def test_a_non_finite_loss_is_caught_on_the_gpu(tmp_path):
    r = train(config(learning_rate=1e30, epochs=3), store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path),
              say=lambda m: None, warn=lambda m: None, progress=False)
    assert r.stop_reason == "non_finite" and r.epochs <= 1


def test_the_guard_catches_a_host_sync(tmp_path):
    """The control: the same guard with one .item() in the step fails the run."""
    class ReadsTheLoss(L.Callback):
        def on_before_backward(self, trainer, module, loss):
            loss.item()

    try:
        with pytest.raises(RuntimeError, match="synchroniz"):
            train(config(), store_path=str(tmp_path / "s.db"), out_dir=str(tmp_path), say=lambda m: None,
                  warn=lambda m: None, progress=False, extra_callbacks=[NoSyncInSteps(), ReadsTheLoss()])
    finally:
        torch.cuda.set_sync_debug_mode("default")

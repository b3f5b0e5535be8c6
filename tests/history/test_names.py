import pytest

from fitdoctor.history.names import canonical_name, infer_mode


@pytest.mark.parametrize("raw, bare, expected", [
    ("metrics/accuracy_top1", "train", "val_acc"),       # Ultralytics classification
    ("metrics/accuracy_top5", "train", "val_acc5"),
    ("dev acc", "train", "val_acc"),
    ("eval_accuracy", "train", "val_acc"),
    ("val_accuracy", "train", "val_acc"),
    ("eval_loss", "train", "val_loss"),
    ("learning_rate", "train", "lr"),
    ("lr-AdamW", "train", "lr"),
    ("train_lr", "train", "lr"),
    ("lr/pg1", "train", "lr_pg1"),
    ("accuracy", "train", "train_acc"),          # Keras: bare keys are training metrics
    ("loss", "train", "train_loss"),
    ("Test Acc", "train", "test_acc"),
    ("metrics/mAP50-95(B)", "train", "val_map"),
    ("metrics/mAP50(B)", "train", "val_map50"),
    ("val/box_loss", "train", "val_box_loss"),
    ("eval_g3_accuracy", "train", "val_g3_acc"),
    ("eval_top1", "train", "val_acc"),
    ("Best test accuracy", "final", "best_test_acc"),
    ("epoch", "train", "epoch"),
    ("global_step", "train", "step"),
])
def test_canonical_names(raw, bare, expected):
    assert canonical_name(raw, bare_split=bare) == expected


@pytest.mark.parametrize("col, mode", [("val_acc", "max"), ("val_loss", "min"), ("val_map", "max"),
                                       ("train_class_error", "min"), ("val_r2", "max")])
def test_direction_is_inferred_in_one_place(col, mode):
    assert infer_mode(col) == mode

"""Hugging Face Trainer ``trainer_state.json``: one row per evaluation (training loss averaged
over the logging steps since the previous evaluation, the last learning rate before it); a
history without evaluations gets one row per logging step."""

from __future__ import annotations

import pandas as pd

from ...errors import LogFormatError
from ..names import canonical_name
from .tables import per_evaluation

_DROP = ("runtime", "samples_per_second", "steps_per_second")
_FINAL = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos",
          "train_loss")


def read_trainer_state(path: str, state: dict) -> list[tuple[pd.DataFrame, dict]]:
    log = [r for r in state.get("log_history", []) if isinstance(r, dict)]
    notes: list[str] = []
    final: dict = {}
    train_rows, eval_rows = [], {}
    for rec in log:
        if "train_runtime" in rec:
            final.update({f"summary_{k}": v for k, v in rec.items() if k in _FINAL})
            continue
        evals = {k: v for k, v in rec.items() if k.startswith("eval_") and
                 isinstance(v, (int, float)) and not k.endswith(_DROP)}
        if evals:
            row = eval_rows.setdefault(rec.get("step"), {"step": rec.get("step"),
                                                          "epoch": rec.get("epoch")})
            row.update({canonical_name(k): v for k, v in evals.items()})
        elif "loss" in rec or "learning_rate" in rec:
            train_rows.append(rec)
    stepless = sum(1 for r in [*train_rows, *eval_rows.values()]
                   if not isinstance(r.get("step"), (int, float)) or isinstance(r.get("step"), bool))
    if stepless:                  # rows are merged and ordered by step: none to go by
        raise LogFormatError(f"{path}: {stepless} log_history entr{'y has' if stepless == 1 else 'ies have'} "
                             "no numeric 'step'; a Trainer's trainer_state.json gives one in every "
                             "entry.")
    train = pd.DataFrame(train_rows)
    rename = {"loss": "train_loss", "learning_rate": "lr"}
    train = train.rename(columns=rename)
    keep = [c for c in ("step", "epoch", "train_loss", "lr", "grad_norm") if c in train.columns]
    train = train[keep] if len(train) else train
    if eval_rows:
        table = per_evaluation(train, pd.DataFrame(list(eval_rows.values())))
        if len(train):
            notes.append("one row per evaluation; training loss averaged over the logging steps "
                         "since the previous evaluation")
    else:
        table = train
        notes.append("no evaluation entries: one row per logging step (training loss only)")
    table = _step_axis_if_epoch_restarts(table, notes)
    config = {k: state[k] for k in ("best_metric", "best_model_checkpoint", "global_step",
                                    "num_train_epochs", "train_batch_size", "eval_steps")
              if state.get(k) is not None}
    return [(table.reset_index(drop=True), {"notes": notes, "final": final, "config": config,
                                            "val_size": None})]


def _step_axis_if_epoch_restarts(table: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """A Trainer on a streaming dataset (max_steps, no length) logs an ``epoch`` that restarts
    while ``step`` keeps rising: ordered by epoch, the run's last point and its warmup would be
    lost. Then the step is the x axis and the epoch only a label, named in the notes."""
    if "step" not in table.columns or "epoch" not in table.columns or len(table) < 2:
        return table
    table = table.sort_values("step", kind="stable")
    epoch = pd.to_numeric(table["epoch"], errors="coerce").to_numpy(dtype=float)
    back = [i for i in range(1, len(epoch)) if epoch[i] < epoch[i - 1] - 1e-9]
    if not back:
        return table
    steps = ", ".join(f"{table['step'].iloc[i]:g}" for i in back[:5]) + (" ..." if len(back) > 5 else "")
    notes.append(f"the epoch field restarts while the step keeps rising (at step {steps}; a streaming "
                 "dataset): the epoch is dropped, the rows ordered by step")
    return table.drop(columns="epoch")

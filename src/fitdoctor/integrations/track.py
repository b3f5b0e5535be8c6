"""``fitdoctor.track``: put a plain PyTorch loop's history into the run store.

    with fitdoctor.track("my-run", config={"lr": 1e-3}) as run:
        for epoch in range(epochs):
            ...
            run.log(epoch=epoch, lr=lr, train_loss=tl, val_acc=va)

Then ``fitdoctor diagnose RUN_ID`` (or ``run.diagnose()``). Keys go through fitdoctor's
canonical names (``dev acc`` -> ``val_acc``); non-finite values and a growing gap are warned
about as they come."""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from ..history.names import Monitor, canonical_name, resolve_monitor
from ..store import DEFAULT_PATH, RunStore
from ..training.early_stopping import train_val_gap


class Run:
    def __init__(self, name: str | None = None, config: Mapping[str, Any] | None = None, *,
                 store: str = DEFAULT_PATH, monitor: str | None = None, mode: str | None = None,
                 val_size: int | None = None, report: str | None = None, gap_warning: float | None = None):
        self.store = RunStore(store)
        # a declared monitor without a mode takes its own direction (val_acc: max), as in training
        self.monitor, self.mode = monitor, resolve_monitor(monitor, mode, "").mode if monitor else mode
        self.report, self.gap_warning = report, gap_warning
        self.run_id = self.store.create_run(dict(config or {}), name=name, monitor=monitor, mode=self.mode,
                                            val_size=val_size)
        self._next = 0
        self._best: tuple[float, float] | None = None
        self.finished = False

    def log(self, epoch: float | None = None, step: int | None = None, **metrics: float) -> None:
        """One row (an epoch or an evaluation). ``epoch`` defaults to 0, 1, 2, ..."""
        row: dict[str, Any] = {}
        for key, value in metrics.items():
            if value is None:
                continue
            name = canonical_name(key)
            v = float(value)
            row[name] = v
            if not math.isfinite(v):
                warnings.warn(f"fitdoctor: {name} is {v} at epoch {epoch if epoch is not None else self._next}",
                              stacklevel=2)
        key = self._next
        self._next += 1
        row["epoch"] = float(epoch) if epoch is not None else float(key)
        if step is not None:
            row["step"] = float(step)
        self.store.log_epoch(self.run_id, key, row)
        monitor = self.monitor or next((c for c in ("val_acc", "val_f1", "val_loss") if c in row), None)
        if monitor and monitor in row and math.isfinite(row[monitor]):
            if self.monitor is None:
                self.monitor, self.mode = monitor, resolve_monitor(monitor, self.mode, "").mode
                self.store.update_run(self.run_id, monitor=monitor, mode=self.mode)
            better = Monitor(monitor, self.mode).is_better(
                row[monitor], None if self._best is None else self._best[1])
            if better:
                self._best = (row["epoch"], row[monitor])
                self.store.update_run(self.run_id, best_epoch=self._best[0], best_value=self._best[1])
        gap = train_val_gap(row, monitor) if monitor else None
        if self.gap_warning is not None and gap is not None and gap > self.gap_warning:
            warnings.warn(f"fitdoctor: train-val gap {gap:.3g} above {self.gap_warning:g} "
                          f"at epoch {row['epoch']:g}", stacklevel=2)

    def diagnose(self):
        from ..diagnosis import diagnose
        return diagnose(self.store.history(self.run_id))

    def finish(self, status: str = "completed", stop_reason: str | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        self.store.update_run(self.run_id, status=status, stop_reason=stop_reason or status)
        if self.report and self._next > 0:
            from ..report import write_reports
            h = self.store.history(self.run_id)
            from ..diagnosis import diagnose
            written = write_reports(h, diagnose(h), self.report)
            self.store.add_artifact(self.run_id, "report", written["html"])


@contextmanager
def track(name: str | None = None, config: Mapping[str, Any] | None = None, **kwargs) -> Iterator[Run]:
    """A run in the store for a plain loop; marked completed, or failed on an exception."""
    run = Run(name, config, **kwargs)
    try:
        yield run
    except KeyboardInterrupt:
        run.finish("interrupted", "interrupted")
        raise
    except BaseException:
        run.finish("failed", "exception")
        raise
    run.finish()

"""SIGINT and SIGTERM as a request to stop at a safe point, never a kill in the middle of a write.

While ``stop_signals()`` is active, the first SIGINT or SIGTERM is only recorded. Inside
``Trainer.fit`` it is handed to Lightning's own SIGTERM handling (SIGINT included), which stops
at the end of the current batch, or after the epoch-end hooks (the store row and the checkpoint
are written whole), and raises ``SIGTERMException``; the runner turns that into ``Interrupted``.
Outside fit the caller checks ``stop.signum`` at its own safe points. A second signal exits at
once (its run is then shown as stale and resumes from its last checkpoint).

Nested uses share the outer one: a sweep keeps one over all its trials. Only the main thread can
take signals; elsewhere this is a no-op. A signal the process was started to ignore stays ignored."""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from ..errors import Interrupted

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_active: "StopSignals | None" = None


class StopSignals:
    def __init__(self) -> None:
        self.signum: int | None = None
        self._forwarding = False

    def _handle(self, signum: int, frame) -> None:
        if self._forwarding:
            return                                  # our own forward coming back through Lightning
        if self.signum is not None and _ddp_child():
            return                                  # rank 0 forwards its signal: the same request
        if self.signum is not None:
            name = signal.Signals(signum).name
            os.write(2, f"\n{name} again: stopping now, without waiting for a safe point "
                        "(the run resumes from its last checkpoint)\n".encode())
            os._exit(128 + signum)
        self.signum = signum
        if signum != signal.SIGTERM:
            self.forward(frame)

    def forward(self, frame=None) -> None:
        """Pass the recorded request to the SIGTERM handler in place: inside ``Trainer.fit`` that
        is Lightning's, which stops at the next safe point (and tells the other DDP ranks)."""
        handler = signal.getsignal(signal.SIGTERM)
        if not callable(handler) or handler == self._handle:
            return
        self._forwarding = True
        try:
            handler(signal.SIGTERM, frame)
        finally:
            self._forwarding = False

    def check(self) -> None:
        """Raise ``Interrupted`` (with no run) if a signal came."""
        if self.signum is not None:
            raise Interrupted(self.signum)


def _ddp_child() -> bool:
    return os.environ.get("LOCAL_RANK", "0") != "0" or os.environ.get("NODE_RANK", "0") != "0"


@contextmanager
def stop_signals() -> Iterator[StopSignals]:
    global _active
    if _active is not None:
        yield _active
        return
    stop = StopSignals()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    # a signal the process was started to ignore (`nohup`, `cmd &` in a script) stays ignored
    previous = {s: h for s in _SIGNALS if (h := signal.getsignal(s)) != signal.SIG_IGN}
    for s in previous:
        # Ctrl+C reaches every DDP rank; the children leave the decision to rank 0, which hands
        # it to them at the same batch (Lightning's SIGTERM to its children, and its broadcast)
        signal.signal(s, signal.SIG_IGN if s == signal.SIGINT and _ddp_child() else stop._handle)
    _active = stop
    try:
        yield stop
    finally:
        _active = None
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)

"""Ctrl-C and SIGTERM wait for the write in progress to land.

LanceDB's synchronous calls wait on a future that a background event loop completes. A
KeyboardInterrupt ends the wait, not the write: the commit still lands a moment later. If the
interrupted command then rolls its batch back (Catalog.recover), the rollback can run before
that commit and miss it, leaving a source row whose units were deleted (the next ingest skips
the file as unchanged). So a write holds the signals until it is whole, and the interrupt is
raised where the write ends. A second signal does not wait: the process exits at once, as a
SIGKILL would, and the journal lets the next command roll the write back.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_state = threading.local()


@contextmanager
def deferred_interrupts():
    """Hold SIGINT/SIGTERM for the block; nested blocks share the outermost one, which
    delivers a held signal to its own handler after the block (Ctrl-C: KeyboardInterrupt there).
    Only the main thread receives signals, so elsewhere this is a no-op."""
    if threading.current_thread() is not threading.main_thread() or getattr(_state, "depth", 0):
        _state.depth = getattr(_state, "depth", 0) + 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    caught: list[int] = []

    def hold(signum, frame) -> None:
        if previous.get(signum) is signal.SIG_IGN:
            return
        if caught:  # a second Ctrl-C: stop now; the journal makes the next command recover
            sys.stderr.write("\nstopped; the next command rolls back the unfinished write\n")
            os._exit(130)
        caught.append(signum)
        if signum == signal.SIGINT:  # a long write (a reindex) must not look as if it ignored the key
            sys.stderr.write("\nfinishing the write in progress (Ctrl-C again to stop at once)\n")

    previous: dict = {}  # bound before the handlers go in: a signal may arrive while they do
    previous.update({s: signal.signal(s, hold) for s in _SIGNALS})
    _state.depth = 1
    try:
        yield
    finally:
        _state.depth = 0
        for s, h in previous.items():
            signal.signal(s, signal.SIG_DFL if h is None else h)  # None: set outside Python
    if caught:
        signal.raise_signal(caught[0])

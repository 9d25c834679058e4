"""Steps that happen whole: Ctrl-C is held back while the lines that change a model run.

An optimizer step writes thousands of floats; a KeyboardInterrupt landing among them would
leave a model that matches no step at all. ``interrupts_deferred()`` wraps such a stretch:
a SIGINT arriving inside it is remembered, and raised as the usual KeyboardInterrupt as soon
as the stretch is over, so the model is at the step before or the step after, never between.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

_depth = 0  # nesting depth in the main thread (signals are only delivered there)
_pending = False


def _remember(signum, frame) -> None:
    global _pending
    _pending = True


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT for the duration of the block, then raise KeyboardInterrupt if one came.

    Only the main thread receives signals, so elsewhere this is a no-op; so it is when some
    other SIGINT handler than Python's default is installed (a caller's own handling wins).
    Nested blocks hold until the outermost one ends.
    """
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield
        return
    _pending = False
    signal.signal(signal.SIGINT, _remember)
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        signal.signal(signal.SIGINT, previous)
        if _pending:
            _pending = False
            raise KeyboardInterrupt

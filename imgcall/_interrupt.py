"""Holding Ctrl-C back while an image and its manifest line are written.

The library never installs a signal handler. A run marks the few lines that write a file
and its manifest line with `shielded`; a program that wants Ctrl-C to finish that file
first (``imgcall extract``) installs a SIGINT handler that calls `defer_interrupt`, which
says whether a write is under way and, if so, remembers the request. The program then
stops at the next record with `take_pending`. Anywhere else (reading the input, decoding)
the handler raises `KeyboardInterrupt` at once, which leaves nothing half-written either:
files are written atomically and temporary files are removed.

Signal handlers run in the main thread only, so only the main thread's writes are shielded.
`finish_writes_on_ctrl_c` is that handler, for the command line.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["defer_interrupt", "finish_writes_on_ctrl_c", "shielded", "take_pending"]


class _State:
    depth = 0
    pending = False


_state = _State()


class _Shield:
    """`shielded`'s context manager: a class, not a ``@contextmanager`` generator, since
    a run enters one for every image (~3 us a generator here; issue 15)."""

    __slots__ = ("_counted",)

    def __enter__(self) -> None:
        # Signal handlers run in the main thread only: only its writes are shielded.
        self._counted = threading.get_ident() == threading.main_thread().ident
        if self._counted:
            _state.depth += 1

    def __exit__(self, *exc: object) -> None:
        if self._counted:
            _state.depth -= 1


def shielded() -> AbstractContextManager[None]:
    """Mark a write that a deferring SIGINT handler lets finish."""
    return _Shield()


def defer_interrupt() -> bool:
    """For a SIGINT handler: True (and the request is kept) while a write is under way."""
    if _state.depth > 0:
        _state.pending = True
        return True
    return False


def take_pending() -> bool:
    """True once if an interrupt was deferred since the last call."""
    pending, _state.pending = _state.pending, False
    return pending


@contextmanager
def finish_writes_on_ctrl_c() -> Iterator[None]:
    """While inside, Ctrl-C lets the image being written finish (for a command line).

    Elsewhere Ctrl-C raises `KeyboardInterrupt` at once, as usual; during a `shielded`
    write it is held until the write is done (see `take_pending`). A SIGINT that the
    shell set to be ignored (``nohup``, background jobs) stays ignored; outside the main
    thread nothing changes.
    """

    def on_sigint(signum: int, frame: object) -> None:
        if not defer_interrupt():
            raise KeyboardInterrupt

    try:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            yield
            return
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)

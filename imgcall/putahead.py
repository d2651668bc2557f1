"""Images put into object storage ahead of their records: several PUTs in flight at once.

An output folder in object storage costs a HEAD and a PUT per image, each a round trip
(tens of milliseconds to a real store). Sent one after the other by the calling process,
they are what limits a large run (bench/README, the scaling model). `PutAhead` keeps up
to `WINDOW` writes (and at most `WINDOW_BYTES` of images) in flight on a pool of threads
while the run goes on reading and naming; the records still come out in input order,
each once its write is over. `imgcall.saverun` decides every name on the calling thread,
in input order, from the run's claims, and waits for a write in flight before it
decides a name that write holds, so each record and the manifest are exactly those of
writes made one at a time. Only the policies whose answer for a name is final (``error``,
``skip``, ``overwrite``) write ahead: with ``rename`` an answer can send the image on to
the next name, so those runs write one image at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from .writing import Written

__all__ = ["WINDOW", "WINDOW_BYTES", "Done", "PutAhead"]

WINDOW = 16
"""Writes in flight at most (an S3 client keeps 10-50 connections; 16 is plenty for one
process and gentle on a small store); read by `imgcall.saverun` at the start of each
run, and 1 there means one write at a time."""
WINDOW_BYTES = 64 << 20
"""Bytes of images in flight at most, so a window of large images stays small."""

T = TypeVar("T")


@dataclass
class Done(Generic[T]):
    """One entry out of the window, in input order: the write's answer or its error."""

    item: T
    file_name: str | None
    outcome: Written | None = None
    error: BaseException | None = None


@dataclass(slots=True)
class _Entry(Generic[T]):
    item: T
    file_name: str | None
    key: str | None
    size: int
    future: Future[Written]


class PutAhead(Generic[T]):
    """A window of writes; ``write(file_name, data)`` is called on a worker thread."""

    def __init__(
        self,
        write: Callable[[str, bytes], Written | None],
        *,
        window: int = WINDOW,
        max_bytes: int = WINDOW_BYTES,
    ) -> None:
        self._write = write
        self._window = max(1, window)
        self._max_bytes = max_bytes
        self._entries: deque[_Entry[T]] = deque()
        self._keys: set[str] = set()
        self._bytes = 0
        self._pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def holds(self, key: str) -> bool:
        """True while a write in flight holds the name ``key`` (lower-cased)."""
        return key in self._keys

    def full(self, size: int = 0) -> bool:
        """True if one more write of ``size`` bytes must wait for the oldest."""
        if not self._entries:
            return False
        return len(self._entries) >= self._window or self._bytes + size > self._max_bytes

    def put(self, item: T, file_name: str, key: str, data: bytes) -> None:
        """Start writing ``data`` as ``file_name``; its answer comes out of `pop`."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._window, "imgcall-put")
        future = self._pool.submit(self._checked, file_name, data)
        self._entries.append(_Entry(item, file_name, key, len(data), future))
        self._keys.add(key)
        self._bytes += len(data)

    def _checked(self, file_name: str, data: bytes) -> Written:
        outcome = self._write(file_name, data)
        if outcome is None:  # only 'rename' answers so, and it never writes ahead
            raise AssertionError(f"no final answer for {file_name}")
        return outcome

    def add(self, item: T) -> None:
        """An entry without a write (a record already known), kept in its place in order."""
        future: Future[Written] = Future()
        future.set_result("exists")
        self._entries.append(_Entry(item, None, None, 0, future))

    def pop(self) -> Done[T]:
        """The oldest entry, once its write is over."""
        entry = self._entries[0]
        try:
            outcome: Written | None = entry.future.result()
            error: BaseException | None = None
        except Exception as exc:  # the write's own error, given to the caller to record
            outcome, error = None, exc
        self._entries.popleft()
        if entry.key is not None:
            self._keys.discard(entry.key)
        self._bytes -= entry.size
        if entry.file_name is None:
            return Done(entry.item, None)
        return Done(entry.item, entry.file_name, outcome, error)

    def close(self) -> None:
        """Wait for the pool's threads (after every entry was popped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

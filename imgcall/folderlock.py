"""One run at a time per output folder: the lock by which a run owns its manifest.

Two runs writing one folder's ``imgcall-manifest.jsonl`` at once would interleave their
lines (each truncates the file and writes from its own offset). So a saving run holds
`FolderLock` on ``.imgcall.lock`` in the folder from its start to its end: a second
run waits up to `LOCK_WAIT` seconds for the first to finish, then gives up with
`OutputLockedError`, naming the run that holds the folder (pid, host, start time), before
it has read or written anything.

The lock is ``flock`` on POSIX and ``msvcrt.locking`` on Windows: the operating system
drops it when its process ends, however it ends, so a killed run never blocks the next
one (its lock file is simply taken over). The file names its holder while it is held
and is removed by the holder on release; a waiter that opened the file just before it
was removed notices (the name no longer leads to its file) and opens the new one.
Whatever is at the lock's name and is not a regular file is never opened (see
`imgcall.writing`): the run is refused instead.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
import time
from pathlib import Path
from types import TracebackType

from .errors import OutputLockedError

__all__ = ["LOCK_NAME", "LOCK_WAIT", "FolderLock"]

LOCK_NAME = ".imgcall.lock"
"""The lock file a run holds in its output folder."""
LOCK_WAIT = 5.0
"""Seconds a run waits for another run to leave the folder before giving up."""
_POLL = 0.05
_OPEN_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
# Windows locks are mandatory: the locked byte lies beyond the holder's details, which
# a waiting run must still be able to read.
_WIN_LOCK_OFFSET = 1 << 20
# Where the folder cannot take a lock file, nothing can be written there either: the
# run goes on without a lock and each write says why it failed.
_UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, getattr(errno, "EDQUOT", -1))


class FolderLock:
    """The lock on ``folder/.imgcall.lock``; `acquire` it, then `release` it (or ``with``).

    ``wait`` is how long `acquire` waits for another holder (default `LOCK_WAIT`).
    """

    def __init__(self, folder: Path, *, wait: float | None = None) -> None:
        self.path = folder / LOCK_NAME
        self.wait = wait
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock, waiting a little for another run; False if the folder takes none.

        Raises `OutputLockedError` when another run still holds the folder after the
        wait, or when something other than a regular file has the lock's name.
        """
        wait = LOCK_WAIT if self.wait is None else self.wait
        deadline = time.monotonic() + wait
        while True:
            fd = self._open()
            if fd is None:
                return False
            if _try_lock(fd):
                if _still_named(fd, self.path):
                    _write_holder(fd)
                    self._fd = fd
                    return True
                os.close(fd)  # removed by the run that just left: take the new file
                continue
            holder = _read_holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise OutputLockedError(
                    f"the output folder {self.path.parent} is in use by another imgcall run "
                    f"({holder}); waited {wait:g} s for it to finish. Run again once it is "
                    "done, or save into another folder"
                )
            time.sleep(_POLL)

    def release(self) -> None:
        """Remove the lock file and let go of the lock; safe to call when not held."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if sys.platform == "win32":
                # An open file cannot be removed there: leave it empty for the next run.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
            else:
                # Removed while still held, so no other run can have locked this file.
                with contextlib.suppress(OSError):
                    if _still_named(fd, self.path):
                        os.unlink(self.path)
        finally:
            os.close(fd)  # the lock goes with the last descriptor

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _open(self) -> int | None:
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            if exc.errno in _UNWRITABLE:
                return None
            raise _refused(self.path, exc.strerror or str(exc)) from exc
        if mode is not None and not stat.S_ISREG(mode):
            raise _refused(self.path, "something other than a regular file has its name")
        for attempt in range(_RECREATE):
            try:
                fd = os.open(self.path, _OPEN_FLAGS, 0o666)
                break
            except FileNotFoundError as exc:
                # Another run starting into the same new folder probes it and removes it
                # again while it is still empty (saving.probe_folder): make it again.
                if attempt == _RECREATE - 1:
                    raise _refused(self.path, exc.strerror or str(exc)) from exc
                with contextlib.suppress(OSError):
                    self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                if exc.errno in _UNWRITABLE:
                    return None
                raise _refused(self.path, exc.strerror or str(exc)) from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped in since the lstat
            os.close(fd)
            raise _refused(self.path, "something other than a regular file has its name")
        return fd


_RECREATE = 20  # times a vanished new folder is made again before giving up


def _refused(path: Path, why: str) -> OutputLockedError:
    return OutputLockedError(f"cannot lock the output folder {path.parent} with {path.name}: {why}")


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_named(fd: int, path: Path) -> bool:
    """True if ``path`` still leads to the file open as ``fd``."""
    if sys.platform == "win32":
        return True  # never removed there
    try:
        named = os.lstat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def _write_holder(fd: int) -> None:
    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    holder = {"pid": os.getpid(), "host": _hostname(), "started": started}
    with contextlib.suppress(OSError):  # the details help a waiter; the lock is what counts
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)  # no pwrite on Windows
        os.write(fd, json.dumps(holder).encode() + b"\n")


def _read_holder(fd: int) -> str:
    """The holder's details as words, e.g. ``pid 4242 on box, started 2025-01-02 ...``."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096))
        pid, host, started = data["pid"], data["host"], data["started"]
    except (OSError, ValueError, TypeError, KeyError):
        return "it has not said which one yet"
    return f"pid {pid} on {host}, started {started}"


def _hostname() -> str:
    """This machine's name; ``os.uname`` where there is one, since importing ``socket``
    costs more than a whole small run's start-up (issue 15)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()

"""Temporary files in an output folder: named ones that carry the writer's pid, and
anonymous ones (Linux ``O_TMPFILE``) that have no name until they are linked into place.

Every file imgcall writes is complete before it gets its final name (`imgcall.writing`).
On Linux a new file is written without any name and given its final name by
``linkat``: one metadata operation per image, and a crash leaves nothing behind.
Elsewhere, or where the file system refuses that, it is written under a temporary name
in the same folder (`temp_path`), which carries the writer's pid so that
`remove_stale_temp_files` can clear those of dead processes.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import time
from pathlib import Path

__all__ = [
    "ANONYMOUS_PREFIX",
    "TEMP_SUFFIX",
    "link_anonymous",
    "open_anonymous",
    "remove_stale_temp_files",
    "temp_path",
]

TEMP_SUFFIX = ".imgcall-tmp"
_TEMP_NAME = re.compile(r"^\.[0-9a-f]+\.(\d+)" + re.escape(TEMP_SUFFIX) + "$")
# Where the pid of a temporary file's writer cannot be probed (Windows), only files this
# old are taken for leftovers.
_STALE_AGE = 24 * 3600


def temp_path(folder: Path) -> Path:
    """A fresh temporary file name in ``folder``, carrying this process's pid."""
    # os.urandom, not secrets.token_hex: the same bytes, without importing secrets.
    return folder / f".{os.urandom(6).hex()}.{os.getpid()}{TEMP_SUFFIX}"


# Linux: a new file is written as an anonymous file in the target folder (O_TMPFILE) and
# given its final name by linkat(2) once complete: one metadata operation per image where
# a named temporary file costs three (create, link, unlink), and a crash leaves nothing.
# The link goes through /proc/self/fd, which needs no privilege (AT_EMPTY_PATH does).
_O_TMPFILE = getattr(os, "O_TMPFILE", 0) if sys.platform == "linux" else 0
ANONYMOUS_PREFIX = "/proc/self/fd/"
"""How a staged anonymous file's descriptor is named to `try_write` (``staged``)."""
# Folders (their paths) whose file system refused an anonymous file or linking one:
# they take the named temporary file from then on.
_NO_ANONYMOUS: set[str] = set()
_ANONYMOUS_REFUSED = (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL, errno.ENOENT)


def open_anonymous(folder: str | os.PathLike[str], flags: int = os.O_WRONLY) -> int | None:
    """A descriptor of a new, nameless file in ``folder``; ``None`` where there are none.

    Raises `OSError` for any other failure (a missing or read-only folder, a full disk).
    """
    folder = os.fspath(folder)
    if not _O_TMPFILE or folder in _NO_ANONYMOUS:
        return None
    try:
        return os.open(folder, _O_TMPFILE | flags, 0o666)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL):
            _NO_ANONYMOUS.add(folder)
            return None
        raise


def link_anonymous(fd: int, path: str | os.PathLike[str]) -> bool | None:
    """Give the anonymous file ``fd`` the name ``path``: False if the name is taken.

    ``None`` when this file system cannot link it (no hard links, no ``/proc``): the
    caller writes a named temporary file instead. Whatever is at ``path`` is never
    opened or followed: linkat(2) fails on any existing name.
    """
    global _ROOT_FD
    source = f"{ANONYMOUS_PREFIX}{fd}"
    for attempt in (1, 2):
        if _ROOT_FD is None:
            _ROOT_FD = os.open("/", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            # A directory descriptor makes os.link call linkat(2) with AT_SYMLINK_FOLLOW
            # (plain link(2) would link the /proc entry itself); the source path is
            # absolute, so which directory it is does not matter.
            os.link(source, path, src_dir_fd=_ROOT_FD, follow_symlinks=True)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno == errno.EBADF and attempt == 1:  # someone closed our "/"
                _ROOT_FD = None
                continue
            folder = os.path.dirname(os.fspath(path))
            if exc.errno in (*_ANONYMOUS_REFUSED, errno.EPERM, errno.EXDEV) and os.path.isdir(
                folder
            ):
                _NO_ANONYMOUS.add(folder)
                return None
            raise
        break
    return True


_ROOT_FD: int | None = None  # a descriptor of "/", opened on first use (forks inherit it)


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete imgcall temporary files in ``folder`` left by processes that have died.

    The writer's pid is part of each temporary name; a file whose process is still
    running is left alone. Returns the files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            if pid == os.getpid() or not _stale(pid, entry.stat().st_mtime, now):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _stale(pid: int, mtime: float, now: float) -> bool:
    if sys.platform == "win32":
        # os.kill(pid, 0) would terminate the process on Windows: go by age instead.
        return now - mtime > _STALE_AGE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: alive, owned by someone else
        return False
    return False

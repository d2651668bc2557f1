"""The manifest file, ``imgcall-manifest.jsonl``: one `ItemRecord` a line, each whole.

`Manifest` writes a local output folder's manifest (`imgcall.objectstore` has the one
for object storage): its first line replaces the previous run's manifest, and every
line after it is appended with one write, so the file is valid JSON Lines at every
moment, also after a crash.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import OutputError
from .tempfiles import temp_path
from .writing import describe_os_error

if TYPE_CHECKING:
    from .records import ItemRecord

__all__ = ["MANIFEST_NAME", "Manifest"]

MANIFEST_NAME = "imgcall-manifest.jsonl"


class Manifest:
    """``imgcall-manifest.jsonl``, replaced by the first line a run writes.

    Every line reaches the file whole, with one ``os.write`` (a write that fails half
    way is cut back to the last whole line), so the file is valid JSON Lines at every
    moment, also after a crash. The first line goes into a new file that then replaces
    the name at once: the previous manifest, or whatever else has the name (a symlink,
    a FIFO), is never opened, followed or truncated in place.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._size = 0

    def write(self, record: ItemRecord) -> None:
        """Append ``record`` as one whole line; `OutputError` if it cannot be written."""
        self._write(record.to_line() + b"\n")

    def write_line(self, text: str) -> None:
        """Append one line of JSON (a record's `ItemRecord.to_json`), whole, at once."""
        self._write(text.encode("utf-8") + b"\n")

    def _write(self, line: bytes) -> None:
        try:
            if self._fd is None:
                self._fd = self._replace_with(line)
            else:
                self._append(self._fd, line)
        except OSError as exc:
            raise OutputError(
                f"cannot write the manifest {self.path}: {describe_os_error(exc)}",
                location=str(self.path),
            ) from exc

    def _replace_with(self, line: bytes) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name carries the pid: a crash's leftover is cleared by the next run.
        tmp = temp_path(self.path.parent)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o666)
        try:
            self._size = 0
            self._append(fd, line)
            os.replace(tmp, self.path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return fd

    def _append(self, fd: int, line: bytes) -> None:
        try:
            written = os.write(fd, line)
            while written < len(line):  # only on a full disk, which then raises
                written += os.write(fd, line[written:])
        except BaseException:
            with contextlib.suppress(OSError):  # never leave half a line behind
                os.ftruncate(fd, self._size)
                os.lseek(fd, self._size, os.SEEK_SET)
            raise
        self._size += len(line)

    def close(self) -> None:
        """Close the file (if it was opened); closing errors are ignored."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

"""Lines of bytes from any reader: no length limit, CRLF and a leading BOM tolerated.

`LineReader` pulls chunks from a ``read()`` function and hands out one line at a time,
holding only the current line and what was read past it. The ``from_*`` functions make
that ``read()`` for each kind of source: bytes already in memory, a binary or text
file object (a live pipe included), or an iterable of text lines. `imgcall.framing`
decides what the lines mean.
"""

from __future__ import annotations

import io
import mmap
import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import InvalidInputError

__all__ = ["NON_SPACE", "LineReader", "from_bytes", "from_file", "from_lines"]

NON_SPACE = re.compile(rb"\S")
_BOM = b"\xef\xbb\xbf"
# Lines at least this long are handed over without a copy (`LineReader.readline`).
_HAND_OVER = 1 << 20


def from_bytes(data: bytes) -> Callable[[], bytes]:
    """A ``read()`` that returns ``data`` once, then end of input."""
    chunks = [data]
    return lambda: chunks.pop() if chunks else b""


def from_file(file: Any, chunk_size: int) -> Callable[[], bytes]:
    """A ``read()`` over a binary or text file object, as soon as data is available."""
    if isinstance(file, io.TextIOBase):
        # A text stream's read(n) blocks until n characters arrive; readline hands over
        # each line of a live stream as soon as it is complete.
        return lambda: _encode(file.readline())
    read1 = getattr(file, "read1", None)
    # read1 returns whatever is available, so a live pipe is not held back a chunk at a time.
    read = read1 if callable(read1) else file.read
    return lambda: _encode(read(chunk_size))


def _encode(chunk: object) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    if chunk is None:
        return b""
    raise TypeError(f"read() returned {type(chunk).__name__}, not bytes or str")


def from_lines(lines: Iterator[object]) -> Callable[[], bytes]:
    """A ``read()`` over an iterator of ``str``/``bytes`` lines, each ending in a newline."""

    def read() -> bytes:
        for element in lines:
            data = _encode(element)
            # Lines from iter_lines() have no newline, lines from readlines() do.
            return data if data.endswith(b"\n") else data + b"\n"
        return b""

    return read


class LineReader:
    """Lines of bytes from a ``read()`` function: no length limit, CRLF tolerated."""

    def __init__(
        self, read: Callable[[], bytes], label: str, mapped: mmap.mmap | None = None
    ) -> None:
        self._read = read
        self._label = label
        self.mapped = mapped
        """The same input as a memory map, when it is a large regular file."""
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self.lineno = 0
        """Number of the last line returned (1-based)."""

    def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            chunk = self._read()
        except (OSError, ValueError, TypeError) as exc:  # TypeError: read() gave no bytes
            raise InvalidInputError(
                f"cannot read the input after line {self.lineno}: {exc}", location=self._label
            ) from exc
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def readline(self) -> bytearray | None:
        """The next line without its line ending, or ``None`` at the end."""
        if self._pos:
            del self._buf[: self._pos]  # O(1): bytearray drops a prefix in place
            self._pos = 0
        search = 0
        while (end := self._buf.find(b"\n", search)) < 0:
            search = len(self._buf)
            if not self._fill():
                if not self._buf:
                    return None
                end = len(self._buf)
                break
        self._pos = end + 1
        self.lineno += 1
        if self.lineno == 1 and self._buf.startswith(_BOM):
            del self._buf[: len(_BOM)]
            end -= len(_BOM)
            self._pos -= len(_BOM)
        if end and self._buf[end - 1] == 0x0D:
            end -= 1
        if end >= _HAND_OVER:
            # A long line (an SSE event holding every image of a response) is handed
            # over as the buffer itself; only what follows it is copied. Slicing it
            # out would hold it twice: 40 MB more at the peak (issue 15).
            line, self._buf = self._buf, self._buf[self._pos :]
            self._pos = 0
            del line[end:]
            return line
        return self._buf[:end]

    def has_more(self) -> bool:
        """True if anything but whitespace is left; reads ahead without consuming."""
        while not NON_SPACE.search(self._buf, self._pos):
            # Whitespace only: drop it (counting its newlines) so memory stays flat.
            self.lineno += self._buf.count(b"\n", self._pos)
            del self._buf[:]
            self._pos = 0
            if not self._fill():
                return False
        return True

    def rest(self, head: bytes | bytearray) -> bytearray:
        """``head``, a newline, and everything not read yet, as one buffer."""
        data = bytearray(head)
        data += b"\n"
        with memoryview(self._buf) as view:
            data += view[self._pos :]
        del self._buf[:]
        self._pos = 0
        while self._fill():
            data += self._buf
            del self._buf[:]
        return data

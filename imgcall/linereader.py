"""Lines of bytes from any reader: no length limit, CRLF and a leading BOM tolerated.

`LineReader` pulls chunks from a ``read()`` function and hands out one line at a time,
holding only the current line and what was read past it; a line longer than what was
read past it is handed over without a copy, so a 40 MB line costs 40 MB. The ``from_*``
functions make that ``read()`` for each kind of source: bytes already in memory, a
binary or text file object (a live pipe included), or an iterable of text lines.
`LineReader.start` reads the byte order mark: UTF-8's is dropped, and UTF-16 or UTF-32
text (a PowerShell redirect) is decoded to UTF-8 a chunk at a time as it is read.
`imgcall.framing` (and `imgcall.sse`) decide what the lines mean.
"""

from __future__ import annotations

import codecs
import io
import mmap
import re
from collections.abc import Callable, Iterator
from typing import Any

from .errors import InvalidInputError

__all__ = ["NON_SPACE", "LineReader", "from_bytes", "from_file", "from_lines"]

NON_SPACE = re.compile(rb"\S")
_WORD = re.compile(rb"[A-Za-z_-]*")
_BOM = b"\xef\xbb\xbf"
# UTF-32's marks first: UTF-32 LE's starts with UTF-16 LE's.
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


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

    def start(self) -> str | None:
        """Read the byte order mark; returns ``"UTF-16"`` or ``"UTF-32"`` for such text.

        Call it before any line is read. A UTF-8 mark is dropped; UTF-16 and UTF-32 text
        with its mark is decoded to UTF-8 from here on, and never read from a memory map.
        """
        while len(self._buf) < 4 and self._fill():
            pass
        if self._buf.startswith(_BOM):
            del self._buf[: len(_BOM)]
            return None
        encoding = next((e for bom, e in _WIDE_BOMS if self._buf.startswith(bom)), None)
        if encoding is not None:
            self._read = _decoding(self._read, encoding, bytes(self._buf))
            self._buf = bytearray()
            self._eof = False
            self.mapped = None
        return encoding.upper() if encoding else None

    def peek(self, size: int) -> bytes:
        """Up to ``size`` bytes not read yet, without consuming them.

        Reads only if nothing is buffered: a live stream is never waited on for more.
        """
        if self._pos >= len(self._buf):
            self._fill()
        return bytes(self._buf[self._pos : self._pos + size])

    def head(self, size: int) -> tuple[int, bytes] | None:
        """``(newlines before it, bytes)``: up to ``size`` bytes from the first one that is
        not whitespace, without consuming anything; ``None`` if there is none.

        Whitespace before it is dropped as it is read (and its lines counted), so memory
        stays flat however much of it there is. After it, only as much is read as tells
        a word (an SSE field name) from anything else: a live stream is not waited on.
        """
        if not self.has_more():
            return None
        found = NON_SPACE.search(self._buf, self._pos)
        assert found is not None
        at = found.start()
        while len(self._buf) - at < size and _WORD.fullmatch(self._buf, at) and self._fill():
            pass
        return self._buf.count(b"\n", self._pos, at), bytes(self._buf[at : at + size])

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
        stop = end - 1 if end and self._buf[end - 1] == 0x0D else end
        if end < len(self._buf) - self._pos:
            return self._buf[:stop]  # a short line: copy it, keep the buffer
        # A line longer than what was read past it (a multi-MB record): hand the buffer
        # itself over and keep only the rest, so the line is never held twice.
        line = self._buf
        self._buf = line[self._pos :]
        self._pos = 0
        del line[stop:]
        return line

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

    def rest(self, head: bytearray) -> bytearray:
        """``head``, a newline, and everything not read yet, as one buffer (``head`` itself)."""
        data = head
        data += b"\n"
        with memoryview(self._buf) as view:
            data += view[self._pos :]
        del self._buf[:]
        self._pos = 0
        while self._fill():
            data += self._buf
            del self._buf[:]
        return data


def _decoding(read: Callable[[], bytes], encoding: str, first: bytes) -> Callable[[], bytes]:
    """A ``read()`` giving UTF-8 for text in ``encoding``, one chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    pending = [first]
    done = False

    def transcoded() -> bytes:
        nonlocal done
        while not done:
            chunk = pending.pop() if pending else read()
            text = decoder.decode(chunk, final=not chunk)
            done = not chunk
            if text:
                return text.encode("utf-8")
        return b""

    return transcoded

"""The command line's progress bar on standard error (``imgcall extract`` on a terminal).

A bar that shares the terminal with printed lines must get out of their way: `Progress`
erases its line before each line is printed (`clear`) and draws itself again below it
(`draw`), so paths never run into it. It appears only once a run has lasted `DELAY`
seconds (short runs never flash a bar), redraws at most every `INTERVAL` seconds, and
its last frame says 100% when the run read all of its input. It is drawn only when its
stream is a terminal; the command line decides that (`imgcall.cli`).

How far a run has got is measured in input bytes (`Position`): for standard input the
bytes read so far (`CountingReader`); for a file, the files already finished plus an
estimate of the current one from the images seen in it (base64 is 4/3 of an image).
This module is part of the command line: the library never prints.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from .image import human_bytes

__all__ = ["DELAY", "INTERVAL", "CountingReader", "Position", "Progress", "for_inputs"]

DELAY = 0.5
"""Seconds a run lasts before its bar appears."""
INTERVAL = 0.1
"""Least number of seconds between two frames."""

_ERASE = "\r\x1b[2K"  # carriage return, erase the whole line


class CountingReader:
    """A binary stream that counts the bytes read from it (for standard input's progress).

    Offers what the input layer reads with (``read``, ``read1``, ``readline``, ``name``);
    no ``fileno``, so nothing reads around the count.
    """

    def __init__(self, raw: Any, name: str = "<stdin>") -> None:
        self._raw = raw
        self.name = name
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes (all with -1), counting them."""
        return self._counted(self._raw.read(n))

    def read1(self, n: int = -1) -> bytes:
        """Read what is available, up to ``n`` bytes, counting them."""
        read1 = getattr(self._raw, "read1", None)
        return self._counted(read1(n) if callable(read1) else self._raw.read(n))

    def readline(self, limit: int = -1) -> bytes:
        """Read one line, counting it."""
        return self._counted(self._raw.readline(limit))

    def readable(self) -> bool:
        """Always true."""
        return True

    def _counted(self, data: bytes) -> bytes:
        self.count += len(data or b"")
        return data


class Position:
    """How many input bytes a run has read, from the records it has reported.

    ``inputs`` are the run's inputs in order, each as ``(name, size, reader)``: ``size``
    is its length in bytes when known, ``reader`` a `CountingReader` for a stream.
    """

    def __init__(self, inputs: Sequence[tuple[str, int | None, CountingReader | None]]) -> None:
        self._inputs = list(inputs)
        self._current = 0
        self._estimate = 0
        sizes = [size for _, size, _ in self._inputs]
        self.total: int | None = None if None in sizes else sum(s or 0 for s in sizes)
        """All the input's bytes, or ``None`` when a stream's length is unknown."""

    def advance(self, input_name: str | None, image_bytes: int | None) -> None:
        """Account for one record of input ``input_name`` (inputs are read in order)."""
        if input_name is not None:
            for offset, (name, _, _) in enumerate(self._inputs[self._current :]):
                if name == input_name:
                    if offset:
                        self._current += offset
                        self._estimate = 0
                    break
        self._estimate += (image_bytes or 0) * 4 // 3

    @property
    def done(self) -> int:
        """Bytes read so far (an estimate inside a file, exact for a stream)."""
        total = 0
        for index, (_, size, reader) in enumerate(self._inputs):
            if index < self._current:
                total += reader.count if reader is not None else size or 0
            elif index == self._current:
                if reader is not None:
                    total += reader.count
                else:
                    total += min(self._estimate, size or 0)
        return total

    def finish(self) -> None:
        """Every input has been read to its end."""
        self._current = len(self._inputs)


class Progress:
    """A one-line bar on ``stream``: ``imgcall  [#####-----]  45%  12 images``.

    ``clock`` and ``width`` are for tests; by default the monotonic clock and the
    terminal's width.
    """

    def __init__(
        self,
        stream: IO[str],
        position: Position,
        *,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
    ) -> None:
        self._stream = stream
        self._position = position
        self._clock = clock
        self._width = width
        self._start = clock()
        self._last = float("-inf")
        self._shown = False
        self.images = 0

    def update(
        self, input_name: str | None, image_bytes: int | None, *, image: bool, printed: bool
    ) -> None:
        """Account for one record; draw a frame if one is due, or if lines were just
        ``printed`` below a bar that was showing (`clear` took it away)."""
        self._position.advance(input_name, image_bytes)
        self.images += image
        now = self._clock()
        due = now - self._start >= DELAY and now - self._last >= INTERVAL
        if due or (printed and self._last > float("-inf")):
            self.draw(now)

    def clear(self) -> None:
        """Erase the bar before a line is printed; the next `update` draws it again."""
        if self._shown:
            self._stream.write(_ERASE)
            self._stream.flush()
            self._shown = False

    def draw(self, now: float | None = None) -> None:
        """Draw the current frame in place."""
        self._last = self._clock() if now is None else now
        self._stream.write(_ERASE + self.frame())
        self._stream.flush()
        self._shown = True

    def finish(self, *, complete: bool) -> None:
        """End the bar: a last frame (100% when ``complete``) and a new line."""
        if complete:
            self._position.finish()
        if self._last > float("-inf"):
            self._stream.write(_ERASE + self.frame() + "\n")
            self._stream.flush()
            self._shown = False

    def frame(self) -> str:
        """The bar's text, fitted to the terminal's width."""
        width = self._width or shutil.get_terminal_size((80, 24)).columns
        done, total = self._position.done, self._position.total
        images = f"{self.images} image{'s' if self.images != 1 else ''}"
        if not total:  # a stream of unknown length: no percentage to give
            return f"imgcall  {human_bytes(done)} read  {images}"[: width - 1]
        fraction = min(1.0, done / total)
        tail = f" {fraction:4.0%}  {images}"
        room = max(10, min(40, width - len("imgcall  []") - len(tail) - 1))
        filled = round(room * fraction)
        bar = f"imgcall  [{'#' * filled}{'-' * (room - filled)}]{tail}"
        return bar[: width - 1]


def for_inputs(
    values: Sequence[str], stdin: Any, stream: IO[str]
) -> tuple[Progress, CountingReader]:
    """A bar on ``stream`` for a run over the command line's INPUTs (``-`` is ``stdin``),
    and the reader to pass the library instead of ``stdin`` so that its bytes count."""
    counter = CountingReader(stdin)
    inputs: list[tuple[str, int | None, CountingReader | None]] = []
    for name in list(values) or ["-"]:
        if name == "-":
            inputs.append(("<stdin>", _stream_size(stdin), counter))
        else:
            size = 0
            with contextlib.suppress(OSError):
                size = os.path.getsize(name)
            inputs.append((name, size, None))
    return Progress(stream, Position(inputs)), counter


def _stream_size(stream: Any) -> int | None:
    """The bytes left in a stream that is a regular file (``< file``), else ``None``."""
    try:
        info = os.fstat(stream.fileno())
        return info.st_size - stream.tell() if stat.S_ISREG(info.st_mode) else None
    except (OSError, ValueError, AttributeError):  # a pipe, a closed or fake stream
        return None

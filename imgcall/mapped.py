"""Reading large regular files in place, from a memory map.

Saved responses and Batch output files are large and mostly base64. Reading them through
line buffers copies every byte two or three times; mapping them lets `parse_json` parse
each document or line where it lies and keep long strings in the map until an item needs
them (`imgcall.lazytext.LazyText`). `imgcall.framing` decides when to use this: a whole
one-line document (`one_line_document`), or JSON Lines (`mapped_lines`) and SSE
transcripts (`mapped_spans`, every line's place) once the framing is recognised.

Maps are never closed here: LazyText values read from them until the scanner is done
with their record, and a map is unmapped when the last of them is dropped. Pages behind
the line reader are released as it goes, so the resident size stays bounded by the
largest record, not by the file.
"""

from __future__ import annotations

import mmap
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from .jsonparse import JSONError, parse_json

if TYPE_CHECKING:
    from .oddities import Replacement

__all__ = [
    "NOT_ONE_DOCUMENT",
    "ParseFailure",
    "mapped_lines",
    "mapped_spans",
    "one_line_document",
    "open_map",
]

NOT_ONE_DOCUMENT: Any = object()
"""What `one_line_document` returns for anything that is not a one-line document."""

RELEASE_EVERY = 8 * 1024 * 1024
"""Pages behind the JSON Lines reader are released every this many bytes."""
RELEASE_LOOKBACK = 64 * 1024 * 1024
"""Each release also sweeps this much before it again (pages workers read back in)."""

_NON_SPACE = re.compile(rb"\S")


class ParseFailure(NamedTuple):
    """A JSON Lines line (or one-line document) that is not valid JSON."""

    error: JSONError


def open_map(file: Any, min_size: int) -> mmap.mmap | None:
    """A read-only map of ``file`` if it is a regular file of at least ``min_size`` bytes."""
    try:
        if os.fstat(file.fileno()).st_size < min_size:
            return None
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    if hasattr(mapped, "madvise") and hasattr(mmap, "MADV_SEQUENTIAL"):
        mapped.madvise(mmap.MADV_SEQUENTIAL)
    return mapped


def one_line_document(file: Any, min_size: int) -> Any:
    """``(value, notes)`` of a large file holding one JSON document on one line.

    This is how APIs and SDKs save a response; ``notes`` are the odd values replaced in
    it (`imgcall.oddities`). A broken one gives its `ParseFailure`. Anything else (JSON
    Lines, pretty-printed JSON, SSE, a pipe, a small file) gives `NOT_ONE_DOCUMENT`, and
    the file position is untouched.
    """
    mapped = open_map(file, min_size)
    if mapped is None:
        return NOT_ONE_DOCUMENT
    start = _NON_SPACE.search(mapped)  # touches the first page only
    if start is None or mapped[start.start() : start.start() + 1] not in (b"{", b"["):
        mapped.close()
        return NOT_ONE_DOCUMENT
    # Only the pages up to the first newline are read: a JSON Lines file is recognised
    # without reading (or mapping in) the rest of it.
    newline = _find_newline(mapped)
    if newline >= 0 and _NON_SPACE.search(mapped, newline) is not None:
        mapped.close()
        return NOT_ONE_DOCUMENT
    notes: list[Replacement] = []
    try:
        return parse_json(mapped, notes=notes), tuple(notes)
    except JSONError as exc:
        return ParseFailure(exc)


# madvise(MADV_POPULATE_READ) (Linux 5.14+; Python names it from 3.13) maps a range of
# pages in one call, several times cheaper than faulting them in one by one.
_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22 if sys.platform == "linux" else None)
_POPULATE_WINDOW = 8 * 1024 * 1024


def _find_newline(mapped: mmap.mmap) -> int:
    """Offset of the first newline, or -1; pages are populated a window at a time."""
    populate = _POPULATE_READ if hasattr(mapped, "madvise") else None
    pos, size = 0, len(mapped)
    while pos < size:
        end = min(pos + _POPULATE_WINDOW, size)
        if populate is not None:
            try:
                mapped.madvise(populate, pos, end - pos)
            except OSError:  # an older kernel: fault the pages in as they are read
                populate = None
        found = mapped.find(b"\n", pos, end)
        if found >= 0:
            return found
        pos = end
    return -1


def mapped_lines(
    mapped: mmap.mmap,
    done: int,
    span: tuple[int, int] | None = None,
    tally: list[int] | None = None,
) -> Iterator[tuple[int, Any, tuple[Replacement, ...]]]:
    """``(line number, value or ParseFailure, notes)`` for each non-blank line after ``done``
    (or of ``span``, see `mapped_spans`).

    Each line is parsed where it lies in the map: no line is copied. ``notes`` are the
    odd values replaced in the line (`imgcall.oddities`). ``tally[0]``, if given, is kept
    at the number of the last line reached, blank ones included.
    """
    for lineno, pos, stop in mapped_spans(mapped, done, span):
        if tally is not None:
            tally[0] = lineno
        if _NON_SPACE.search(mapped, pos, stop) is not None:
            notes: list[Replacement] = []
            try:
                value: Any = parse_json(mapped, pos, stop, notes)
            except JSONError as exc:
                value = ParseFailure(exc)
            yield lineno, value, tuple(notes)


def mapped_spans(
    mapped: mmap.mmap, done: int, span: tuple[int, int] | None = None
) -> Iterator[tuple[int, int, int]]:
    """``(line number, start, stop)`` of every line after the first ``done`` (blank ones
    too), without its line ending; nothing is copied.

    With ``span`` (``start, end``: a byte range starting at a line, `imgcall.shards`),
    the lines of that range only, numbered as if ``done`` lines came before it. Pages
    behind the reader are released as it goes (each time it is asked for the next line,
    so the caller is done with the line before), which keeps the resident size bounded
    by the largest record; a range releases only its own.
    """
    if span is None:
        pos, size, floor = 0, len(mapped), 0
        for _ in range(done):
            newline = mapped.find(b"\n", pos)
            pos = size if newline < 0 else newline + 1
    else:
        pos, size = span
        floor = pos
    lineno = done
    released = floor
    page = mmap.PAGESIZE
    while pos < size:
        newline = mapped.find(b"\n", pos, size)
        end = size if newline < 0 else newline
        lineno += 1
        yield lineno, pos, end - 1 if end > pos and mapped[end - 1] == 0x0D else end
        if pos - released >= RELEASE_EVERY and hasattr(mapped, "madvise"):
            # Dropping pages of a read-only file map is always safe: touching them
            # again reads them back from the page cache. Worker threads decode images
            # in place a few lines behind the reader and fault some pages back in, so
            # each release sweeps the stretch before it again.
            upto = pos // page * page
            since = max(floor // page * page, released - RELEASE_LOOKBACK)
            mapped.madvise(mmap.MADV_DONTNEED, since, upto - since)
            released = upto
        pos = end + 1

"""Reading large regular files in place, from a memory map.

Saved responses and Batch output files are large and mostly base64. Reading them through
line buffers copies every byte two or three times; mapping them lets `parse_json` parse
each document or line where it lies and keep long strings in the map until an item needs
them (`imgcall.jsonparse.LazyText`). `imgcall.framing` decides when to use this: a whole
one-line document (`one_line_document`), or JSON Lines once the framing is recognised
(`mapped_lines`).

Maps are never closed here: LazyText values read from them until the scanner is done
with their record, and a map is unmapped when the last of them is dropped. Pages behind
the JSON Lines reader are released as it goes, so the resident size stays bounded by the
largest record, not by the file.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .jsonparse import parse_json

__all__ = ["NOT_ONE_DOCUMENT", "ParseFailure", "mapped_lines", "one_line_document", "open_map"]

NOT_ONE_DOCUMENT: Any = object()
"""What `one_line_document` returns for anything that is not a one-line document."""

RELEASE_EVERY = 8 * 1024 * 1024
"""Pages behind the JSON Lines reader are released every this many bytes."""
RELEASE_LOOKBACK = 64 * 1024 * 1024
"""Each release also sweeps this much before it again (pages workers read back in)."""

_NON_SPACE = re.compile(rb"\S")


@dataclass(frozen=True)
class ParseFailure:
    """A JSON Lines line that is not valid JSON; ``error`` is the parser's."""

    error: ValueError


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
    """The parsed value of a large file holding one JSON document on one line.

    This is how APIs and SDKs save a response. Anything else (JSON Lines, pretty-printed
    JSON, SSE, a pipe, a small file, a parse error, which the line reader then reports
    with its line and column) gives `NOT_ONE_DOCUMENT`; the file position is untouched.
    """
    probe = open_map(file, min_size)
    if probe is None:
        return NOT_ONE_DOCUMENT
    with probe:
        # Only the pages up to the first newline are touched: a JSON Lines file is
        # recognised without reading it.
        start = _NON_SPACE.search(probe)
        newline = probe.find(b"\n")
        if (
            start is None
            or probe[start.start() : start.start() + 1] not in (b"{", b"[")
            or (newline >= 0 and _NON_SPACE.search(probe, newline) is not None)
        ):
            return NOT_ONE_DOCUMENT
    try:
        mapped = _map_populated(file.fileno())
        return parse_json(mapped)
    except (OSError, ValueError):
        return NOT_ONE_DOCUMENT


def _map_populated(fileno: int) -> mmap.mmap:
    """A read-only map with every page mapped up front (far cheaper than one fault per
    page); a plain read-only map where MAP_POPULATE does not exist (not Linux)."""
    populate = getattr(mmap, "MAP_POPULATE", None)
    if populate is None:
        return mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
    return mmap.mmap(fileno, 0, flags=mmap.MAP_SHARED | populate, prot=mmap.PROT_READ)


def mapped_lines(mapped: mmap.mmap, done: int) -> Iterator[tuple[int, Any]]:
    """``(line number, value or ParseFailure)`` for each non-blank line after ``done``.

    Each line is parsed where it lies in the map: no line is copied.
    """
    size = len(mapped)
    pos = 0
    for _ in range(done):
        newline = mapped.find(b"\n", pos)
        pos = size if newline < 0 else newline + 1
    lineno = done
    released = 0
    page = mmap.PAGESIZE
    while pos < size:
        newline = mapped.find(b"\n", pos)
        end = size if newline < 0 else newline
        lineno += 1
        stop = end - 1 if end > pos and mapped[end - 1] == 0x0D else end
        if _NON_SPACE.search(mapped, pos, stop) is not None:
            try:
                value: Any = parse_json(mapped, pos, stop)
            except ValueError as exc:
                value = ParseFailure(exc)
            yield lineno, value
        if pos - released >= RELEASE_EVERY and hasattr(mapped, "madvise"):
            # Dropping pages of a read-only file map is always safe: touching them
            # again reads them back from the page cache. Worker threads decode images
            # in place a few lines behind the reader and fault some pages back in, so
            # each release sweeps the stretch before it again.
            upto = pos // page * page
            since = max(0, released - RELEASE_LOOKBACK)
            mapped.madvise(mmap.MADV_DONTNEED, since, upto - since)
            released = upto
        pos = end + 1

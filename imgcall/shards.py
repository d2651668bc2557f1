"""Shards: the unit of work of a run (SPEC §9), and how each one is read.

A run's inputs become a plan of shards, in input order: one shard per input, except a
large local JSON Lines file of batch output, which is cut at line boundaries into byte
ranges of about `SHARD_BYTES`. Which shards there are depends only on the inputs (their
names, sizes and first line), never on the engine or the number of workers, so that
every engine reads the same shards and a run killed under one engine can be resumed
under another.

`shard_units` reads one shard into `Unit`\\ s numbered from 0 within the shard; the run
(`imgcall.saving`) adds the offset of the shard in the run, so ``{index}`` keeps its
meaning (the 0-based position of the item in the whole run) with every engine. A byte
range is read in place from a memory map like a whole file (`imgcall.mapped`), with
the line numbers of the whole file, so its items, problems and locations are exactly
those that reading the whole file gives. Engines that read ranges apart need each
range's first line number when they start (`plan` counts the lines while planning);
the ``threads`` engine reads them in order, so the plan leaves them open and each range
takes the count its predecessor's reader ended with (`lines_before`), which spares a
pass over the whole file (~60 ms per 500 MB).

Only batch output is cut (lines that OpenAI / Azure, Gemini, Vertex and Bedrock batch
jobs write, each line one request): stream events in JSON Lines carry state from line
to line (an item seen twice is yielded once), so such a file is one shard.

Where inputs are opened: `members` is the one hook where a source that stands for
several inputs (a folder, a glob of URLs) is expanded; `imgcall.sources` plugs in there.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from . import _accel
from .errors import ImgcallError, InvalidInputError, Problem
from .items import Location
from .pipeline import Input, Unit, _describe_source, _expanded, scan_units

__all__ = [
    "SHARD_BYTES",
    "Shard",
    "count_lines",
    "members",
    "plan",
    "shard_key",
    "shard_units",
]

SHARD_BYTES = 64 * 1024 * 1024
"""Target size of a byte-range shard of a large JSON Lines file (cut at a line end)."""

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_NON_SPACE = re.compile(rb"\S")
# count_lines releases pages at the rhythm of the line reader (imgcall.mapped).
_RELEASE_EVERY = 8 * 1024 * 1024
# Below this average line length, counting lines a slice at a time beats find().
_SHORT_LINES = 4096
_FORMAT = 1


class Shard(NamedTuple):
    """One unit of work: a whole input, or a byte range of a large local JSON Lines file.

    ``identity`` says which bytes the shard stands for (a local file's real path, size
    and modification time; a URL's size and ETag); it is ``None`` for standard input,
    file objects and values in memory, which are read where the run runs, never
    shipped to a worker and never resumed. ``size`` is the number of input bytes (0
    when unknown).
    """

    number: int
    source: object
    label: str
    stem: str
    identity: str | None = None
    size: int = 0
    start: int = 0
    end: int | None = None
    """End of the byte range (exclusive); ``None`` for a whole input."""
    first_line: int | None = 0
    """Lines of the file before ``start`` (so line numbers read as in the whole file);
    ``None`` when the plan left it to be found as the range is read (`lines_before`)."""
    occurrence: int = 0
    """How many shards of the run before this one read the same bytes (an input given
    twice): each has its own record, since the second finds the first's files."""
    failure: ImgcallError | None = None
    """Why the source could not even be listed (a folder or glob that cannot be read):
    the shard is that one problem."""

    @property
    def shippable(self) -> bool:
        """True when another process (or machine) can read the shard by its name."""
        return self.identity is not None

    @property
    def is_range(self) -> bool:
        """True for a byte range of a file (not a whole input)."""
        return self.end is not None

    def describe(self) -> str:
        """The shard in words: its input, and its byte range if it has one."""
        if self.end is None:
            return self.label
        return f"{self.label} bytes {self.start:,}-{self.end:,}"


def members(
    sources: list[object],
    storage_options: Mapping[str, Any] | None = None,
    exclude: Path | None = None,
) -> Iterator[tuple[object, ImgcallError | None]]:
    """The inputs that the sources given to a run stand for, in order.

    The one place where a folder or a glob is expanded (`imgcall.sources`), each member
    an input of its own; ``exclude`` (the run's output folder) is never read. A source
    that cannot be listed comes with its error.
    """
    return _expanded(sources, storage_options, exclude)


def plan(
    sources: list[object],
    storage_options: Mapping[str, Any] | None = None,
    exclude: Path | None = None,
    *,
    number_lines: bool = True,
) -> Iterator[Shard]:
    """The shards of a run over ``sources``, in input order (lazily: one input at a time).

    ``number_lines`` counts the lines before each byte range now, for engines that read
    ranges apart; without it, ranges after a file's first have ``first_line=None`` and
    are numbered when they are read (`lines_before`). The shards are the same either way.
    """
    number = 0
    seen: dict[tuple[object, ...], int] = {}
    for member, failure in members(sources, storage_options, exclude):
        source, label, stem = _describe_source(member)
        if failure is not None:
            yield Shard(number, member, label, stem, failure=failure)
            number += 1
            continue
        local = _local_file(source)
        identity, size = _identity(source, local, storage_options)
        pieces: Iterator[tuple[int, int | None, int | None]] | None = None
        if local is not None and identity is not None and size >= 2 * SHARD_BYTES:
            pieces = _ranges(local, size, number_lines)
        for start, end, first_line in pieces or [(0, None, 0)]:
            again = seen.get((label, identity, start, end), 0)
            if identity is not None:
                seen[(label, identity, start, end)] = again + 1
            length = size if end is None else end - start
            yield Shard(
                number, member, label, stem, identity, length, start, end, first_line, again
            )
            number += 1


def shard_key(shard: Shard, fingerprint: str) -> str | None:
    """The name of a shard's done record: its input, range and the run's options."""
    if shard.identity is None:
        return None
    text = json.dumps(
        [
            _FORMAT,
            shard.label,
            shard.identity,
            shard.start,
            shard.end,
            shard.occurrence,
            fingerprint,
        ],
        ensure_ascii=True,
    )
    return _accel.sha256(text.encode("ascii")).hexdigest()[:32]


def shard_units(
    shard: Shard,
    partials: bool,
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[Unit]:
    """Scan one shard: its units, numbered from 0 within the shard."""
    if shard.failure is not None:
        yield Unit(None, shard.label, shard.stem, shard.failure)
        return
    if shard.end is None:
        yield from scan_units([shard.source], partials, discover, storage_options)
        return
    yield from _range_units(shard, partials, discover)


# -- identity ---------------------------------------------------------------------------


def _local_file(source: object) -> Path | None:
    """The path of a local file source, or ``None`` (a URL, a stream, a value)."""
    if isinstance(source, Input):
        source = source.source
    if isinstance(source, os.PathLike):
        return Path(source)
    if isinstance(source, str) and not _URL.match(source):
        from .framing import looks_like_content

        return None if looks_like_content(source) else Path(source)
    return None


def _identity(
    source: object, local: Path | None, storage_options: Mapping[str, Any] | None = None
) -> tuple[str | None, int]:
    """What the source's bytes are, and how many: ``(None, 0)`` when it cannot be said."""
    if local is not None:
        try:
            info = os.stat(local)
            real = os.path.realpath(local)
        except (OSError, ValueError):
            return None, 0
        if not stat.S_ISREG(info.st_mode):
            return None, 0
        return f"file:{real}:{info.st_size}:{info.st_mtime_ns}", info.st_size
    raw = source.source if isinstance(source, Input) else source
    if isinstance(raw, str) and _URL.match(raw):
        return _url_identity(raw, storage_options)
    return None, 0


def _url_identity(
    url: str, storage_options: Mapping[str, Any] | None = None
) -> tuple[str | None, int]:
    """A URL's size and version (ETag or modification time), through fsspec."""
    try:
        import fsspec.core

        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        info = fs.info(path)
    except Exception:  # no fsspec, no such object, no credentials: read it, not resumed
        return None, 0
    size = int(info.get("size") or 0)
    version = info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified")
    return f"url:{url}:{size}:{version}", size


# -- byte ranges ------------------------------------------------------------------------


def _ranges(
    path: Path, size: int, number_lines: bool = True
) -> Iterator[tuple[int, int | None, int | None]] | None:
    """``(start, end, lines before start)`` for each range of a batch JSON Lines file.

    ``None`` when the file is not one to cut: not plain JSON Lines (compressed, a BOM, a
    document, SSE), or its first line is not a batch output line. The ranges come out
    one at a time, so the first shard can start while the rest are being counted.
    """
    try:
        with open(path, "rb", buffering=0) as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    if not _is_batch_lines(mapped):
        mapped.close()
        return None
    return _cut(mapped, size, number_lines)


def _cut(
    mapped: mmap.mmap, size: int, number_lines: bool
) -> Iterator[tuple[int, int | None, int | None]]:
    try:
        start, lines = 0, 0
        while start < size:
            newline = mapped.find(b"\n", min(start + SHARD_BYTES, size) - 1)
            end = size if newline < 0 else newline + 1
            if size - end < SHARD_BYTES // 4:
                end = size  # no short last range
            yield start, end, lines if number_lines or start == 0 else None
            if end < size and number_lines:
                lines += count_lines(mapped, start, end)
            start = end
    finally:
        mapped.close()


def _is_batch_lines(mapped: mmap.mmap) -> bool:
    """True if the file starts with a batch output line, and more lines follow."""
    from .jsonparse import parse_json
    from .providers import Walker

    first = _NON_SPACE.search(mapped, 0, 4096)
    if first is None or first.start() != 0 or mapped[:1] != b"{":
        return False  # a BOM, leading blank lines, compressed data: read it whole
    newline = mapped.find(b"\n")
    if newline < 0 or _NON_SPACE.search(mapped, newline) is None:
        return False
    stop = newline - 1 if mapped[newline - 1] == 0x0D else newline
    try:
        value = parse_json(mapped, 0, stop)
    except ValueError:
        return False
    if not isinstance(value, dict):
        return False
    reader = Walker().reader_for(value)
    return reader is not None and reader.batch


def count_lines(data: Any, start: int, end: int) -> int:
    """Newlines in ``data[start:end]``: find() over long lines, count() over short ones.

    A memory map's pages are released as they are passed (the file is read, not kept).
    """
    lines, pos, released = 0, start, start
    release = getattr(data, "madvise", None)
    page = mmap.PAGESIZE
    while pos < end:
        newline = data.find(b"\n", pos, end)
        if newline < 0:
            break
        lines += 1
        pos = newline + 1
        if release is not None and pos - released >= _RELEASE_EVERY:
            upto = pos // page * page
            base = released // page * page
            release(mmap.MADV_DONTNEED, base, upto - base)
            released = upto
        if lines >= 64 and (pos - start) // lines < _SHORT_LINES:
            step = 8 * 1024 * 1024  # many short lines: a slice at a time
            for chunk in range(pos, end, step):
                lines += data[chunk : min(chunk + step, end)].count(b"\n")
                if release is not None:
                    base = chunk // page * page
                    release(mmap.MADV_DONTNEED, base, min(chunk + step, end) // page * page - base)
            break
    return lines


# Lines before a byte offset of a file, by the file's identity (its real path, size and
# modification time): what the reader of a range found at its end, so that the next range
# of the same file need not count them again (`lines_before`). Kept for a few files.
_LINES_KNOWN: dict[str, dict[int, int]] = {}
_FILES_KNOWN = 8


def lines_before(shard: Shard, mapped: Any) -> int:
    """The number of lines of the file before ``shard``'s range (``mapped`` is the file).

    The plan's count if it made one; else what the reader of an earlier range of the
    same file found, plus the lines between (counted only where no range was read, as
    after a resumed run skipped the ranges it had finished).
    """
    if shard.first_line is not None:
        return shard.first_line
    assert shard.identity is not None
    known = _LINES_KNOWN.get(shard.identity, {})
    lines = known.get(shard.start)
    if lines is None:
        base = max((offset for offset in known if offset <= shard.start), default=0)
        lines = known.get(base, 0) + count_lines(mapped, base, shard.start)
        _know(shard.identity, shard.start, lines)
    return lines


def _know(identity: str, offset: int, lines: int) -> None:
    """Note that ``lines`` lines of the file ``identity`` come before ``offset``."""
    known = _LINES_KNOWN.get(identity)
    if known is None:
        if len(_LINES_KNOWN) >= _FILES_KNOWN:
            _LINES_KNOWN.clear()  # a long-lived process that has read many files
        known = _LINES_KNOWN[identity] = {}
    known[offset] = lines


def _range_units(shard: Shard, partials: bool, discover: bool) -> Iterator[Unit]:
    """The units of a byte range, as `imgcall.scan.scan_items` finds them in a file."""
    from .framing import Record, _bad_line
    from .mapped import ParseFailure, mapped_lines
    from .providers import Walker
    from .scan import _with_warnings

    label, stem = shard.label, shard.stem
    assert shard.end is not None
    path = _local_file(shard.source)
    assert path is not None
    try:
        with open(path, "rb", buffering=0) as file:
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        error = InvalidInputError(f"cannot read {path}: {exc}", location=label)
        error.__cause__ = exc
        yield Unit(None, label, stem, error)
        return
    if len(mapped) < shard.end:
        yield Unit(None, label, stem, InvalidInputError("the file got shorter", location=label))
        return
    walker = Walker(partials=partials, discover=discover)
    index = 0
    try:
        first_line = lines_before(shard, mapped)
        tally = [first_line]
        lines = mapped_lines(mapped, first_line, (shard.start, shard.end), tally)
        for lineno, value, notes in lines:
            if isinstance(value, ParseFailure):
                record = _bad_line(value.error, lineno, label)
                assert record.error is not None
                found: Any = [Problem(None, record.error.location, None, record.error)]
            else:
                # As a whole file is read (imgcall.scan): odd values become item notes.
                where = Location(label, "", lineno)
                found = walker.feed(value, where)
                if notes:
                    found = _with_warnings(
                        list(found), Record(value, lineno, warnings=notes), where
                    )
            for one in found:
                yield Unit(index, label, stem, one)
                index += 1
        if shard.identity is not None:
            _know(shard.identity, shard.end, tally[0])  # every line of the range was read
        for one in walker.finish():
            yield Unit(index, label, stem, one)
            index += 1
    except ImgcallError as exc:
        yield Unit(None, label, stem, exc)

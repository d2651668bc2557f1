"""Framing: turn any source into parsed JSON records, one at a time.

A source is a path, a file object, ``str``/``bytes`` of text, an already-parsed value,
an SDK object, or an iterable of stream events. `read_records` recognises how its text
is framed from the first bytes, never from a file name, and reads it once:

- a single JSON document (possibly pretty-printed) is parsed whole;
- JSON Lines are parsed one line at a time, and a broken line becomes an error record
  for that line only, so the other lines still count;
- an SSE transcript (``event:``/``data:`` lines, or data-only lines ending in
  ``data: [DONE]``; CRLF, ``:`` comments, multi-line ``data:``) yields one record per
  event.

Lines have no length limit (a 12 MB ``data:`` line is normal) and memory stays bounded
by the largest record, whatever the size of the input (`imgcall.linereader` reads them;
a large JSON Lines file or SSE transcript is read in place, see `imgcall.mapped`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

from ._lazyre import lazy_pattern
from ._sdk import dump_sdk
from .errors import InvalidInputError
from .items import Location
from .jsonparse import JSONError, parse_json
from .linereader import NON_SPACE, LineReader, from_lines
from .mapped import (
    NOT_ONE_DOCUMENT,
    ParseFailure,
    mapped_lines,
    one_line_document,
    open_map,
)
from .oddities import Replacement, clean
from .sources import CHUNK_SIZE, open_bytes

__all__ = ["CHUNK_SIZE", "Record", "looks_like_content", "read_records", "to_json_value"]
_sse_field = lazy_pattern(rb"(?:data|event|id|retry)(?::|\r?\n|$)|:")


_LOOK = 1024
"""Bytes looked at before any line is read: enough to tell what the input is."""


class Record(NamedTuple):
    """One parsed JSON value and where it came from, or the error that replaced it."""

    value: Any
    line: int | None = None
    """1-based line of the record (JSON Lines) or of its first ``data:`` line (SSE)."""
    pointer: str = ""
    """Position of the record inside an iterable of events, e.g. ``/3``."""
    error: InvalidInputError | None = None
    """Set (and ``value`` is ``None``) when this one record could not be parsed."""
    warnings: tuple[Replacement, ...] = ()
    """Odd values in the record that were replaced (a lone surrogate, an integer too long
    to print; see `imgcall.oddities`): the items found in it carry them as warnings."""


def looks_like_content(text: str) -> bool:
    """True if ``text`` is JSON, JSON Lines or SSE text rather than a path."""
    head = text.lstrip("\ufeff").lstrip()[:6]  # U+FEFF: a BOM that read_text() kept
    return head[:1] in ("{", "[", ":") or head.startswith(("data:", "event:")) or "\n" in text


def read_records(
    source: object, name: str | None = None, storage_options: Mapping[str, Any] | None = None
) -> tuple[str, Iterator[Record]]:
    """Return the input's name and a lazy iterator over its records.

    Nothing is read until the iterator is advanced. The iterator raises
    `InvalidInputError` when the input cannot be read at all, or when a whole JSON
    document is broken (naming the line and column); a broken JSON Lines line or SSE
    event comes out as a `Record` with ``error`` set instead. ``storage_options`` go to
    fsspec for a URL (`imgcall.sources.remote`).
    """
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not looks_like_content(source)
    ):
        label = name or (source if isinstance(source, str) else str(Path(source)))
        return label, _from_source(source, label, storage_options)
    if isinstance(source, (str, bytes, bytearray, memoryview)):
        label = name or "<input>"
        return label, _from_source(source, label, None, content=True)
    if hasattr(source, "read"):
        given = getattr(source, "name", None)
        label = name or (given if isinstance(given, str) else "<stream>")
        return label, _from_source(source, label, None)
    if isinstance(source, Mapping):
        label = name or "<object>"
        return label, _from_value(source, label)
    if isinstance(source, (list, tuple)):
        label = name or "<object>"
        if source and isinstance(source[0], (str, bytes, bytearray)):
            return label, _from_lines(LineReader(from_lines(iter(source)), label), label)
        return label, _from_value(source, label)
    if callable(getattr(source, "model_dump", None)) or callable(getattr(source, "to_dict", None)):
        label = name or f"<{type(source).__name__}>"
        return label, _from_value(source, label)
    if isinstance(source, Iterable):
        # The label of a list of the same events, so where an image was found reads the
        # same whichever way the events were handed in.
        label = name or "<object>"
        return label, _from_iterable(source, label)
    raise InvalidInputError(
        f"cannot read images from a value of type {type(source).__name__}: pass a path, "
        "a file, JSON or SSE text, a dict or list, an SDK object, or an iterable of events"
    )


def to_json_value(obj: object, label: object) -> Any:
    """An SDK object's ``model_dump()`` / ``to_dict()``; other values are returned as is."""
    for method in ("model_dump", "to_dict"):
        fn = getattr(obj, method, None)
        if callable(fn):
            try:
                return dump_sdk(method, fn)
            except Exception as exc:  # the SDK object's own failure: wrap, never hide
                raise InvalidInputError(
                    f"{type(obj).__name__}.{method}() failed: {exc}", location=label
                ) from exc
    return obj


def checked_value(value: object, label: object, pointer: str = "") -> Record:
    """The record of an already-parsed value, with its odd values replaced (not in place).

    SDK objects in it become their JSON values on the way; the caller's objects are
    never changed, and nothing is copied when nothing is odd.
    """
    fresh = to_json_value(value, label)
    location = Location(str(label), pointer) if pointer else label

    def convert(obj: object) -> Any:
        return to_json_value(obj, location)

    # Copied where changed even for an SDK object's dump: to_dict() may hand back its own
    # state rather than a copy.
    checked, notes = clean(fresh, in_place=False, convert=convert)
    return Record(checked, pointer=pointer, warnings=tuple(notes))


# -- sources -----------------------------------------------------------------------------


def _from_value(value: object, label: str) -> Iterator[Record]:
    yield checked_value(value, label)


def _from_source(
    source: object,
    label: str,
    storage_options: Mapping[str, Any] | None,
    *,
    content: bool = False,
) -> Iterator[Record]:
    opened = open_bytes(source, label, storage_options, content=content)
    try:
        if opened.file is not None:
            whole = one_line_document(opened.file, CHUNK_SIZE)
            if isinstance(whole, ParseFailure):
                raise _document_error(whole.error, 1, label)
            if whole is not NOT_ONE_DOCUMENT:
                value, notes = whole
                yield Record(value, warnings=notes)
                return
        mapped = open_map(opened.file, CHUNK_SIZE) if opened.file is not None else None
        yield from _from_lines(LineReader(opened.read, label, mapped=mapped), label, single=True)
    finally:
        opened.close()


def _from_iterable(events: Iterable[object], label: str) -> Iterator[Record]:
    iterator = iter(events)
    for first in iterator:
        if isinstance(first, (str, bytes, bytearray)):
            reader = from_lines(chain([first], iterator))
            yield from _from_lines(LineReader(reader, label), label)
            return
        for index, event in enumerate(chain([first], iterator)):
            # One event at a time: a live stream's partial images come out as they arrive.
            yield checked_value(event, label, f"/{index}")
        return


# -- framing -----------------------------------------------------------------------------


def _from_lines(lines: LineReader, label: str, *, single: bool = False) -> Iterator[Record]:
    """Recognise the framing from the first bytes and read the records."""
    encoding = lines.start()
    _refuse_binary(lines.peek(_LOOK), encoding, label)
    # What starts the input decides, before a line is read: a "line" of something else
    # (binary data, /dev/zero) could be gigabytes long.
    found = lines.head(_LOOK)
    if found is None:
        raise InvalidInputError(
            "the input is empty (no JSON, JSON Lines or SSE data)", location=label
        )
    newlines, head = found
    first_byte = head[:1]
    if first_byte not in (b"{", b"[") and not _sse_field().match(head):
        line = lines.lineno + newlines + 1
        _refuse_binary(head, encoding, label)
        raise InvalidInputError(
            f"not JSON, JSON Lines or an SSE transcript: line {line} starts with {head[:20]!r}",
            location=Location(label, line=line),
        )
    first = _next_non_blank(lines)
    assert first is not None
    if first_byte in (b"{", b"["):
        yield from _json_or_lines(lines, first, label, single)
    else:
        from .sse import read_sse  # here: it reads records with this module's helpers

        yield from read_sse(lines, first, lines.lineno, label)


# Compressed data was decompressed on the way in (`imgcall.sources.compressed`): these
# are what is left, such as a gzip file inside a gzip file.
_CONTAINERS = (
    (b"\x1f\x8b", "gzip-compressed data; decompress it"),
    (b"BZh", "bzip2-compressed data; decompress it"),
    (b"\xfd7zXZ\x00", "xz-compressed data; decompress it"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data; decompress it"),
    (b"PK\x03\x04", "a zip archive; extract it"),
)


def _refuse_binary(head: bytes, encoding: str | None, label: str) -> None:
    """Refuse input that can never be JSON or SSE from its first bytes, not its first line."""
    kind = next((what for magic, what in _CONTAINERS if head.startswith(magic)), None)
    if kind is not None:
        what, advice = kind.split("; ")
        raise InvalidInputError(
            f"the input is {what}, not JSON, JSON Lines or an SSE transcript; {advice} first",
            location=label,
        )
    if b"\x00" in head:
        # Text never holds NUL; UTF-16/32 text holds many, but is decoded by now.
        raise InvalidInputError(
            "the input is binary data (it holds NUL bytes), not JSON, JSON Lines or an "
            f"SSE transcript{f' in {encoding}' if encoding else ''}: it starts with "
            f"{head[:20]!r}",
            location=label,
        )


def _next_non_blank(lines: LineReader) -> bytearray | None:
    while (line := lines.readline()) is not None:
        if NON_SPACE.search(line):
            return line
    return None


def _json_or_lines(
    lines: LineReader, first: bytearray, label: str, single: bool
) -> Iterator[Record]:
    first_no = lines.lineno
    notes: list[Replacement] = []
    try:
        value = parse_json(first, notes=notes)
    except JSONError as exc:
        error = exc
    else:
        if single and not lines.has_more():
            # A one-line document is a document, not JSON Lines.
            yield Record(value, warnings=tuple(notes))
            return
        yield Record(value, line=first_no, warnings=tuple(notes))
        yield from _json_lines(lines, label)
        return
    # Pretty-printing breaks lines after an opening bracket, a comma or a colon; a cut-off
    # JSON Lines record almost never ends exactly there.
    pretty = bytes(first[-64:]).rstrip()[-1:] in (b"{", b"[", b",", b":")
    second = None if pretty else _next_non_blank(lines)
    second_no = lines.lineno
    if second is not None:
        # A first line that does not parse is either the start of a pretty-printed
        # document or a broken JSON Lines record: a second line holding a whole object
        # settles it.
        parsed = _parse_object(second, second_no)
        if parsed is not None:
            yield _bad_line(error, first_no, label)
            yield parsed
            yield from _json_lines(lines, label)
            return
        first += b"\n" * (second_no - first_no)
        first += second
    elif not lines.has_more():
        raise _document_error(error, first_no, label)  # one line: its error stands
    document = lines.rest(first)
    del first, second
    notes = []
    try:
        value = parse_json(document, notes=notes)
    except JSONError as exc:
        raise _document_error(exc, first_no, label) from exc
    yield Record(value, warnings=tuple(notes))


def _document_error(exc: JSONError, first_no: int, label: str) -> InvalidInputError:
    line = first_no + exc.line - 1
    error = InvalidInputError(
        f"not valid JSON: {exc.reason} (line {line}, column {exc.column})",
        location=Location(label, line=line, column=exc.column),
    )
    error.__cause__ = exc
    return error


def _parse_object(line: bytearray, line_no: int | None) -> Record | None:
    notes: list[Replacement] = []
    try:
        value = parse_json(line, notes=notes)
    except JSONError:
        return None
    if isinstance(value, dict) and value:
        return Record(value, line=line_no, warnings=tuple(notes))
    return None


def _json_lines(lines: LineReader, label: str) -> Iterator[Record]:
    if lines.mapped is not None:
        for lineno, value, notes in mapped_lines(lines.mapped, lines.lineno):
            if isinstance(value, ParseFailure):
                yield _bad_line(value.error, lineno, label)
            else:
                yield Record(value, line=lineno, warnings=notes)
        return
    while (line := lines.readline()) is not None:
        if not NON_SPACE.search(line):
            continue
        found: list[Replacement] = []
        try:
            value = parse_json(line, notes=found)
        except JSONError as exc:
            yield _bad_line(exc, lines.lineno, label)
            continue
        yield Record(value, line=lines.lineno, warnings=tuple(found))


def _bad_line(
    exc: JSONError,
    line_no: int,
    label: str,
    what: str = "line",
    starts: list[int] | None = None,
) -> Record:
    line = line_no + exc.line - 1
    column = exc.column
    if starts and 0 <= line - line_no < len(starts):
        # The parser counts columns in an SSE data value; report them in the file.
        column += starts[line - line_no]
    error = InvalidInputError(
        f"{what} {line} is not valid JSON: {exc.reason} (column {column})",
        location=Location(label, line=line, column=column),
    )
    error.__cause__ = exc
    return Record(None, line=line, error=error)

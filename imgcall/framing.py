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
a large JSON Lines file is read in place, see `imgcall.mapped`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from ._sdk import dump_sdk
from .errors import InvalidInputError
from .items import Location
from .jsonparse import parse_json
from .linereader import NON_SPACE, LineReader, from_bytes, from_file, from_lines
from .mapped import NOT_ONE_DOCUMENT, ParseFailure, mapped_lines, one_line_document, open_map

__all__ = ["CHUNK_SIZE", "Record", "looks_like_content", "read_records", "to_json_value"]

CHUNK_SIZE = 1 << 20
"""Bytes read from a file at a time; large reads keep multi-MB lines cheap."""

_JSON_POSITION = re.compile(r"\s*at line (\d+) column (\d+)$")
_SSE_FIELD = re.compile(rb"(?:data|event|id|retry)(?::|$)|:")
_FIELD_NAME = re.compile(rb"[A-Za-z_-]*$")
_DONE = b"[DONE]"


@dataclass(frozen=True)
class Record:
    """One parsed JSON value and where it came from, or the error that replaced it."""

    value: Any
    line: int | None = None
    """1-based line of the record (JSON Lines) or of its first ``data:`` line (SSE)."""
    pointer: str = ""
    """Position of the record inside an iterable of events, e.g. ``/3``."""
    error: InvalidInputError | None = None
    """Set (and ``value`` is ``None``) when this one record could not be parsed."""


def looks_like_content(text: str) -> bool:
    """True if ``text`` is JSON, JSON Lines or SSE text rather than a path."""
    head = text.lstrip("\ufeff").lstrip()[:6]  # U+FEFF: a BOM that read_text() kept
    return head[:1] in ("{", "[", ":") or head.startswith(("data:", "event:")) or "\n" in text


def read_records(source: object, name: str | None = None) -> tuple[str, Iterator[Record]]:
    """Return the input's name and a lazy iterator over its records.

    Nothing is read until the iterator is advanced. The iterator raises
    `InvalidInputError` when the input cannot be read at all, or when a whole JSON
    document is broken (naming the line and column); a broken JSON Lines line or SSE
    event comes out as a `Record` with ``error`` set instead.
    """
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not looks_like_content(source)
    ):
        path = Path(source)
        label = name or str(path)
        return label, _from_path(path, label)
    if isinstance(source, (str, bytes, bytearray, memoryview)):
        label = name or "<input>"
        data = _utf8(source, label) if isinstance(source, str) else bytes(source)
        return label, _from_lines(LineReader(from_bytes(data), label), label, single=True)
    if hasattr(source, "read"):
        given = getattr(source, "name", None)
        label = name or (given if isinstance(given, str) else "<stream>")
        return label, _from_lines(
            LineReader(from_file(source, CHUNK_SIZE), label), label, single=True
        )
    if isinstance(source, Mapping):
        return name or "<object>", iter([Record(source)])
    if isinstance(source, (list, tuple)):
        label = name or "<object>"
        if source and isinstance(source[0], (str, bytes, bytearray)):
            return label, _from_lines(LineReader(from_lines(iter(source)), label), label)
        return label, iter([Record(source)])
    if callable(getattr(source, "model_dump", None)) or callable(getattr(source, "to_dict", None)):
        label = name or f"<{type(source).__name__}>"
        return label, iter([Record(to_json_value(source, label))])
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


# -- sources -----------------------------------------------------------------------------


def _utf8(text: str, label: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a bad decode
        raise InvalidInputError(
            f"the text is not valid Unicode: {exc.reason} at character {exc.start}",
            location=label,
        ) from exc


def _from_path(path: Path, label: str) -> Iterator[Record]:
    try:
        file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {path}: {exc.strerror or exc}", location=label
        ) from exc
    except ValueError as exc:  # a NUL, or a character the file system cannot encode
        raise InvalidInputError(
            f"cannot read {label!r}: not a possible file name ({exc})", location=label
        ) from exc
    with file:
        whole = one_line_document(file, CHUNK_SIZE)
        if whole is not NOT_ONE_DOCUMENT:
            yield Record(whole)
            return
        lines = LineReader(lambda: file.read(CHUNK_SIZE), label, mapped=open_map(file, CHUNK_SIZE))
        yield from _from_lines(lines, label, single=True)


def _from_iterable(events: Iterable[object], label: str) -> Iterator[Record]:
    iterator = iter(events)
    for first in iterator:
        if isinstance(first, (str, bytes, bytearray)):
            reader = from_lines(chain([first], iterator))
            yield from _from_lines(LineReader(reader, label), label)
            return
        for index, event in enumerate(chain([first], iterator)):
            # One event at a time: a live stream's partial images come out as they arrive.
            yield Record(to_json_value(event, Location(label, f"/{index}")), pointer=f"/{index}")
        return


# -- framing -----------------------------------------------------------------------------


def _from_lines(lines: LineReader, label: str, *, single: bool = False) -> Iterator[Record]:
    """Recognise the framing from the first non-blank line and read the records."""
    first = _next_non_blank(lines)
    if first is None:
        raise InvalidInputError(
            "the input is empty (no JSON, JSON Lines or SSE data)", location=label
        )
    start = NON_SPACE.search(first)
    assert start is not None
    head = bytes(first[start.start() : start.start() + 1])
    if head in (b"{", b"["):
        yield from _json_or_lines(lines, first, label, single)
    elif _SSE_FIELD.match(first, start.start()):
        yield from _sse(lines, first, lines.lineno, label)
    else:
        raise InvalidInputError(
            f"not JSON, JSON Lines or an SSE transcript: line {lines.lineno} starts with "
            f"{bytes(first[start.start() : start.start() + 20])!r}",
            location=Location(label, line=lines.lineno),
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
    try:
        value = parse_json(first)
    except ValueError as exc:
        error = exc
    else:
        if single and not lines.has_more():
            yield Record(value)  # a one-line document is a document, not JSON Lines
            return
        yield Record(value, line=first_no)
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
        parsed = _parse_object(second)
        if parsed is not None:
            yield _bad_line(error, first_no, label)
            yield Record(parsed, line=second_no)
            yield from _json_lines(lines, label)
            return
        first += b"\n" + b"\n" * (second_no - first_no - 1) + second
    document = lines.rest(first)
    try:
        value = parse_json(document)
    except ValueError as exc:
        reason, line, column = _split_error(exc, first_no)
        raise InvalidInputError(
            f"not valid JSON: {reason} (line {line}, column {column})",
            location=Location(label, line=line, column=column),
        ) from exc
    yield Record(value)


def _parse_object(line: bytearray) -> dict[str, Any] | None:
    try:
        value = parse_json(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value else None


def _json_lines(lines: LineReader, label: str) -> Iterator[Record]:
    if lines.mapped is not None:
        for lineno, value in mapped_lines(lines.mapped, lines.lineno):
            if isinstance(value, ParseFailure):
                yield _bad_line(value.error, lineno, label)
            else:
                yield Record(value, line=lineno)
        return
    while (line := lines.readline()) is not None:
        if not NON_SPACE.search(line):
            continue
        try:
            value = parse_json(line)
        except ValueError as exc:
            yield _bad_line(exc, lines.lineno, label)
            continue
        yield Record(value, line=lines.lineno)


def _bad_line(
    exc: ValueError,
    line_no: int,
    label: str,
    what: str = "line",
    starts: list[int] | None = None,
) -> Record:
    reason, line, column = _split_error(exc, line_no)
    if starts and 0 <= line - line_no < len(starts) and column:
        # pydantic_core counts columns in an SSE data value; report them in the file.
        column += starts[line - line_no]
    error = InvalidInputError(
        f"{what} {line} is not valid JSON: {reason} (column {column})",
        location=Location(label, line=line, column=column),
    )
    error.__cause__ = exc
    return Record(None, line=line, error=error)


def _split_error(exc: ValueError, first_line: int) -> tuple[str, int, int]:
    """pydantic_core's message, line (relative to ``first_line``) and column."""
    message = str(exc)
    match = _JSON_POSITION.search(message)
    if match is None:
        return message, first_line, 0
    line = first_line + int(match.group(1)) - 1
    return message[: match.start()], line, int(match.group(2))


def _sse(lines: LineReader, first: bytearray, first_no: int, label: str) -> Iterator[Record]:
    data: list[bytearray] = []
    starts: list[int] = []  # where each data value starts on its line, for error columns
    data_line = 0
    event: str | None = None
    line: bytearray | None = first
    while line is not None:
        if not NON_SPACE.search(line):
            if data:
                yield from _sse_event(data, starts, data_line, event, label)
            data, starts, event = [], [], None
        elif line[:1] != b":":
            colon = line.find(b":")
            field = bytes(line[:colon]) if colon >= 0 else bytes(line)
            start = colon + 1 if colon >= 0 else len(line)
            if line[start : start + 1] == b" ":
                start += 1
            if field == b"data":
                if not data:
                    data_line = lines.lineno
                del line[:start]  # O(1); the line becomes the value without a copy
                data.append(line)
                starts.append(start)
            elif field == b"event":
                event = line[start:].decode("utf-8", "replace").strip()
            elif not _FIELD_NAME.match(field):
                yield Record(
                    None,
                    line=lines.lineno,
                    error=InvalidInputError(
                        f"line {lines.lineno} is not an SSE field (expected 'data:', "
                        "'event:' or a ':' comment)",
                        location=Location(label, line=lines.lineno),
                    ),
                )
        line = lines.readline()
    if data:
        # A transcript cut off without its final blank line still delivers the event.
        yield from _sse_event(data, starts, data_line, event, label)


def _sse_event(
    data: list[bytearray], starts: list[int], line_no: int, event: str | None, label: str
) -> Iterator[Record]:
    payload = data[0] if len(data) == 1 else bytearray(b"\n").join(data)
    if len(payload) < 16 and bytes(payload).strip() == _DONE:
        return
    try:
        value = parse_json(payload)
    except ValueError as exc:
        separate = [_parse_object(part) for part in data] if len(data) > 1 else []
        if separate and all(v is not None for v in separate):
            # Some saved transcripts lose the blank lines between data-only events.
            for offset, value in enumerate(separate):
                yield Record(_with_type(value, event), line=line_no + offset)
            return
        yield _bad_line(exc, line_no, label, what="the SSE event at line", starts=starts)
        return
    yield Record(_with_type(value, event), line=line_no)


def _with_type(value: Any, event: str | None) -> Any:
    # The JSON's own "type" is authoritative; the "event:" name fills in when it is missing.
    if event and isinstance(value, dict) and "type" not in value:
        value["type"] = event
    return value

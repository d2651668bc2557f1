"""SSE transcripts: one record per event, as `imgcall.framing` hands them out.

An event is its ``data:`` lines joined by newlines and parsed as JSON, with the
``event:`` name as its ``type`` when the JSON has none; ``:`` comments, ``id:`` and
``retry:`` lines and ``data: [DONE]`` are skipped, and data-only events whose blank
separator lines were lost are read one by one. A transcript in a regular file is read
where it lies, from its memory map (`imgcall.mapped.mapped_spans`); anything else
through the line buffer (`imgcall.linereader`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

from .errors import InvalidInputError
from .framing import Record, _bad_line, _parse_object
from .items import Location
from .jsonparse import JSONError, parse_json
from .linereader import NON_SPACE, LineReader
from .mapped import mapped_spans
from .oddities import Replacement

__all__ = ["read_sse"]

_FIELD_NAME = re.compile(rb"[A-Za-z_-]*$")
_DONE = b"[DONE]"
_BOM = b"\xef\xbb\xbf"


def read_sse(lines: LineReader, first: bytearray, first_no: int, label: str) -> Iterator[Record]:
    """The records of an SSE transcript whose first non-blank line, ``first`` (line
    ``first_no``), has been read from ``lines``; one record per event."""
    if lines.mapped is not None:
        # A transcript in a regular file is read where it lies (a 40 MB
        # response.completed event is never copied out of the map).
        mapped = lines.mapped
        bom = len(_BOM) if mapped[: len(_BOM)] == _BOM else 0
        spans: Iterator[tuple[int, Any, int, int]] = (
            (no, mapped, bom if start == 0 else start, stop)
            for no, start, stop in mapped_spans(mapped, first_no - 1)
        )
    else:
        spans = chain([(first_no, first, 0, len(first))], _buffered_lines(lines))
    yield from _sse_events(spans, label)


def _buffered_lines(lines: LineReader) -> Iterator[tuple[int, Any, int, int]]:
    while (line := lines.readline()) is not None:
        yield lines.lineno, line, 0, len(line)


# A data value: (buffer, start, stop), the buffer a line of its own or the whole map.
_Part = tuple[Any, int, int]


def _sse_events(lines: Iterator[tuple[int, Any, int, int]], label: str) -> Iterator[Record]:
    """The records of an SSE transcript from ``(line number, buffer, start, stop)`` lines."""
    data: list[_Part] = []
    starts: list[int] = []  # where each data value starts on its line, for error columns
    data_line = 0
    event: str | None = None
    for lineno, buf, pos, stop in lines:
        if NON_SPACE.search(buf, pos, stop) is None:
            if data:
                yield from _sse_event(data, starts, data_line, event, label)
            data, starts, event = [], [], None
        elif buf[pos : pos + 1] != b":":
            colon = buf.find(b":", pos, stop)
            field = bytes(buf[pos:colon]) if colon >= 0 else bytes(buf[pos:stop])
            start = colon + 1 if colon >= 0 else stop
            if buf[start : start + 1] == b" ":
                start += 1
            if field == b"data":
                if not data:
                    data_line = lineno
                if isinstance(buf, bytearray):
                    del buf[:start]  # O(1); the line becomes the value without a copy
                    data.append((buf, 0, len(buf)))
                else:
                    data.append((buf, start, stop))
                starts.append(start - pos)
            elif field == b"event":
                event = bytes(buf[start:stop]).decode("utf-8", "replace").strip()
            elif not _FIELD_NAME.match(field):
                yield Record(
                    None,
                    line=lineno,
                    error=InvalidInputError(
                        f"line {lineno} is not an SSE field (expected 'data:', "
                        "'event:' or a ':' comment)",
                        location=Location(label, line=lineno),
                    ),
                )
    if data:
        # A transcript cut off without its final blank line still delivers the event.
        yield from _sse_event(data, starts, data_line, event, label)


def _sse_event(
    data: list[_Part], starts: list[int], line_no: int, event: str | None, label: str
) -> Iterator[Record]:
    if len(data) == 1:
        buf, start, stop = data[0]
    else:
        buf = bytearray(b"\n").join(memoryview(b)[a:z] for b, a, z in data)
        start, stop = 0, len(buf)
    if stop - start < 16 and bytes(buf[start:stop]).strip() == _DONE:
        return
    notes: list[Replacement] = []
    try:
        value = parse_json(buf, start, stop, notes)
    except JSONError as exc:
        several = [bytearray(b[a:z]) for b, a, z in data] if len(data) > 1 else []
        separate = [_parse_object(part, line_no + k) for k, part in enumerate(several)]
        if len(separate) > 1 and all(record is not None for record in separate):
            # Some saved transcripts lose the blank lines between data-only events.
            for record in separate:
                assert record is not None
                yield Record(_with_type(record.value, event), record.line, warnings=record.warnings)
            return
        yield _bad_line(exc, line_no, label, what="the SSE event at line", starts=starts)
        return
    yield Record(_with_type(value, event), line=line_no, warnings=tuple(notes))


def _with_type(value: Any, event: str | None) -> Any:
    # The JSON's own "type" is authoritative; the "event:" name fills in when it is missing.
    if event and isinstance(value, dict) and "type" not in value:
        value["type"] = event
    return value

"""Tests for imgcall.sse: SSE transcripts, through `read_records` as users meet them."""

from __future__ import annotations

import base64
import io
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from imgcall import framing
from imgcall.framing import Record, read_records
from imgcall.lazytext import materialized
from imgcall.models import Location
from tests.helpers import write_base64

ENVELOPES = Path(__file__).resolve().parent.parent / "fixtures" / "envelopes"


def records(source: object, name: str | None = None) -> list[Record]:
    return list(read_records(source, name)[1])


def values(source: object) -> list[Any]:
    return [r.value for r in records(source)]


def test_sse_with_event_lines_uses_the_json_type_and_fills_it_from_event() -> None:
    text = (
        "event: response.created\n"
        'data: {"type": "response.created", "n": 1}\n\n'
        "event: response.in_progress\n"
        'data: {"n": 2}\n\n'
    )
    got = records(text)
    assert [(r.value, r.line) for r in got] == [
        ({"type": "response.created", "n": 1}, 2),
        ({"type": "response.in_progress", "n": 2}, 5),
    ]


def test_sse_data_only_with_crlf_comments_and_done() -> None:
    text = ': OPENROUTER PROCESSING\r\n\r\ndata: {"n": 1}\r\n\r\n: ping\r\ndata:{"n":2}\r\n\r\n'
    text += "data: [DONE]\r\n\r\n"
    assert [(r.value, r.line) for r in records(text)] == [({"n": 1}, 3), ({"n": 2}, 6)]


def test_sse_multi_line_data_is_joined_with_newlines() -> None:
    (record,) = records('data: {"type": "x",\ndata:  "n": 1}\n\n')
    assert record == Record({"type": "x", "n": 1}, line=1)


def test_broken_multi_line_sse_event_points_at_the_line_and_column_in_the_file() -> None:
    (record,) = records('event: x\ndata: {"type": "x",\ndata:"n": tru}\n\n')
    assert record.error is not None
    assert record.error.location == Location("<input>", line=3, column=11)


def test_sse_data_lines_without_blank_separators_are_read_one_by_one() -> None:
    got = records('data: {"n": 1}\ndata: {"n": 2}\n')
    assert [(r.value, r.line) for r in got] == [({"n": 1}, 1), ({"n": 2}, 2)]


def test_sse_whitespace_only_line_separates_events() -> None:
    assert values('data: {"n": 1}\n  \ndata: {"n": 2}\n\n') == [{"n": 1}, {"n": 2}]


def test_sse_last_event_without_trailing_blank_line_is_delivered() -> None:
    assert values('event: a\ndata: {"n": 1}') == [{"type": "a", "n": 1}]


def test_broken_sse_event_is_an_error_record_and_the_stream_goes_on() -> None:
    got = records('data: {"n": 1}\n\ndata: {"n": \n\ndata: {"n": 3}\n\n')
    assert [r.value for r in got] == [{"n": 1}, None, {"n": 3}]
    error = got[1].error
    assert error is not None and error.location == Location("<input>", line=3, column=13)
    assert "the SSE event at line 3 is not valid JSON" in str(error)


def test_json_line_inside_an_sse_transcript_is_reported_not_dropped() -> None:
    got = records('data: {"n": 1}\n\n{"n": 2}\n\nretry: 10\nid: 5\n\n')
    assert got[0].value == {"n": 1}
    assert got[1].error is not None and "line 3 is not an SSE field" in str(got[1].error)
    assert len(got) == 2


def test_sse_fixture_has_every_event_of_the_stream() -> None:
    got = records(ENVELOPES / "openai_stream.sse")
    types = [r.value["type"] for r in got]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert len(types) == 13 and all(r.line == 2 + 3 * i for i, r in enumerate(got))


@pytest.mark.slow
def test_a_40_mb_sse_data_line_costs_about_its_own_size(tmp_path: Path) -> None:
    """Issue 13 item 7: the SSE reader held three copies of its largest record."""
    path = tmp_path / "stream.sse"
    size = 40 * 2**20
    with open(path, "wb") as out:
        out.write(b'event: response.created\ndata: {"type": "response.created"}\n\n')
        out.write(b'event: response.completed\ndata: {"type": "response.completed", "r": "')
        write_base64(out, size)
        out.write(b'"}\n\n')
    for source in (path, io.BytesIO(path.read_bytes())):
        tracemalloc.start()
        try:
            values = [r.value["type"] for r in read_records(source)[1]]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert values == ["response.created", "response.completed"]
        if isinstance(source, io.BytesIO):  # through the line buffer, beside its own copy
            assert peak - size < 1.3 * size, (source, peak)
        else:  # a file is read from its map: the line is never copied
            assert peak < 0.1 * size, (source, peak)


def _sse_transcript() -> bytes:
    """Every case the SSE reader knows, padded past the size at which a file is mapped."""
    long = base64.b64encode(bytes(range(256)) * 6000).decode()  # 2 MB: lifted from the map
    return b"".join(
        [
            b"\xef\xbb\xbfevent: response.created\r\n",
            b'data: {"type": "response.created", "response": {"id": "resp_1"}}\r\n\r\n',
            b": a comment\n",
            b"event: response.output_item.done\n",
            b'data: {"item": {"type": "image_generation_call", "id": "ig_1", "status": '
            b'"completed", "result": "' + long.encode() + b'"}}\n\n',
            b'data: {"a":\ndata: 1}\n\n',  # one event on two data lines
            b'data: {"b": 2}\ndata: {"c": 3}\n\n',  # blank lines lost between events
            b"   \t\n",
            b"retry: 1000\nid: 7\n",
            b'data: {"d": [1, 2,, 3]}\n\n',  # a broken event: an error record
            b"nonsense line\n",
            b"data: [DONE]\n\n",
            b'data:{"e": "no space after the colon"}\n',
            b"data",  # a field without a colon, then the end: the last event is delivered
        ]
    )


def _described(found: list[Record]) -> list[tuple[Any, ...]]:
    return [
        (
            r.line,
            materialized(r.value),
            r.warnings,
            None if r.error is None else (str(r.error), r.error.location),
        )
        for r in found
    ]


def test_an_sse_file_read_from_its_map_gives_what_the_line_buffer_gives(tmp_path: Path) -> None:
    # A regular file is read in place from a memory map; a stream through the line
    # buffer. Lines, values, warnings, errors and their columns are the same.
    data = _sse_transcript()
    path = tmp_path / "stream.sse"
    path.write_bytes(data)
    assert path.stat().st_size > framing.CHUNK_SIZE
    mapped = _described(records(path, "t"))
    buffered = _described(records(io.BytesIO(data), "t"))  # no file behind it: not mapped
    assert mapped == buffered
    assert [line for line, *_ in mapped] == [2, 6, 8, 11, 12, 17, 19, 22]
    assert mapped[1][1]["item"]["result"].startswith("AAECAwQF")
    assert mapped[2][1] == {"a": 1}
    assert mapped[5][3][1] == Location("t", line=17, column=19)  # the second comma, in the file
    assert "not an SSE field" in mapped[6][3][0]

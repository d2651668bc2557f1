"""imgcall.linereader: lines of bytes from any reader, whatever their length."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Callable

import pytest

from imgcall import InvalidInputError
from imgcall.linereader import LineReader, from_bytes, from_file, from_lines


def trickle(data: bytes, size: int) -> Callable[[], bytes]:
    """A read() handing out ``size`` bytes at a time, like a slow pipe."""
    view = io.BytesIO(data)
    return lambda: view.read(size)


def all_lines(reader: LineReader) -> list[bytes]:
    out = []
    while (line := reader.readline()) is not None:
        out.append(bytes(line))
    return out


@pytest.mark.parametrize("size", [1, 2, 5, 1 << 20])
def test_crlf_lf_and_a_leading_bom_however_the_bytes_arrive(size: int) -> None:
    data = b'\xef\xbb\xbf{"a": 1}\r\n\r\n{"b": 2}\nlast without newline'
    reader = LineReader(trickle(data, size), "<t>")
    assert reader.start() is None
    assert all_lines(reader) == [b'{"a": 1}', b"", b'{"b": 2}', b"last without newline"]
    assert reader.lineno == 4


def test_a_line_longer_than_any_read_comes_out_whole() -> None:
    long = b"A" * 3_000_001
    reader = LineReader(from_file(io.BytesIO(long + b"\nnext\n"), 4096), "<t>")
    assert all_lines(reader) == [long, b"next"]


def test_a_text_stream_is_read_line_by_line_as_utf8() -> None:
    reader = LineReader(from_file(io.StringIO("héllo\nwörld\n"), 1 << 20), "<t>")
    assert all_lines(reader) == ["héllo".encode(), "wörld".encode()]


def test_lines_from_an_iterable_get_their_newline_when_missing() -> None:
    reader = LineReader(from_lines(iter(["one", b"two\n", "three"])), "<t>")
    assert all_lines(reader) == [b"one", b"two", b"three"]


def test_has_more_skips_blank_lines_and_counts_them() -> None:
    reader = LineReader(trickle(b"x\n\n  \n\t\ny\n", 2), "<t>")
    assert reader.readline() == b"x"
    assert reader.has_more()
    assert reader.readline() == b"y"
    assert reader.lineno == 5
    assert not reader.has_more()


def test_rest_joins_a_head_line_with_everything_unread() -> None:
    reader = LineReader(trickle(b'{"a":\n 1,\n "b": 2}\n', 3), "<t>")
    head = reader.readline()
    assert head is not None
    assert bytes(reader.rest(head)) == b'{"a":\n 1,\n "b": 2}\n'
    assert reader.readline() is None


def test_an_empty_input_has_no_lines() -> None:
    reader = LineReader(from_bytes(b""), "<t>")
    assert reader.readline() is None
    assert not reader.has_more()


def test_a_file_whose_read_returns_no_bytes_is_an_input_error_naming_the_line() -> None:
    class Odd:
        """A file-like object whose read() hands back a number after one line."""

        def __init__(self) -> None:
            self.chunks: list[object] = [b"ok\n", 42]

        def read(self, size: int) -> object:
            return self.chunks.pop(0)

    reader = LineReader(from_file(Odd(), 1024), "<weird>")
    assert reader.readline() == b"ok"
    with pytest.raises(
        InvalidInputError, match=re.escape("after line 1: read() returned int")
    ) as info:
        reader.readline()
    assert info.value.location == "<weird>"


def test_a_file_whose_read_fails_is_an_input_error() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: object) -> int:
            raise OSError(5, "Input/output error")

    reader = LineReader(from_file(Broken(), 1024), "<disk>")
    with pytest.raises(InvalidInputError, match="Input/output error"):
        reader.readline()


def test_head_skips_whitespace_and_reads_no_further_than_it_must() -> None:
    pulled: list[bytes] = []
    parts = iter([b"  \n", b"\n ", b'{"a"', b": 1}\n", b"never read\n"])

    def read() -> bytes:
        part = next(parts, b"")
        pulled.append(part)
        return part

    reader = LineReader(read, "<t>")
    # The blank lines read whole are dropped and counted; none is left before it.
    assert reader.head(1024) == (0, b'{"a"') and reader.lineno == 2
    assert len(pulled) == 3  # a live stream is not waited on for a whole kilobyte
    assert all_lines(reader) == [b'{"a": 1}', b"never read"]
    assert reader.lineno == 4


@pytest.mark.parametrize(
    ("data", "encoding"),
    [("\ufeffé\n".encode("utf-16-le"), "UTF-16"), ("\ufeffé\n".encode("utf-32-be"), "UTF-32")],
)
def test_start_decodes_utf16_and_utf32_from_their_byte_order_mark(
    data: bytes, encoding: str
) -> None:
    reader = LineReader(trickle(data * 3, 3), "<t>")  # marks and characters split by reads
    assert reader.start() == encoding
    assert all_lines(reader) == ["é".encode(), "\ufeffé".encode(), "\ufeffé".encode()]


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b""])
def test_a_long_line_is_handed_over_whole_and_held_once(ending: bytes) -> None:
    # An SSE event holding a whole response's images is tens of MB on one line: it is
    # handed over without a copy, so it is held once, not twice (issue 15).
    long = b"x" * (8 << 20)
    data = b"first\n" + long + ending + (b"after\nlast" if ending else b"")
    reader = LineReader(from_bytes(data), "<t>")
    assert reader.readline() == b"first"
    tracemalloc.start()
    try:
        line = reader.readline()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert line == long and reader.lineno == 2
    assert peak < len(long) // 2  # a copy of the line would be 8 MB more
    line[:4] = b"ABCD"  # the caller owns it: the reader does not share it
    rest = [reader.readline(), reader.readline(), reader.readline()]
    assert rest == ([b"after", b"last", None] if ending else [None, None, None])

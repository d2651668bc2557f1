"""imgcall.framing: sources to parsed records (whole document, JSON Lines, SSE events)."""

from __future__ import annotations

import gc
import io
import json
import math
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imgcall import framing
from imgcall.errors import InvalidInputError
from imgcall.framing import Record, looks_like_content, read_records
from imgcall.lazytext import materialized
from imgcall.models import Location
from tests.helpers import write_base64

ENVELOPES = Path(__file__).resolve().parent.parent / "fixtures" / "envelopes"


def records(source: object, name: str | None = None) -> list[Record]:
    return list(read_records(source, name)[1])


def values(source: object) -> list[Any]:
    return [r.value for r in records(source)]


def lines_of(source: object) -> list[int | None]:
    return [r.line for r in records(source)]


# -- whole documents and JSON Lines -------------------------------------------------------


def test_pretty_printed_document_is_one_record_without_a_line() -> None:
    text = json.dumps({"id": "resp_1", "output": [{"a": 1}]}, indent=2)
    (record,) = records(text)
    assert record == Record({"id": "resp_1", "output": [{"a": 1}]})


def test_single_line_document_is_a_document_not_json_lines() -> None:
    (record,) = records(b'  {"id": "x"}\n\n  \n')
    assert (record.value, record.line) == ({"id": "x"}, None)


def test_json_lines_keep_their_line_numbers_across_blank_lines() -> None:
    text = '{"n": 1}\n\n{"n": 2}\r\n   \n{"n": 3}'
    assert [(r.value["n"], r.line) for r in records(text)] == [(1, 1), (2, 3), (3, 5)]


def test_broken_line_in_the_middle_is_an_error_record_for_that_line_only() -> None:
    got = records('{"n": 1}\n{"n": 2, "x": tru}\n{"n": 3}\n')
    assert [r.value for r in got] == [{"n": 1}, None, {"n": 3}]
    error = got[1].error
    assert isinstance(error, InvalidInputError)
    assert error.location == Location("<input>", line=2, column=15)
    assert "line 2 is not valid JSON" in str(error) and "column 15" in str(error)
    assert isinstance(error.__cause__, ValueError)


def test_broken_first_line_of_json_lines_does_not_hide_the_others() -> None:
    got = records('{"custom_id": "a", "respo\n{"n": 2}\n{"n": 3}\n')
    assert got[0].error is not None and got[0].line == 1
    assert [(r.value, r.line) for r in got[1:]] == [({"n": 2}, 2), ({"n": 3}, 3)]


def test_pretty_printed_list_of_one_object_per_line_is_still_a_document() -> None:
    assert values('[\n{"n": 1}\n]\n') == [[{"n": 1}]]
    text = '{"id": "r", "output": [\n  {"type": "image_generation_call"}\n]}\n'
    assert values(text) == [{"id": "r", "output": [{"type": "image_generation_call"}]}]


def test_broken_document_raises_naming_input_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "resp.json"
    path.write_text('\n{\n  "id": "resp_1",\n  "output": [tru]\n}\n')
    with pytest.raises(InvalidInputError) as info:
        records(path)
    assert info.value.location == Location(str(path), line=4, column=14)
    assert str(path) in str(info.value) and "line 4, column 14" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("text", ["", "   \n\n", "\ufeff"])
def test_empty_input_is_an_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        records(text.encode())


def test_text_that_is_neither_json_nor_sse_is_an_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="not JSON, JSON Lines or an SSE transcript"):
        records(b"hello world\n")


def test_utf8_bom_is_ignored() -> None:
    assert values(b'\xef\xbb\xbf{"n": 1}\n{"n": 2}\n') == [{"n": 1}, {"n": 2}]


# -- reading: no line limit, chunk boundaries, laziness -----------------------------------


def test_a_12_mb_data_line_is_read_whole() -> None:
    payload = "A" * (12 * 1024 * 1024)
    text = f'event: x\ndata: {{"type": "x", "result": "{payload}"}}\n\n'.encode()
    (record,) = records(io.BytesIO(text))
    # Long strings stay in the buffer until an item is validated (lazytext.LazyText).
    assert materialized(record.value)["result"] == payload and record.line == 2


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_lines_split_across_tiny_reads_including_crlf(
    chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(framing, "CHUNK_SIZE", chunk)
    path = tmp_path / "stream.txt"
    path.write_bytes(b'\xef\xbb\xbf: hi\r\n\r\ndata: {"n": 1}\r\n\r\ndata: {"n": 22}\r\n\r\n')
    assert [(r.value, r.line) for r in records(path)] == [({"n": 1}, 3), ({"n": 22}, 5)]


class CountingReader(io.RawIOBase):
    """A binary stream that records how many bytes were handed out."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.handed_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer)
        self.handed_out += n
        return n


def test_json_lines_are_read_one_record_at_a_time() -> None:
    line = json.dumps({"result": "B" * 3_000_000}).encode() + b"\n"
    stream = CountingReader(line * 10)
    _, iterator = read_records(stream)
    first = next(iterator)
    assert first.line == 1
    # The first record and the look-ahead chunk, never the whole input.
    assert stream.handed_out <= len(line) + 2 * framing.CHUNK_SIZE < 10 * len(line)
    assert sum(1 for _ in iterator) == 9


def test_path_is_not_opened_until_iterated_and_missing_path_is_invalid_input(
    tmp_path: Path,
) -> None:
    name, iterator = read_records(tmp_path / "missing.jsonl")
    assert name == str(tmp_path / "missing.jsonl")
    with pytest.raises(InvalidInputError, match="cannot read") as info:
        next(iterator)
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.parametrize("path", ["a\x00b.json", "a\ud800b.json"])
def test_path_the_system_cannot_name_is_an_invalid_input(path: str) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        records(path)


def test_text_holding_a_lone_surrogate_character_keeps_the_record() -> None:
    (record,) = records('{"id": "\ud800", "n": 1}')
    assert record.value == {"id": "\ufffd", "n": 1}
    assert len(record.warnings) == 1 and "not UTF-8" in record.warnings[0].message


def test_directory_is_an_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        records(tmp_path)


def test_abandoned_path_iterator_closes_its_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_text('{"n": 1}\n{"n": 2}\n{"n": 3}\n')
    _, iterator = read_records(path)
    assert next(iterator).value == {"n": 1}
    del iterator
    gc.collect()  # an unclosed file would raise ResourceWarning (filterwarnings=error)


def test_read_errors_are_wrapped() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            raise OSError("device gone")

    with pytest.raises(InvalidInputError, match="device gone") as info:
        records(Broken())
    assert isinstance(info.value.__cause__, OSError)


def test_file_object_whose_read_returns_neither_bytes_nor_str_is_wrapped() -> None:
    class Odd:
        def read(self, n: int = -1) -> int:
            return 5

    with pytest.raises(InvalidInputError, match="returned int"):
        records(Odd())


# -- kinds of source ---------------------------------------------------------------------


def test_str_with_a_byte_order_mark_is_content_not_a_path() -> None:
    """read_text() of a file saved with a BOM keeps it as U+FEFF at the start."""
    assert looks_like_content('\ufeff{"a": 1}')
    assert values('\ufeff{"a": 1}') == [{"a": 1}]


def test_str_rule_for_content_versus_path() -> None:
    assert looks_like_content('{"a": 1}') and looks_like_content(" [1]")
    assert looks_like_content("data: {}") and looks_like_content("event: x")
    assert looks_like_content(": comment") and looks_like_content("a\nb")
    assert not looks_like_content("out/response.json")


def test_every_text_source_gives_the_same_records(tmp_path: Path) -> None:
    text = 'event: e\ndata: {"n": 1}\n\ndata: {"n": 2}\n\n'
    path = tmp_path / "t.bin"
    path.write_text(text)
    expected = [({"type": "e", "n": 1}, 2), ({"n": 2}, 4)]
    with open(path, "rb") as binary, open(path, encoding="utf-8") as textfile:
        sources: list[object] = [
            text,
            text.encode(),
            bytearray(text.encode()),
            memoryview(text.encode()),
            str(path),
            path,
            binary,
            textfile,
            io.StringIO(text),
            text.splitlines(),  # lines without newlines, like httpx's iter_lines()
            text.splitlines(keepends=True),  # like readlines()
            iter(text.splitlines()),
        ]
        for source in sources:
            assert [(r.value, r.line) for r in records(source)] == expected, source


def test_input_names() -> None:
    assert read_records('{"a": 1}')[0] == "<input>"
    assert read_records({"a": 1})[0] == "<object>"
    assert read_records(iter([{"a": 1}]))[0] == "<object>"  # as for a list
    assert read_records(io.BytesIO(b"{}"))[0] == "<stream>"
    assert read_records(b"{}", name="<stdin>")[0] == "<stdin>"


def test_parsed_values_and_sdk_objects_are_single_records() -> None:
    class Sdk:
        def model_dump(self) -> dict[str, Any]:
            return {"id": "resp_1"}

    class Legacy:
        def to_dict(self) -> dict[str, Any]:
            return {"id": "resp_2"}

    assert values({"id": 1}) == [{"id": 1}]
    assert values([{"id": 1}, {"id": 2}]) == [[{"id": 1}, {"id": 2}]]
    assert values(({"id": 1},)) == [({"id": 1},)]
    assert values(Sdk()) == [{"id": "resp_1"}]
    assert read_records(Sdk())[0] == "<Sdk>"
    assert values(Legacy()) == [{"id": "resp_2"}]


def test_failing_sdk_object_is_wrapped() -> None:
    class Broken:
        def model_dump(self) -> dict[str, Any]:
            raise RuntimeError("boom")

    with pytest.raises(InvalidInputError, match=r"Broken.model_dump\(\) failed: boom") as info:
        records(Broken())
    assert isinstance(info.value.__cause__, RuntimeError)


def test_iterable_of_events_is_consumed_one_event_at_a_time() -> None:
    pulled: list[int] = []

    def events() -> Iterator[dict[str, int]]:
        for n in range(3):
            pulled.append(n)
            yield {"n": n}

    _, iterator = read_records(events())
    assert pulled == []
    assert next(iterator) == Record({"n": 0}, pointer="/0")
    assert pulled == [0]
    assert next(iterator) == Record({"n": 1}, pointer="/1")
    assert pulled == [0, 1]


def test_unsupported_source_type() -> None:
    with pytest.raises(InvalidInputError, match="value of type int"):
        read_records(42)


def test_pretty_printed_document_with_a_long_first_line_from_a_stream() -> None:
    """The first line is parsed alone first, and fails; the document then grows it."""
    long = "QUJD" * 100_000  # 400 kB of base64: parsed with its string lifted out
    text = '{"a": "' + long + '", "b":\n 1}\n'
    (record,) = records(io.BytesIO(text.encode()))
    assert materialized(record.value) == {"a": long, "b": 1}
    with pytest.raises(InvalidInputError, match=r"\(line 2, column 2\)"):
        records(io.BytesIO(text.replace(" 1}", " tru}").encode()))


def test_a_one_line_document_cut_off_is_placed_on_its_line() -> None:
    """Issue 14 item 7: not on a line 2 that the file does not have."""
    for text in ('{"type": "image_generation_call", "id": "x", ', '{"id": "x", \n'):
        with pytest.raises(InvalidInputError) as info:
            records(text.encode())
        assert info.value.location == Location("<input>", line=1, column=len(text.rstrip("\n")) + 1)


def test_odd_values_in_a_document_are_replaced_and_kept_as_warnings() -> None:
    big = "9" * 5000
    text = '{"id": "r\\ud83d", "usage": {"n": ' + big + '}, "output": [{"id": "\\udc00"}]}'
    (record,) = records(text)
    assert record.value == {
        "id": "r\ufffd",
        "usage": {"n": "<5000-digit integer>"},
        "output": [{"id": "\ufffd"}],
    }
    assert sorted(w.pointer for w in record.warnings) == ["/id", "/output/0/id", "/usage/n"]


def test_odd_values_in_json_lines_and_sse_are_kept_per_record() -> None:
    for text in ('{"n": 1}\n{"n": "\\ud800"}\n', 'data: {"n": 1}\n\ndata: {"n": "\\ud800"}\n\n'):
        first, second = records(text)
        assert first.warnings == () and second.value == {"n": "\ufffd"}
        assert [w.pointer for w in second.warnings] == ["/n"]


class _Sdk:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def model_dump(self) -> dict[str, Any]:
        return self.data


def test_odd_python_values_are_replaced_without_changing_the_callers_objects() -> None:
    huge = 7**20_000  # more digits than Python prints
    result = "QUJD" * 1000
    given = {"id": "x\ud800", "output": [{"seed": huge, "result": result}], "keep": [1, 2]}
    (record,) = records(given)
    assert record.value["id"] == "x\ufffd"
    digits = int(20_000 * math.log10(7)) + 1
    assert record.value["output"][0]["seed"] == f"<{digits}-digit integer>"
    assert record.value["output"][0]["result"] is result  # the long string is not copied
    assert record.value["keep"] is given["keep"]  # what holds nothing odd is not copied
    assert given["id"] == "x\ud800" and given["output"][0]["seed"] == huge  # untouched
    assert sorted(w.pointer for w in record.warnings) == ["/id", "/output/0/seed"]


def test_python_values_without_odd_values_are_passed_as_they_are() -> None:
    given = {"id": "x", "output": [{"n": 10**100}]}
    (record,) = records(given)
    assert record.value is given and record.warnings == ()


def test_odd_values_in_sdk_objects_and_events_are_replaced() -> None:
    (record,) = records(_Sdk({"id": "\ud800", "n": 10**5000}))
    assert record.value["id"] == "\ufffd" and len(record.warnings) == 2
    nested = {"output": [_Sdk({"id": "\ud800"})]}
    (record,) = records(nested)
    assert record.value == {"output": [{"id": "\ufffd"}]}
    assert [w.pointer for w in record.warnings] == ["/output/0/id"]
    first, second = records(iter([{"n": 1}, _Sdk({"n": 10**5000})]))
    assert (first.warnings, second.pointer) == ((), "/1")
    assert [w.pointer for w in second.warnings] == ["/n"]


def test_a_cyclic_python_value_is_walked_once() -> None:
    given: dict[str, Any] = {"id": "\ud800"}
    given["self"] = given
    (record,) = records(given)
    assert record.value["id"] == "\ufffd"


# -- what the first bytes say ------------------------------------------------------------


class _Counting(io.RawIOBase):
    """An endless stream of one byte, counting what was read from it."""

    def __init__(self, byte: bytes) -> None:
        self.byte = byte
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        buffer[:size] = self.byte * size
        self.read_bytes += size
        return size


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_from_its_first_bytes() -> None:
    with open("/dev/zero", "rb") as zero, pytest.raises(InvalidInputError, match="NUL bytes"):
        records(zero)
    with pytest.raises(InvalidInputError, match="NUL bytes"):
        records(Path("/dev/zero"))


@pytest.mark.parametrize("byte", [b"\x00", b"A", b"\xff"])
def test_an_endless_stream_that_is_not_json_is_refused_after_one_read(byte: bytes) -> None:
    stream = _Counting(byte)
    with pytest.raises(InvalidInputError, match=r"NUL bytes|not JSON, JSON Lines or an SSE"):
        records(stream)
    assert stream.read_bytes <= 2 * framing.CHUNK_SIZE


def test_endless_whitespace_is_read_in_flat_memory_and_then_json_is_found() -> None:
    blank = b" \n" * (3 * framing.CHUNK_SIZE)
    assert [(r.value, r.line) for r in records(io.BytesIO(blank + b'{"n": 1}\n{"n": 2}\n'))] == [
        ({"n": 1}, 3 * framing.CHUNK_SIZE + 1),
        ({"n": 2}, 3 * framing.CHUNK_SIZE + 2),
    ]


def test_text_after_blank_lines_that_is_not_json_names_its_line() -> None:
    with pytest.raises(InvalidInputError, match=r"line 3 starts with b'hello\\n'") as info:
        records(b"\n  \nhello\n")
    assert info.value.location == Location("<input>", line=3)


def test_a_zip_archive_is_named() -> None:
    with pytest.raises(InvalidInputError, match=r"a zip archive, not JSON.*; extract it first"):
        records(b"PK\x03\x04" + bytes(100))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(tmp_path: Path, encoding: str) -> None:
    text = '{"id": "é€\U0001f600", "n": 1}\r\n{"n": 2}\n'
    data = "\ufeff".encode(encoding) + text.encode(encoding)
    expected = [({"id": "é€\U0001f600", "n": 1}, 1), ({"n": 2}, 2)]
    path = tmp_path / "powershell.jsonl"
    path.write_bytes(data)
    for source in (data, io.BytesIO(data), path):
        assert [(r.value, r.line) for r in records(source)] == expected, source


def test_a_large_utf16_file_is_decoded_as_it_is_read(tmp_path: Path) -> None:
    line = json.dumps({"result": "QUJD" * 100_000}) + "\n"  # 400 kB per line
    path = tmp_path / "big.jsonl"
    path.write_bytes("\ufeff".encode("utf-16-le") + (line * 4).encode("utf-16-le"))
    got = [materialized(r.value) for r in records(path)]
    assert got == [{"result": "QUJD" * 100_000}] * 4


def test_broken_utf16_json_reports_its_position_in_characters() -> None:
    data = '{"a": 1,\n "b": tru}'.encode("utf-16")  # with its byte order mark
    with pytest.raises(InvalidInputError, match=r"line 2, column 7"):
        records(data)


# -- memory: a record costs about its own size -------------------------------------------


def _traced_peak(source: object) -> tuple[list[Record], int]:
    tracemalloc.start()
    try:
        got = [Record(None, r.line, error=r.error) for r in read_records(source)[1]]
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_a_broken_200_mb_json_lines_line_costs_about_its_own_size(tmp_path: Path) -> None:
    """Issue 13 item 7: a broken 500 MB line cost 1.5 GB, a valid one 13 MB."""
    path = tmp_path / "batch.jsonl"
    size = 200 * 2**20
    with open(path, "wb") as out:
        out.write(b'{"custom_id": "a"}\n{"custom_id": "b", "response": {"result": "')
        write_base64(out, size)
        out.write(b'\n{"custom_id": "c"}\n')  # the long line is cut off in its string
    got, mapped_peak = _traced_peak(path)  # read in place from a memory map
    assert [r.line for r in got] == [1, 2, 3] and got[1].error is not None
    assert "line 2 is not valid JSON: unterminated string" in str(got[1].error)
    assert mapped_peak < 16 * 2**20, mapped_peak
    with open(path, "rb") as stream:  # through read() calls, as from standard input
        got, stream_peak = _traced_peak(io.BufferedReader(stream))  # type: ignore[arg-type]
    assert [r.line for r in got] == [1, 2, 3] and got[1].error is not None
    assert stream_peak < 1.2 * size, stream_peak

"""imgcall.mapped: large regular files read in place from a memory map."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from imgcall import mapped
from imgcall.lazytext import LazyText, materialized
from imgcall.mapped import NOT_ONE_DOCUMENT, ParseFailure, mapped_lines, one_line_document

BIG = base64.b64encode(bytes(range(256)) * 1200).decode()  # ~400 kB of base64


def lines_of(path: Path, done: int = 0) -> list[tuple[int, Any]]:
    with open(path, "rb") as fh:
        found = mapped.open_map(fh, 1)
        assert found is not None
        return [(n, materialized(v)) for n, v, _ in mapped_lines(found, done)]


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def test_one_line_document_is_parsed_with_lazy_strings(tmp_path: Path) -> None:
    doc = {"id": "resp", "output": [{"result": BIG}, {"result": BIG[::-1]}]}
    path = write(tmp_path / "doc.json", json.dumps(doc) + "\n")
    with open(path, "rb") as fh:
        value, notes = one_line_document(fh, 1)
    assert notes == ()
    assert isinstance(value["output"][0]["result"], LazyText)
    assert materialized(value) == doc


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}\n{"b": 2}\n',  # JSON Lines
        '{\n  "a": 1\n}\n',  # pretty-printed
        'data: {"a": 1}\n\n',  # SSE
        "   \n",
    ],
)
def test_anything_else_is_not_one_document(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "input", text)
    with open(path, "rb") as fh:
        assert one_line_document(fh, 1) is NOT_ONE_DOCUMENT
        assert fh.tell() == 0


def test_a_broken_one_line_document_is_its_parse_failure(tmp_path: Path) -> None:
    path = write(tmp_path / "doc.json", '{"a": "' + BIG + '", "b": tru}\n')
    with open(path, "rb") as fh:
        failure = one_line_document(fh, 1)
    assert isinstance(failure, ParseFailure)
    assert (failure.error.line, failure.error.column) == (1, len(BIG) + 16)


def test_odd_values_in_lines_are_replaced_and_noted(tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", '{"n": 1}\n{"id": "\\ud83d", "r": "' + BIG + '"}\n')
    with open(path, "rb") as fh:
        found = mapped.open_map(fh, 1)
        assert found is not None
        (_, first, none), (_, second, notes) = mapped_lines(found, 0)
    assert first == {"n": 1} and none == () and second["id"] == "\ufffd"
    assert [n.pointer for n in notes] == ["/id"]


def test_small_files_are_left_to_the_line_reader(tmp_path: Path) -> None:
    path = write(tmp_path / "doc.json", '{"a": 1}')
    with open(path, "rb") as fh:
        assert one_line_document(fh, 1 << 20) is NOT_ONE_DOCUMENT
        assert mapped.open_map(fh, 1 << 20) is None


def test_lines_with_numbers_crlf_blank_lines_and_a_broken_one(tmp_path: Path) -> None:
    text = '{"n": 1}\r\n\n{"n": 2, "r": "' + BIG + '"}\n{"n": \n   \n{"n": 4}'
    found = lines_of(write(tmp_path / "b.jsonl", text))
    assert [n for n, _ in found] == [1, 3, 4, 6]
    assert found[0][1] == {"n": 1}
    assert found[1][1] == {"n": 2, "r": BIG}
    assert isinstance(found[2][1], ParseFailure)
    assert found[3][1] == {"n": 4}


def test_lines_after_the_ones_already_read(tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", '{"n": 1}\n{"n": 2}\n{"n": 3}\n')
    assert lines_of(path, done=2) == [(3, {"n": 3})]


def test_pages_behind_the_reader_are_released_without_changing_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mapped, "RELEASE_EVERY", 1)  # release after every line
    records = [{"n": n, "result": BIG} for n in range(5)]
    path = write(tmp_path / "b.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    with open(path, "rb") as fh:
        found = mapped.open_map(fh, 1)
        assert found is not None
        raw = [value for _, value, _ in mapped_lines(found, 0)]  # every page released by now
    # Lazy strings read after their pages were released come back from the page cache.
    assert [materialized(value) for value in raw] == records


@pytest.mark.parametrize("advice", [mapped._POPULATE_READ, 9999, None])
def test_documents_and_json_lines_are_told_apart_with_or_without_populating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, advice: int | None
) -> None:
    # 9999 is refused by every kernel, like MADV_POPULATE_READ by kernels before 5.14.
    monkeypatch.setattr(mapped, "_POPULATE_READ", advice)
    monkeypatch.setattr(mapped, "_POPULATE_WINDOW", 64 * 1024)  # several windows
    doc = {"id": "resp", "output": [{"result": BIG}, {"result": BIG[::-1]}]}
    one = write(tmp_path / "doc.json", json.dumps(doc) + "\n")
    lines = write(tmp_path / "batch.jsonl", json.dumps(doc) + "\n" + json.dumps(doc) + "\n")
    with open(one, "rb") as fh:
        assert materialized(one_line_document(fh, 1)[0]) == doc
    with open(lines, "rb") as fh:
        assert one_line_document(fh, 1) is NOT_ONE_DOCUMENT

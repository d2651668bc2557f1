"""parse_json: the same result as json.loads, faster on long base64 strings; odd values kept."""

from __future__ import annotations

import base64
import json
import math
import mmap
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import imgcall.jsonparse as jsonparse
from imgcall.jsonparse import JSONError, parse_json
from imgcall.lazytext import LazyText, materialized
from imgcall.oddities import Replacement


def big(n: int = 300_000, seed: int = 0) -> str:
    """Deterministic base64 text of ``n`` bytes, different for each seed."""
    return base64.b64encode(bytes((i * 7 + seed) % 256 for i in range(n))).decode()


def doc_with(*values: Any) -> bytes:
    return json.dumps(
        {"id": "resp", "output": [{"result": v, "n": i} for i, v in enumerate(values)]}
    ).encode()


@pytest.mark.parametrize(
    "data",
    ids=lambda data: f"{len(data)}-bytes",
    argvalues=[
        doc_with(big(), big(seed=1)),
        doc_with(big(), "short", None, 5),
        json.dumps([big(), {"k": [big(seed=2)]}], indent=2).encode(),
        # A long base64 run inside a longer string with an escape stays with the parser.
        json.dumps({"a": 'x"' + big(), "b": big(seed=3)}).encode(),
        # Long text that is not base64 at all.
        json.dumps({"text": "word " * 100_000, "b": big(seed=4)}).encode(),
        # Non-ASCII after a base64 start: the parser's UTF-8 rules apply.
        json.dumps({"a": big() + "é"}, ensure_ascii=False).encode(),
        # A key that looks like base64 (not a value position).
        json.dumps({big(seed=5): 1}).encode(),
        # A long base64-looking key after a comma, where values also start.
        json.dumps({"a": 1, big(seed=10): 2, "b": big(seed=11)}).encode(),
        # PHP-style escaped slashes inside the base64, and an escaped quote at the end.
        json.dumps({"a": big(seed=7)}).replace("/", "\\/").encode(),
        json.dumps({"a": big(seed=8) + '"', "b": big(seed=9)}).encode(),
        # Text that happens to hold the placeholder marker.
        json.dumps({"a": "\u0000imgcall-string:0", "b": big(seed=6)}).encode(),
        # data: URLs of base64 (chat completions), with parameters, and ones that are not.
        json.dumps({"url": "data:image/png;base64," + big(seed=12)}).encode(),
        json.dumps({"url": "data:image/png;charset=utf-8;base64," + big(seed=13)}).encode(),
        json.dumps({"svg": "data:image/svg+xml," + "%3Csvg%3E" * 40_000}).encode(),
        json.dumps({"url": "data:image/png;base64,\n" + big(seed=14)}).encode(),
        json.dumps({"data:image/png;base64," + big(seed=15): 1}).encode(),
    ],
)
def test_same_result_as_json(data: bytes) -> None:
    expected = json.loads(data)
    assert materialized(parse_json(data)) == expected
    assert materialized(parse_json(bytearray(data))) == expected


def test_long_strings_stay_lazy_until_materialized() -> None:
    text = big()
    value = parse_json(doc_with(text))
    lazy = value["output"][0]["result"]
    assert isinstance(lazy, LazyText)
    assert lazy == text[:64] and lazy.startswith(text[:10])  # prefix checks still work
    copy = materialized(value)
    assert copy["output"][0]["result"] == text
    assert value["output"][0]["result"] is lazy  # the parsed value is left as it was


def test_a_data_url_of_base64_stays_lazy_with_its_header() -> None:
    url = "data:image/webp;base64," + big(seed=3)
    value = parse_json(json.dumps({"images": [{"image_url": {"url": url}}]}).encode())
    lazy = value["images"][0]["image_url"]["url"]
    assert isinstance(lazy, LazyText)
    assert lazy.startswith("data:image/webp;base64,") and lazy.text() == url
    assert bytes(lazy.raw) == url.encode()


def test_memory_map(tmp_path: Path) -> None:
    data = doc_with(big(), big(seed=1))
    path = tmp_path / "doc.json"
    path.write_bytes(data)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert materialized(parse_json(mapped)) == json.loads(data)


def python_error(data: bytes) -> json.JSONDecodeError:
    with pytest.raises(json.JSONDecodeError) as info:
        json.loads(data.decode("utf-8"))
    return info.value


@pytest.mark.parametrize(
    "data",
    [
        doc_with(big(), big(seed=1))[:-1],  # the closing brace cut: an error at the end
        doc_with(big(), big(seed=1)).replace(b', "n": 1', b' "n": 1'),  # after a long string
        doc_with(big(), big(seed=1)).replace(b'"n": 0', b'"n": tru'),  # before one
        json.dumps([big(), {"k": [big(seed=2)]}], indent=2)[:-1].encode() + b"}",
        '{"é": "€", "a": [1 2]}'.encode(),  # columns count characters, not bytes
        b"[1,]",
        b'{"a": "x\x01y"}',
        b"\xef\xbb\xbf{}",
    ],
    ids=["cut", "after-long", "before-long", "pretty", "non-ascii", "comma", "control", "bom"],
)
def test_errors_are_placed_where_python_json_places_them(data: bytes) -> None:
    theirs = python_error(data)
    with pytest.raises(JSONError) as mine:
        parse_json(data)
    assert (mine.value.line, mine.value.column) == (theirs.lineno, theirs.colno)
    assert (
        mine.value.reason
        == theirs.msg.removesuffix(" at").lower()[:1] + theirs.msg.removesuffix(" at")[1:]
    )


def test_a_document_cut_off_after_a_newline_is_placed_on_its_last_line() -> None:
    data = b'{"type": "image_generation_call", "id": "x", \n\n'
    with pytest.raises(JSONError) as info:
        parse_json(data)
    assert (info.value.line, info.value.column) == (1, 46)


def test_a_truncated_long_string_is_reported_where_it_starts() -> None:
    data = b'{"custom_id": "a", "result": "' + big(2_000_000).encode()
    with pytest.raises(JSONError) as info:
        parse_json(data)
    assert info.value.reason == "unterminated string starting"
    assert (info.value.line, info.value.column) == (1, 30)
    assert (python_error(data).lineno, python_error(data).colno) == (1, 30)


def test_a_broken_long_line_is_reported_without_copying_it() -> None:
    long = big(30_000_000).encode()  # 40 MB of base64
    for data in (
        b'{"a": "' + long,  # cut off inside the string
        b'{"a": "' + long + b'" "b": 1}',  # a missing comma after it
    ):
        tracemalloc.start()
        with pytest.raises(JSONError) as info:
            parse_json(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < len(data) // 10, peak
        theirs = python_error(data)
        assert (info.value.line, info.value.column) == (theirs.lineno, theirs.colno)


def test_a_lone_surrogate_escape_becomes_the_replacement_character() -> None:
    notes: list[Replacement] = []
    value = parse_json(
        b'{"id": "x\\ud83dy", "ok": "\\ud83d\\ude00", "k": ["\\udc00"]}', notes=notes
    )
    assert value == {"id": "x\ufffdy", "ok": "\U0001f600", "k": ["\ufffd"]}
    assert sorted(n.pointer for n in notes) == ["/id", "/k/0"]
    assert "U+D83D" in next(n.message for n in notes if n.pointer == "/id")


def test_a_lone_surrogate_escape_in_a_key_is_replaced_in_the_key() -> None:
    notes: list[Replacement] = []
    assert parse_json(b'{"\\ud800": {"n": 1}}', notes=notes) == {"\ufffd": {"n": 1}}
    assert [n.pointer for n in notes] == ["/\ufffd"]


def test_an_integer_too_long_to_convert_becomes_a_marker() -> None:
    notes: list[Replacement] = []
    digits = "7" * 5000
    value = parse_json(
        f'{{"seed": {digits}, "n": [1, -{digits}], "f": 1e999}}'.encode(), notes=notes
    )
    assert value == {
        "seed": "<5000-digit integer>",
        "n": [1, "<5000-digit integer>"],
        "f": math.inf,
    }
    assert sorted(n.pointer for n in notes) == ["/n/1", "/seed"]


def test_an_integer_in_a_document_with_long_strings_is_replaced_too() -> None:
    notes: list[Replacement] = []
    data = json.dumps({"result": big(), "seed": 1}).replace("1}", "9" * 5000 + "}").encode()
    value = parse_json(data, notes=notes)
    assert value["seed"] == "<5000-digit integer>" and isinstance(value["result"], LazyText)
    assert [n.pointer for n in notes] == ["/seed"]


def test_bytes_that_are_not_utf8_are_replaced() -> None:
    notes: list[Replacement] = []
    assert parse_json(b'{"t": "a\xffb", "s": "\xed\xa0\x80"}', notes=notes) == {
        "t": "a\ufffdb",
        "s": "\ufffd",  # a surrogate written out as UTF-8 is one character
    }
    assert len(notes) == 1 and "not UTF-8" in notes[0].message


def test_nesting_too_deep_is_refused_with_a_place() -> None:
    with pytest.raises(JSONError) as info:
        parse_json(b"[" * 100_000 + b"]" * 100_000)
    assert info.value.reason == "nested too deeply to read (100000 levels)"
    assert (info.value.line, info.value.column) == (1, 100_000)


def test_a_lifted_string_with_an_invalid_escape_is_left_for_the_decoder() -> None:
    value = parse_json(json.dumps({"a": big()}).replace('"}', '\\q"}').encode())
    assert materialized(value)["a"].endswith("\\q")


def test_long_texts_parse_the_same_once_pydantic_core_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A JSON Lines file of small images: after a few long lines, pydantic_core (5x the
    # standard library on such lines) parses them; values, replacements and errors stay
    # what the standard library path gives.
    monkeypatch.setattr(jsonparse, "_long_texts", 0)
    line = {"custom_id": "req-1", "body": {"result": "A" * 12_000, "n": [1, 2.5, None, True]}}
    text = json.dumps(line).encode()
    assert len(text) >= jsonparse._NATIVE_TEXT
    for _ in range(jsonparse._NATIVE_AFTER + 5):
        assert parse_json(text) == line
    assert jsonparse._long_texts > jsonparse._NATIVE_AFTER
    surrogate = text.replace(b'"req-1"', b'"\\ud800"')
    notes: list[Replacement] = []
    assert parse_json(surrogate, notes=notes)["custom_id"] == "\ufffd"  # not refused
    assert len(notes) == 1
    pair = text.replace(b'"req-1"', b'"\\ud83d\\ude00 \\uDBFF\\uDFFF"')
    assert parse_json(pair)["custom_id"] == "\U0001f600 \U0010ffff"  # pairs are characters
    lone = {
        b'"\\ud800\\u0041"': "\ufffdA",
        b'"\\udc00"': "\ufffd",
        b'"\\uD800\\uDBFF"': "\ufffd" * 2,
    }
    for escaped, replaced in lone.items():
        notes.clear()
        assert parse_json(text.replace(b'"req-1"', escaped), notes=notes)["custom_id"] == replaced
        assert len(notes) == 1
    huge = text.replace(b"2.5", b"9" * 5000)
    assert parse_json(huge)["body"]["n"][1] != 2.5  # replaced, as without pydantic_core
    monkeypatch.setattr(jsonparse, "_long_texts", 0)
    with pytest.raises(JSONError) as before:
        parse_json(text[:-1])
    monkeypatch.setattr(jsonparse, "_long_texts", jsonparse._NATIVE_AFTER + 1)
    with pytest.raises(JSONError) as after:
        parse_json(text[:-1])
    assert (after.value.reason, after.value.line, after.value.column) == (
        before.value.reason,
        before.value.line,
        before.value.column,
    )


def test_pydantic_core_parser_is_loaded_without_its_package_and_shared_with_it() -> None:
    # Its package's import (~20 ms of type hints) would cost a JSON Lines run of small
    # images more than the parser saves on its first thousand lines; pydantic, imported
    # afterwards to word an invalid item, must find and use the very same module.
    code = f"""
import json, sys
import imgcall.jsonparse as jsonparse
line = json.dumps({{"custom_id": "r", "body": {{"result": "A" * 12_000}}}}).encode()
for _ in range(jsonparse._NATIVE_AFTER + 3):
    assert jsonparse.parse_json(line)["body"]["result"] == "A" * 12_000
native = sys.modules[{jsonparse._NATIVE_MODULE!r}]
assert jsonparse._native is native.from_json
print(sorted(m for m in ("pydantic", "pydantic_core") if m in sys.modules))
import imgcall, pydantic_core
assert pydantic_core.from_json is native.from_json
try:
    imgcall.parse_call({{"type": "image_generation_call", "id": 5, "status": "completed"}})
except imgcall.InvalidItemError as exc:
    print(exc)
"""
    env = dict(os.environ, PYTHONPATH=str(Path(jsonparse.__file__).parents[1]))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    modules, error = done.stdout.splitlines()
    assert modules == "[]"
    assert error == "field 'id': Input should be a valid string"

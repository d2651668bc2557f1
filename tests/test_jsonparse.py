"""parse_json: same result as pydantic_core.from_json, faster on long base64 strings."""

from __future__ import annotations

import base64
import json
import math
import mmap
from pathlib import Path
from typing import Any

import pydantic_core
import pytest

import imgcall.jsonparse as jsonparse
from imgcall.jsonparse import LazyText, materialized, parse_json


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
def test_same_result_as_pydantic_core(data: bytes) -> None:
    expected = pydantic_core.from_json(data)
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


def test_errors_keep_positions_in_the_real_text() -> None:
    data = doc_with(big(), big(seed=1))[:-1]  # cut the closing brace
    with pytest.raises(ValueError) as mine:
        parse_json(data)
    with pytest.raises(ValueError) as theirs:
        pydantic_core.from_json(data)
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1, "a": 2, "n": -0, "e": 1.5E+2, "big": 123456789012345678901234567890}',
        b'[Infinity, -Infinity, 1e999, "\\u0000", "\\ud83d\\ude00", "\\u00e9"]',
        '{"t": "caf\u00e9 \u2603", "k": [], "o": {}}'.encode(),
        b"  [true, false, null]  ",
    ],
)
def test_small_documents_read_as_pydantic_core_reads_them(data: bytes) -> None:
    assert parse_json(data) == pydantic_core.from_json(data)


def test_nan_reads_as_pydantic_core_reads_it() -> None:
    (mine,), (theirs,) = parse_json(b"[NaN]"), pydantic_core.from_json(b"[NaN]")
    assert math.isnan(mine) and math.isnan(theirs)


@pytest.mark.parametrize(
    "data",
    [
        b'"\\ud800"',  # a lone surrogate: the standard library would accept it
        b'{"id": "\\udc00\\ud800"}',
        b"[" * 100_000 + b"]" * 100_000,  # deeper than either parser goes
        b'"\xed\xa0\x80"',  # an encoded surrogate is not UTF-8
        b"\xef\xbb\xbf{}",
        b"[1,]",
        b'{"a": "x\x01y"}',
    ],
    ids=["lone-surrogate", "swapped-pair", "deep", "utf8-surrogate", "bom", "comma", "control"],
)
def test_what_pydantic_core_refuses_is_refused_with_its_message(data: bytes) -> None:
    with pytest.raises(ValueError) as mine:
        parse_json(data)
    with pytest.raises(ValueError) as theirs:
        pydantic_core.from_json(data)
    assert str(mine.value) == str(theirs.value)


def test_long_texts_parse_the_same_once_pydantic_core_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A JSON Lines file of small images: after a few long lines, pydantic_core (5x the
    # standard library on such lines) parses them; values and errors stay the same.
    monkeypatch.setattr(jsonparse, "_long_texts", 0)
    line = {"custom_id": "req-1", "body": {"result": "A" * 12_000, "n": [1, 2.5, None, True]}}
    text = json.dumps(line).encode()
    assert len(text) >= jsonparse._NATIVE_TEXT
    for _ in range(jsonparse._NATIVE_AFTER + 5):
        assert parse_json(text) == line
    assert jsonparse._long_texts > jsonparse._NATIVE_AFTER
    surrogate = text.replace(b'"req-1"', b'"\\ud800"')
    with pytest.raises(ValueError) as refused:  # pydantic_core's rule, as before
        parse_json(surrogate)
    with pytest.raises(ValueError) as reference:
        pydantic_core.from_json(surrogate)
    assert str(refused.value) == str(reference.value)
    with pytest.raises(ValueError, match="line 1 column"):
        parse_json(text[:-1])

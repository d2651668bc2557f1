"""decode_base64: strict base64 and data: URLs, with the offset of the first bad character."""

from __future__ import annotations

import base64
import json

import pytest

from imgcall import EmptyResultError, ImageTooLargeError, InvalidBase64Error, UnsupportedResultError
from imgcall.base64text import base64_view, decode_base64
from imgcall.lazytext import LazyText


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("text", "offset"),
    [("iVBO!Rw0K", 4), ("iVBORw0K\x00GgoA", 8), ("iVBORw0KGgo=AAAA", 11), ("iVBORé0K", 5)],
)
def test_any_other_character_is_reported_not_dropped(text: str, offset: int) -> None:
    with pytest.raises(InvalidBase64Error) as info:
        decode_base64(text)
    assert info.value.offset == offset


def test_offset_counts_from_the_start_of_a_data_url() -> None:
    prefix = "data:image/png;base64,"
    with pytest.raises(InvalidBase64Error) as info:
        decode_base64(prefix + "iVBO#Rw0K")
    assert info.value.offset == len(prefix) + 4


def test_impossible_length_is_an_error() -> None:
    with pytest.raises(InvalidBase64Error, match="cannot encode whole bytes"):
        decode_base64("iVBORw0KG")


def test_data_url_mime_is_returned_and_params_are_allowed() -> None:
    data, mime = decode_base64("data:image/jpeg;charset=binary;base64," + b64(b"\xff\xd8\xff\xe0"))
    assert (data, mime) == (b"\xff\xd8\xff\xe0", "image/jpeg")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AAEC", b"\x00\x01\x02"),
        (" AA\nEC ", b"\x00\x01\x02"),
        ("AAE", b"\x00\x01"),
        ("AAE=", b"\x00\x01"),
        ("-_-_", b"\xfb\xff\xbf"),
        ("data:;base64,AAEC", b"\x00\x01\x02"),
    ],
)
def test_tolerated_variants(text: str, expected: bytes) -> None:
    assert decode_base64(text) == (expected, None)


def test_url_is_refused_and_empty_text_is_empty() -> None:
    with pytest.raises(UnsupportedResultError, match="never fetches"):
        decode_base64("https://example.com/a.png")
    with pytest.raises(EmptyResultError):
        decode_base64("  \n")


def test_max_bytes_is_checked_from_the_length_before_decoding() -> None:
    with pytest.raises(ImageTooLargeError, match="would decode to about"):
        decode_base64("A" * 4000, max_bytes=100)


def lazy(text: str, *, literal: str | None = None) -> LazyText:
    """A long JSON string still in its buffer, as the JSON parser leaves it.

    ``literal`` is the string as written in the JSON text (escapes and all), when it is
    not simply ``text`` encoded by ``json.dumps``.
    """
    body = json.dumps(text)[1:-1] if literal is None else literal
    return LazyText(memoryview(body.encode("ascii")))


def test_text_still_in_the_buffer_decodes_the_same() -> None:
    data = bytes(range(256)) * 200
    assert decode_base64(lazy(b64(data))) == (data, None)


def test_escaped_slashes_in_the_buffer_are_read_by_json_rules() -> None:
    text = b64(bytes(range(256)) * 200)
    assert "/" in text
    value = lazy(text, literal=text.replace("/", "\\/"))  # as PHP writes JSON
    assert decode_base64(value) == (bytes(range(256)) * 200, None)


@pytest.mark.parametrize(
    "text",
    [
        # Line breaks every 76 characters, missing padding, the URL-safe alphabet:
        # the careful path reads each as the plain text would be.
        "\n".join(b64(bytes(range(256)) * 200)[i : i + 76] for i in range(0, 68268, 76)),
        b64(bytes(range(255)) * 201 + b"x").rstrip("="),
        base64.urlsafe_b64encode(bytes(range(256)) * 200).decode(),
    ],
    ids=["line-breaks", "no-padding", "url-safe"],
)
def test_text_in_the_buffer_with_variants_takes_the_careful_path(text: str) -> None:
    value = lazy(text)
    assert decode_base64(value) == decode_base64(value.text())


def test_a_bad_character_in_the_buffer_is_named_at_its_offset() -> None:
    text = b64(bytes(range(256)) * 200)
    value = lazy(text[:30_000] + "!" + text[30_001:])
    with pytest.raises(InvalidBase64Error) as info:
        decode_base64(value)
    assert info.value.offset == 30_000


def test_text_in_the_buffer_is_size_checked_before_decoding() -> None:
    with pytest.raises(ImageTooLargeError, match="about"):
        decode_base64(lazy(b64(bytes(100_000))), max_bytes=10_000)


DATA = bytes(range(256)) * 200


@pytest.mark.parametrize(
    ("header", "mime"),
    [
        ("data:image/png;base64,", "image/png"),
        ("data:image/jpeg;charset=utf-8;base64,", "image/jpeg"),
        ("data:;base64,", None),
    ],
)
def test_a_data_url_in_the_buffer_is_decoded_from_the_buffer(header: str, mime: str | None) -> None:
    value = lazy(header + b64(DATA))
    view, declared = base64_view(value)
    assert bytes(view) == b64(DATA).encode() and declared == mime
    assert decode_base64(value) == (DATA, mime) == decode_base64(value.text())


@pytest.mark.parametrize(
    "text",
    [
        "data:image/png;base64," + base64.urlsafe_b64encode(DATA).decode(),
        "data:image/png;base64," + b64(bytes(range(255)) * 201 + b"x").rstrip("="),
        "data:image/png;base64," + b64(DATA)[:30_000] + "!" + b64(DATA)[30_001:],
        "data:image/png;base64,\n" + b64(DATA),
    ],
    ids=["url-safe", "no-padding", "bad-character", "line-break"],
)
def test_a_data_url_in_the_buffer_with_variants_reads_as_the_text_does(text: str) -> None:
    def outcome(value: str) -> object:
        try:
            return decode_base64(value)
        except InvalidBase64Error as exc:
            return (str(exc), exc.offset)

    assert outcome(lazy(text)) == outcome(text)


def test_a_data_url_in_the_buffer_is_size_checked_on_its_data() -> None:
    with pytest.raises(ImageTooLargeError, match="about"):
        decode_base64(lazy("data:image/png;base64," + b64(bytes(100_000))), max_bytes=10_000)

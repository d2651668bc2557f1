"""Magic-byte sniffing and header reading, without Pillow."""

from __future__ import annotations

import mmap
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from imgcall import formats
from imgcall.formats import HeaderError, declared_format, fast_check, read_header, sniff


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("tiny.png", "PNG"),
        ("tiny.jpg", "JPEG"),
        ("tiny.webp", "WEBP"),
        ("tiny.gif", "GIF"),
        ("tiny.svg", "SVG"),
    ],
)
def test_sniff_fixtures(image_bytes: Callable[[str], bytes], name: str, fmt: str) -> None:
    data = image_bytes(name)
    assert sniff(data) == fmt
    assert fast_check(data, fmt) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PN",
        b"RIFF\x00\x00\x00\x00WAVE",
        b"GIF90a",
        b"<html></html>",
        b"<?xml version='1.0'?><note/>",
    ],
)
def test_sniff_rejects_lookalikes(data: bytes) -> None:
    assert sniff(data) is None


def test_svg_with_bom_doctype_and_comment() -> None:
    assert sniff(b"\xef\xbb\xbf<!-- c -->\n<svg xmlns='http://www.w3.org/2000/svg'></svg>") == "SVG"
    assert sniff(b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"><svg></svg>') == "SVG"


@pytest.mark.parametrize(
    ("value", "fmt"),
    [
        ("png", "PNG"),
        ("JPEG", "JPEG"),
        ("jpg", "JPEG"),
        ("image/webp", "WEBP"),
        ("image/svg+xml", "SVG"),
        ("image/png; charset=binary", "PNG"),
        ("tiff", None),
        (None, None),
        (3, None),
    ],
)
def test_declared_format(value: object, fmt: str | None) -> None:
    assert declared_format(value) == fmt


@pytest.mark.parametrize(
    ("fmt", "data", "message"),
    [
        ("PNG", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "IHDR"),
        ("PNG", b"\x89PNG\r\n\x1a\n", "cut short"),
        ("JPEG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "no frame header"),
        ("JPEG", b"\xff\xd8\xff\xe0\x00\x01", "bad length"),
        ("GIF", b"GIF89a\x01", "cut short"),
        ("WEBP", b"RIFF\x10\x00\x00\x00WEBPVP8Z" + b"\x00" * 20, "unknown first chunk"),
        ("WEBP", b"RIFF\x10\x00\x00\x00WEBP", "cut short"),
    ],
)
def test_read_header_errors(fmt: str, data: bytes, message: str) -> None:
    with pytest.raises(HeaderError, match=message):
        read_header(data, fmt)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("tiny.png", "PNG"), ("tiny.jpg", "JPEG"), ("tiny.webp", "WEBP"), ("tiny.gif", "GIF")],
)
def test_a_memory_map_reads_like_bytes(
    tmp_path: Path, image_bytes: Callable[[str], bytes], name: str, fmt: str
) -> None:
    # A saving run checks images decoded into a file through a map (imgcall.staging).
    data = image_bytes(name)
    damaged = data[: len(data) // 2]
    for content in (data, damaged, data + b"\x00" * 70000):
        path = tmp_path / name
        path.write_bytes(content)
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            as_map = cast(bytes, mapped)
            assert sniff(as_map) == sniff(content) == fmt
            assert fast_check(as_map, fmt) == fast_check(content, fmt)
            if content is data:
                assert read_header(as_map, fmt) == read_header(content, fmt)


def test_gif_trailer_is_found_behind_long_padding() -> None:
    gif = Path(__file__).resolve().parent.parent / "fixtures" / "images" / "tiny.gif"
    data = gif.read_bytes()
    assert fast_check(data + b"\x00" * 200_000, "GIF") is None
    assert fast_check(data[:-1] + b"\x00" * 200_000, "GIF") is not None
    assert fast_check(b"\x00" * 70000, "GIF") is not None


def test_png_crcs_are_the_standard_crc32() -> None:
    # Which library computes it (zlib, then zlib-ng) is tests/test_accel.py's business.
    data = bytes(range(256)) * 4099
    assert formats.crc32(data) == zlib.crc32(data)
    assert formats.crc32(memoryview(data)[7:-5]) == zlib.crc32(data[7:-5])


# --- C2PA presence, from the container alone -------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_really_signed_images_carry_c2pa(fmt: str) -> None:
    from tests.c2pa_helpers import picture, sign

    plain = picture(fmt)
    signed = sign(plain, fmt)
    assert formats.has_c2pa(signed, fmt) is True
    assert formats.has_c2pa(plain, fmt) is False
    # Signing keeps the image well-formed: the fast checks still pass.
    assert sniff(signed) == fmt and fast_check(signed, fmt) is None


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_container_framing_alone_is_enough(fmt: str) -> None:
    from tests.c2pa_helpers import picture, with_container_box

    assert formats.has_c2pa(with_container_box(picture(fmt), fmt), fmt) is True


def test_a_jumbf_segment_of_another_kind_is_not_c2pa() -> None:
    from tests.c2pa_helpers import picture, with_container_box

    data = with_container_box(picture("JPEG"), "JPEG", label=b"xmpx")
    assert formats.has_c2pa(data, "JPEG") is False


def test_a_remote_manifest_reference_is_not_an_embedded_manifest() -> None:
    from tests.c2pa_helpers import picture, sign

    data = sign(picture("PNG"), "PNG", remote_url="http://127.0.0.1:9/manifest.c2pa")
    assert formats.has_c2pa(data, "PNG") is False


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"", "PNG"),
        (b"\x89PNG\r\n\x1a\n\xff\xff\xff\xff", "PNG"),
        (b"\xff\xd8\xff\xeb\x00", "JPEG"),
        (b"\xff\xd8\xff\xeb\x00\x01JP", "JPEG"),
        (b"RIFF\x00\x00\x00\x00WEBPC2P", "WEBP"),
        (b"GIF89a", "GIF"),
        (b"<svg/>", "SVG"),
    ],
)
def test_damaged_or_other_containers_are_simply_false(data: bytes, fmt: str) -> None:
    assert formats.has_c2pa(data, fmt) is False


def test_c2pa_after_the_image_data_is_found_in_png() -> None:
    from tests.c2pa_helpers import _png_chunk, picture

    data = picture("PNG")
    late = data[:-12] + _png_chunk(b"caBX", b"\x00" * 8) + data[-12:]
    assert fast_check(late, "PNG") is None and formats.has_c2pa(late, "PNG") is True


def _pngs_with_and_without_c2pa() -> list[bytes]:
    from tests.c2pa_helpers import _png_chunk, picture, sign, with_container_box

    plain = picture("PNG")
    return [
        plain,
        sign(plain, "PNG"),
        with_container_box(plain, "PNG"),
        plain[:-12] + _png_chunk(b"caBX", b"\x00" * 8) + plain[-12:],
        sign(plain, "PNG", remote_url="http://127.0.0.1:9/manifest.c2pa"),
    ]


def test_one_walk_checks_a_png_and_finds_its_c2pa_chunk_as_has_c2pa_does() -> None:
    for data in _pngs_with_and_without_c2pa():
        assert formats.png_check(data) == (None, formats.has_c2pa(data, "PNG"))
    assert [formats.has_c2pa(d, "PNG") for d in _pngs_with_and_without_c2pa()] == [
        False,
        True,
        True,
        True,
        False,
    ]
    cut = _pngs_with_and_without_c2pa()[1][:-30]
    assert formats.png_check(cut)[0] == fast_check(cut, "PNG") is not None


@pytest.mark.parametrize("check", ["none", "fast", "full"])
def test_a_decoded_png_knows_its_c2pa_whichever_check_ran(check: str) -> None:
    import base64

    import imgcall

    for data in _pngs_with_and_without_c2pa():
        item = {"type": "image_generation_call", "id": "ig", "status": "completed"}
        image = imgcall.decode(item | {"result": base64.b64encode(data).decode()}, check=check)  # type: ignore[arg-type]
        assert image.c2pa is formats.has_c2pa(data, "PNG")

"""embed_metadata: prompt and ids written into PNG, JPEG and WebP files without re-encoding."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imgcall.embedding import XMP_NAMESPACE, embed_metadata
from imgcall.formats import fast_check, read_header, sniff
from tests.c2pa_helpers import picture, sign

FIELDS = {"id": "ig_1", "custom_id": "req-<1>", "prompt": 'a café & a "quote"\x00 at night'}


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes()


def test_png_gets_itxt_chunks_and_keeps_its_pixels() -> None:
    data = picture("PNG")
    out, refused = embed_metadata(data, "PNG", FIELDS)
    assert refused is None and fast_check(out, "PNG") is None
    with Image.open(io.BytesIO(out)) as image:
        text = image.text  # type: ignore[attr-defined]
    assert text["Description"] == 'a café & a "quote" at night'  # NUL dropped
    assert text["imgcall:id"] == "ig_1" and text["imgcall:custom_id"] == "req-<1>"
    assert pixels(out) == pixels(data)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_jpeg_and_webp_get_an_xmp_packet(fmt: str) -> None:
    data = picture(fmt)
    out, refused = embed_metadata(data, fmt, FIELDS)
    assert refused is None and sniff(out) == fmt and fast_check(out, fmt) is None
    assert read_header(out, fmt) == read_header(data, fmt)
    with Image.open(io.BytesIO(out)) as image:
        xmp = image.info["xmp"]
        image.load()
    xmp = xmp if isinstance(xmp, bytes) else xmp.encode()
    assert XMP_NAMESPACE.encode() in xmp
    assert b"<imgcall:custom_id>req-&lt;1&gt;</imgcall:custom_id>" in xmp
    assert 'a café &amp; a "quote" at night'.encode() in xmp
    assert pixels(out) == pixels(data)
    again, refused = embed_metadata(out, fmt, FIELDS)
    name = "JPEG" if fmt == "JPEG" else "WebP"
    assert again == out and refused == f"metadata not embedded: the {name} already has XMP metadata"


def test_lossless_webp_with_alpha_keeps_its_alpha() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (10, 7), (10, 20, 30, 100)).save(buffer, format="WEBP", lossless=True)
    data = buffer.getvalue()
    out, refused = embed_metadata(data, "WEBP", FIELDS)
    assert refused is None
    with Image.open(io.BytesIO(out)) as image:
        assert image.mode == "RGBA" and image.size == (10, 7)
    assert pixels(out) == pixels(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_signed_files_are_never_touched(fmt: str) -> None:
    signed = sign(picture(fmt), fmt)
    out, refused = embed_metadata(signed, fmt, FIELDS)
    assert out is signed and refused is not None and "C2PA" in refused


def test_formats_without_a_place_for_it_are_refused(image_bytes: object) -> None:
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, format="GIF")
    gif = buffer.getvalue()
    assert embed_metadata(gif, "GIF", FIELDS) == (
        gif,
        "metadata not embedded: GIF files have no standard place for it",
    )


def test_a_prompt_too_long_for_a_jpeg_segment_is_refused() -> None:
    data = picture("JPEG")
    out, refused = embed_metadata(data, "JPEG", {"id": "x", "prompt": "é" * 40_000})
    assert out == data and refused is not None and "too long" in refused


def test_a_broken_container_is_a_refusal_not_an_exception() -> None:
    broken = b"RIFF\x10\x00\x00\x00WEBPXXXX"
    out, refused = embed_metadata(broken, "WEBP", FIELDS)
    assert out == broken and refused is not None and "could not be followed" in refused

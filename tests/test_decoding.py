"""decode(): the status table, strict base64, formats, limits and integrity checks."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import struct
import warnings
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

import imgcall
from imgcall import (
    CorruptImageError,
    EmptyResultError,
    ImageGenerationFailedError,
    ImageNotReadyError,
    ImageTooLargeError,
    ImgcallError,
    ImgcallWarning,
    InvalidBase64Error,
    InvalidItemError,
    Limits,
    UnsupportedImageError,
    UnsupportedResultError,
    decode,
)

from .animations import (
    animated_webp,
    apng,
    gif,
    gif_bomb,
    pillow_animation,
    still_webp_with_canvas,
    webp_bitstream,
)
from .conftest import ITEMS_DIR

LoadItem = Callable[[str], dict[str, Any]]


def item(
    result: str | None, status: str = "completed", id: str = "ig_t", **extra: Any
) -> dict[str, Any]:
    return {"type": "image_generation_call", "id": id, "status": status, "result": result, **extra}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def png_bytes(size: tuple[int, int] = (32, 24), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, (10, 200, 30) if mode == "RGB" else None)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- the status table -----------------------------------------------------------------


def test_completed_with_result_decodes(
    load_item: LoadItem, image_bytes: Callable[[str], bytes]
) -> None:
    image = decode(load_item("status_completed"))
    assert image.data == image_bytes("tiny.png")
    assert (image.id, image.status, image.format, image.warnings) == (
        "ig_completed",
        "completed",
        "PNG",
        (),
    )


@pytest.mark.parametrize("name", ["null_result", "empty_result"])
def test_completed_without_result_is_empty_result(load_item: LoadItem, name: str) -> None:
    with pytest.raises(EmptyResultError) as info:
        decode(load_item(name))
    assert info.value.id == load_item(name)["id"]
    assert load_item(name)["id"] in str(info.value)


def test_whitespace_only_result_counts_as_empty() -> None:
    with pytest.raises(EmptyResultError):
        decode(item("  \n "))


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("status_generating", "generating"),
        ("status_in_progress", "in_progress"),
        ("status_unknown", "queued"),
    ],
)
def test_pending_or_unknown_status_with_result_decodes_with_a_warning(
    load_item: LoadItem, name: str, status: str
) -> None:
    with pytest.warns(ImgcallWarning, match=f"status is '{status}' but a result is present"):
        image = decode(load_item(name))
    assert image.status == status
    assert image.format == "PNG"
    assert len(image.warnings) == 1 and status in image.warnings[0]


@pytest.mark.parametrize("name", ["status_generating", "status_in_progress", "status_unknown"])
def test_strict_status_refuses_pending_with_result(load_item: LoadItem, name: str) -> None:
    with pytest.raises(ImageNotReadyError, match="strict_status"):
        decode(load_item(name), strict_status=True)


@pytest.mark.parametrize("name", ["pending_no_result", "generating_null_result"])
def test_pending_without_result_is_not_ready(load_item: LoadItem, name: str) -> None:
    with pytest.raises(ImageNotReadyError) as info:
        decode(load_item(name))
    assert info.value.id == load_item(name)["id"]


def test_unknown_status_without_result_is_not_ready() -> None:
    with pytest.raises(ImageNotReadyError, match="'queued'"):
        decode(item(None, "queued"))


@pytest.mark.parametrize("name", ["status_failed", "status_failed_with_result"])
def test_failed_is_always_a_failure(load_item: LoadItem, name: str) -> None:
    with pytest.raises(ImageGenerationFailedError, match="reported status 'failed'") as info:
        decode(load_item(name))
    assert info.value.id == load_item(name)["id"]


def test_failed_item_includes_the_api_error_message_and_code() -> None:
    with pytest.raises(ImageGenerationFailedError, match="rejected by the safety system") as info:
        decode(
            item(
                None,
                "failed",
                error={"code": "moderation_blocked", "message": "rejected by the safety system"},
            )
        )
    assert info.value.code == "moderation_blocked"
    assert "(moderation_blocked)" in str(info.value)


def test_decode_accepts_everything_parse_call_accepts(load_item: LoadItem) -> None:
    raw = load_item("png")
    assert decode(json.dumps(raw)).id == decode(raw).id == decode(imgcall.parse_call(raw)).id


def test_invalid_items_raise_invalid_item_error(load_item: LoadItem) -> None:
    with pytest.raises(InvalidItemError):
        decode(load_item("wrong_type"))
    with pytest.raises(InvalidItemError):
        decode(load_item("missing_id"))


# --- base64 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["data_url", "wrapped_base64", "unpadded_base64", "urlsafe_base64", "png"]
)
def test_tolerated_base64_variants_give_the_exact_bytes(
    load_item: LoadItem, image_bytes: Callable[[str], bytes], name: str
) -> None:
    assert decode(load_item(name)).data == image_bytes("tiny.png")


def test_urlsafe_fixture_really_uses_the_urlsafe_alphabet(load_item: LoadItem) -> None:
    result = load_item("urlsafe_base64")["result"]
    assert "-" in result or "_" in result
    assert "+" not in result and "/" not in result


def test_bad_character_names_item_and_offset(load_item: LoadItem) -> None:
    with pytest.raises(InvalidBase64Error) as info:
        decode(load_item("bad_base64"))
    assert info.value.offset == 40
    assert "'*'" in str(info.value) and "offset 40" in str(info.value)
    assert info.value.id == "ig_bad_b64"


def test_percent_encoded_svg_data_url(image_bytes: Callable[[str], bytes]) -> None:
    from urllib.parse import quote

    svg = image_bytes("tiny.svg")
    image = decode(item("data:image/svg+xml," + quote(svg)))
    assert image.format == "SVG" and image.data == svg


@pytest.mark.parametrize("url", ["https://example.com/a.png", "http://x/y", "  HTTPS://EX/Z"])
def test_url_result_is_unsupported_and_never_fetched(url: str) -> None:
    with pytest.raises(UnsupportedResultError, match="never fetches"):
        decode(item(url))


def test_url_fixture(load_item: LoadItem) -> None:
    with pytest.raises(UnsupportedResultError) as info:
        decode(load_item("url_result"))
    assert info.value.id == "ig_url"


def test_empty_data_url_is_an_empty_result() -> None:
    with pytest.raises(EmptyResultError):
        decode(item("data:image/png;base64,"))


def test_binascii_errors_never_escape() -> None:
    for text in ["====", "A", "AB=C", "data:image/png;base64", "\u2603" * 9]:
        with pytest.raises(ImgcallError):
            decode(item(text))


# --- formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "mime", "ext", "size"),
    [
        ("tiny.png", "PNG", "image/png", "png", (16, 12)),
        ("tiny.jpg", "JPEG", "image/jpeg", "jpg", (16, 12)),
        ("tiny.webp", "WEBP", "image/webp", "webp", (16, 12)),
        ("tiny-lossless.webp", "WEBP", "image/webp", "webp", (16, 12)),
        ("tiny.gif", "GIF", "image/gif", "gif", (10, 8)),
        ("tiny.svg", "SVG", "image/svg+xml", "svg", None),
    ],
)
@pytest.mark.parametrize("check", ["none", "fast", "full"])
def test_every_format_from_its_bytes(
    image_bytes: Callable[[str], bytes],
    name: str,
    fmt: str,
    mime: str,
    ext: str,
    size: tuple[int, int] | None,
    check: Any,
) -> None:
    data = image_bytes(name)
    image = decode(item(b64(data)), check=check)
    assert (image.format, image.mime, image.extension, image.size) == (fmt, mime, ext, size)
    assert image.data == data
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    if fmt != "SVG":
        with Image.open(io.BytesIO(data)) as reference:
            assert image.size == reference.size


def test_webp_extended_header_gives_canvas_size() -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 7), (1, 2, 3, 4)).save(
        buffer, format="WEBP", exif=b"Exif\x00\x00MM\x00*"
    )
    image = decode(item(b64(buffer.getvalue())))
    assert (image.width, image.height) == (300, 7)


def test_declared_format_mismatch_warns_and_bytes_win(load_item: LoadItem) -> None:
    with pytest.warns(ImgcallWarning, match="declared PNG but the bytes are JPEG"):
        image = decode(load_item("jpeg_says_png"))
    assert image.format == "JPEG" and image.extension == "jpg"
    assert any("declared PNG" in w for w in image.warnings)


def test_data_url_mime_mismatch_warns(image_bytes: Callable[[str], bytes]) -> None:
    with pytest.warns(ImgcallWarning, match="declared JPEG but the bytes are PNG"):
        decode(item("data:image/jpeg;base64," + b64(image_bytes("tiny.png"))))


def test_media_type_is_a_declared_format_too(image_bytes: Callable[[str], bytes]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decode(item(b64(image_bytes("tiny.webp")), media_type="image/webp"))
    with pytest.warns(ImgcallWarning, match="declared GIF"):
        decode(item(b64(image_bytes("tiny.webp")), media_type="image/gif"))


def test_non_image_bytes_are_unsupported(load_item: LoadItem) -> None:
    with pytest.raises(UnsupportedImageError, match="not a PNG, JPEG, WebP, GIF or SVG") as info:
        decode(load_item("not_an_image"))
    assert "%PDF" in str(info.value)


@pytest.mark.parametrize(
    "data", [b"BM" + b"\x00" * 60, b"II*\x00" + b"\x00" * 40, b"<html><body>hi</body></html>"]
)
def test_other_formats_are_unsupported(data: bytes) -> None:
    with pytest.raises(UnsupportedImageError):
        decode(item(b64(data)))


# --- limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("check", ["none", "fast", "full"])
def test_bomb_is_refused_from_the_header(load_item: LoadItem, check: Any) -> None:
    with pytest.raises(ImageTooLargeError, match="100000x100000 = 10,000,000,000 pixels") as info:
        decode(load_item("bomb_png"), check=check)
    assert info.value.id == "ig_bomb"


def test_default_path_never_imports_pillow() -> None:
    """Header checks are done without Pillow; a bomb never reaches a pixel decoder."""
    import subprocess
    import sys

    code = (
        "import sys, imgcall, pathlib\n"
        f"items = pathlib.Path({str(ITEMS_DIR)!r})\n"
        "imgcall.decode(items.joinpath('png.json').read_text())\n"
        "try:\n"
        "    imgcall.decode(items.joinpath('bomb_png.json').read_text())\n"
        "except imgcall.ImageTooLargeError:\n"
        "    pass\n"
        "print('PIL' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_max_pixels_is_per_call_and_pillow_global_is_untouched(
    image_bytes: Callable[[str], bytes],
) -> None:
    before = Image.MAX_IMAGE_PIXELS
    data = image_bytes("tiny.png")  # 16x12 = 192 pixels
    with pytest.raises(ImageTooLargeError, match="over the limit of 191"):
        decode(item(b64(data)), limits=Limits(max_pixels=191))
    assert decode(item(b64(data)), limits=Limits(max_pixels=192)).size == (16, 12)
    assert decode(item(b64(data)), limits=Limits(max_pixels=192), check="full").size == (16, 12)
    assert before == Image.MAX_IMAGE_PIXELS


def test_raised_limit_allows_an_image_above_pillows_warning_threshold() -> None:
    """A caller who raises max_pixels on purpose gets no DecompressionBombWarning."""
    before = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = 100  # simulate a small global threshold set by the app
        data = png_bytes((20, 10))  # 200 pixels > 100, but < 2x so Pillow would only warn
        image = decode(item(b64(data)), limits=Limits(max_pixels=1000), check="full")
        assert image.to_pil().size == (20, 10)
    finally:
        Image.MAX_IMAGE_PIXELS = before


def test_max_bytes_is_checked_before_decoding(image_bytes: Callable[[str], bytes]) -> None:
    data = image_bytes("tiny.png")
    with pytest.raises(ImageTooLargeError, match="would decode to about"):
        decode(item(b64(data)), limits=Limits(max_bytes=100))
    huge = "A" * 40_000_000  # 30 MB once decoded: refused without allocating it
    with pytest.raises(ImageTooLargeError, match="would decode to about 30,000,000 bytes"):
        decode(item(huge), limits=Limits(max_bytes=1_000_000))
    assert decode(item(b64(data)), limits=Limits(max_bytes=len(data))).data == data


def test_max_bytes_exact_check_after_decoding(image_bytes: Callable[[str], bytes]) -> None:
    data = image_bytes("tiny.png")
    with pytest.raises(ImageTooLargeError, match=f"is {len(data):,} bytes, over the limit"):
        decode(item(b64(data)), limits=Limits(max_bytes=len(data) - 1))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_limits_must_be_positive_integers(bad: Any) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        Limits(max_pixels=bad)


def test_default_limits() -> None:
    assert Limits() == Limits(max_bytes=64 * 1024 * 1024, max_pixels=64_000_000)
    assert (Limits().max_total_pixels, Limits().max_frames) == (64_000_000, 5_000)


@pytest.mark.parametrize("name", ["max_total_pixels", "max_frames"])
@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_animation_limits_must_be_positive_integers(name: str, bad: Any) -> None:
    with pytest.raises(ValueError, match=f"Limits.{name} must be a positive integer"):
        Limits(**{name: bad})


# --- integrity checks -----------------------------------------------------------------


def test_truncated_png_is_corrupt_with_fast_and_full(load_item: LoadItem) -> None:
    for check in ("fast", "full"):
        with pytest.raises(CorruptImageError, match="cut short") as info:
            decode(load_item("truncated_png"), check=check)  # type: ignore[arg-type]
        assert info.value.id == "ig_truncated"


def test_check_none_lets_a_truncated_png_through(load_item: LoadItem) -> None:
    assert decode(load_item("truncated_png"), check="none").format == "PNG"


def test_png_crc_error_is_found_by_the_fast_check() -> None:
    data = bytearray(png_bytes())
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip a byte inside the compressed pixels
    with pytest.raises(CorruptImageError, match=r"IDAT .* fails its CRC check"):
        decode(item(b64(bytes(data))))


def test_png_damaged_pixels_with_valid_crc_need_the_full_check() -> None:
    raw = png_bytes((64, 64))
    ihdr_end = 8 + 8 + 13 + 4
    idat = zlib.compress(b"\x00" * 10)  # far too little pixel data for 64x64
    body = b"IDAT" + idat
    broken = (
        raw[:ihdr_end]
        + struct.pack(">I", len(idat))
        + body
        + struct.pack(">I", zlib.crc32(body))
        + raw[-12:]
    )
    assert decode(item(b64(broken)), check="fast").size == (64, 64)
    with pytest.raises(CorruptImageError, match="cannot be decoded"):
        decode(item(b64(broken)), check="full")


def test_png_header_cut_short_is_corrupt_even_without_checks() -> None:
    with pytest.raises(CorruptImageError, match="header is damaged"):
        decode(item(b64(png_bytes()[:20])), check="none")


def test_truncated_jpeg_lacks_its_end_marker(image_bytes: Callable[[str], bytes]) -> None:
    data = image_bytes("tiny.jpg")
    with pytest.raises(CorruptImageError, match="end-of-image marker"):
        decode(item(b64(data[:-30])))


def test_truncated_webp_fails_its_riff_length(image_bytes: Callable[[str], bytes]) -> None:
    data = image_bytes("tiny.webp")
    with pytest.raises(CorruptImageError, match="RIFF header says"):
        decode(item(b64(data[:-10])))


def test_truncated_gif_lacks_its_trailer(image_bytes: Callable[[str], bytes]) -> None:
    data = image_bytes("tiny.gif")
    with pytest.raises(CorruptImageError, match="trailer"):
        decode(item(b64(data[:-1])))


def test_truncated_svg_lacks_its_closing_tag(image_bytes: Callable[[str], bytes]) -> None:
    data = image_bytes("tiny.svg")
    with pytest.raises(CorruptImageError, match="</svg>"):
        decode(item(b64(data[: data.index(b"</svg>")])))


def test_bad_check_value_is_rejected(load_item: LoadItem) -> None:
    with pytest.raises(ValueError, match="check must be one of"):
        decode(load_item("png"), check="thorough")  # type: ignore[arg-type]


@pytest.mark.parametrize("path", sorted(ITEMS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_item_fixture_decodes_or_raises_an_imgcall_error(path: Any) -> None:
    """The issue's promise: decode(open(fixture).read()) works or names the problem."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImgcallWarning)
        try:
            image = decode(path.read_text())
        except ImgcallError as exc:
            assert str(exc)
            assert exc.reason
        else:
            assert image.data and image.format in {"PNG", "JPEG", "WEBP", "GIF", "SVG"}


def test_warnings_point_at_the_callers_line(load_item: LoadItem) -> None:
    """Not into imgcall: the warning names the line of code that asked for the image."""
    item = load_item("status_generating")
    with pytest.warns(imgcall.ImgcallWarning) as from_decode:
        imgcall.decode(item)
    with pytest.warns(imgcall.ImgcallWarning) as from_iter:
        for _image in imgcall.iter_images([item]):
            pass
    for caught in (from_decode, from_iter):
        assert [w.filename for w in caught] == [__file__]


# --- animations: frames x pixels within a budget (issue 13) --------------------------------


@pytest.fixture
def pillow_work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count what Pillow is asked to do; fail at once past 50 frames instead of minutes."""
    from PIL import GifImagePlugin, PngImagePlugin, WebPImagePlugin

    counts = {"opened": 0, "frames": 0}
    real_open = Image.open

    def counting_open(*args: Any, **kwargs: Any) -> Image.Image:
        counts["opened"] += 1
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    for cls in (
        GifImagePlugin.GifImageFile,
        PngImagePlugin.PngImageFile,
        WebPImagePlugin.WebPImageFile,
    ):

        def counting_seek(self: Any, frame: int, real: Any = cls.seek) -> None:
            if frame:
                counts["frames"] += 1
                if counts["frames"] > 50:
                    raise AssertionError("Pillow was made to compose more than 50 frames")
            real(self, frame)

        monkeypatch.setattr(cls, "seek", counting_seek)
    return counts


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (gif_bomb(8000, 2000), "2,000 frames of 8000x8000: 128,000,000,000 pixels"),
        (gif_bomb(400, 4_000), "4,000 frames of 400x400: 640,000,000 pixels"),
        (gif_bomb(4000, 10), "10 frames of 4000x4000: 160,000,000 pixels"),
    ],
    ids=["46kB-2000-frames", "92kB-4000-frames", "269B-10-frames"],
)
def test_issue_13_gif_bombs_are_refused_before_pillow(
    data: bytes, what: str, pillow_work: dict[str, int]
) -> None:
    with pytest.raises(ImageTooLargeError, match=f"GIF animation has {what}") as info:
        decode(item(b64(data)), check="full")
    assert "over the budget of 64,000,000" in str(info.value) and info.value.id == "ig_t"
    assert pillow_work == {"opened": 0, "frames": 0}
    # Saving or listing it needs no pixel: the default check still accepts it.
    assert decode(item(b64(data))).nbytes == len(data)


def test_issue_13_ten_thousand_frames_are_over_the_frame_cap(pillow_work: dict[str, int]) -> None:
    data = gif_bomb(400, 10_000)  # 230 kB
    with pytest.raises(ImageTooLargeError, match="10,000 frames, over the limit of 5,000"):
        decode(item(b64(data)), check="full")
    with pytest.raises(ImageTooLargeError, match="1,600,000,000 pixels to decode"):
        decode(item(b64(data)), check="full", limits=Limits(max_frames=10_000))
    assert pillow_work == {"opened": 0, "frames": 0}


def test_a_16000_pixel_frame_in_a_1x1_gif_is_refused_with_its_real_size(
    pillow_work: dict[str, int],
) -> None:
    data = gif((1, 1), [(0, 0, 16000, 16000)])
    for check in ("none", "fast", "full"):
        with pytest.raises(ImageTooLargeError) as info:
            decode(item(b64(data)), check=check)  # type: ignore[arg-type]
        message = str(info.value)
        assert "GIF frame 1 is 16000x16000 at (0, 0), beyond its 1x1 logical screen" in message
        assert "16000x16000 = 256,000,000 pixels, over the limit of 64,000,000" in message
    # Even a DecodedImage made by hand never reaches Pillow.
    forged = imgcall.DecodedImage("ig", "completed", data, "GIF", 1, 1)
    with pytest.raises(ImageTooLargeError, match="16000x16000"):
        forged.to_pil()
    assert pillow_work["opened"] == 0


def test_a_gif_grown_by_a_frame_reports_its_drawn_size_with_a_warning() -> None:
    data = gif((10, 10), [(0, 0, 10, 10), (4, 4, 12, 12)])
    with pytest.warns(ImgcallWarning, match=r"frame 2 is 12x12 at \(4, 4\), beyond its 10x10"):
        image = decode(item(b64(data)), check="full")
    assert image.size == (16, 16) and "as decoders draw it" in image.warnings[0]


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (apng((8000, 8000), [(0, 0, 1, 1)] * 2000), "PNG"),
        (animated_webp((8000, 8000), [(0, 0, 1, 1)] * 2000), "WEBP"),
    ],
    ids=["apng", "webp"],
)
def test_apng_and_webp_bombs_are_refused_before_pillow(
    data: bytes, fmt: str, pillow_work: dict[str, int]
) -> None:
    with pytest.raises(ImageTooLargeError, match=f"{fmt} animation has 2,000 frames of 8000x8000"):
        decode(item(b64(data)), check="full")
    assert pillow_work == {"opened": 0, "frames": 0}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (apng((100, 100), [(0, 0, 10, 10), (0, 95, 10, 10)]), "APNG frame 2 is 10x10 at"),
        (apng((1, 1), [(0, 0, 1, 1), (0, 0, 16000, 16000)]), "16000x16000 at (0, 0), outside"),
        (animated_webp((10, 10), [(0, 0, 12, 12)]), "WebP frame 1 is 12x12 at (0, 0), outside"),
        (
            animated_webp((10, 10), [(0, 0, 10, 10)], bitstream=webp_bitstream((16000, 16))),
            "says it is 10x10 but its image is 16000x16",
        ),
        (still_webp_with_canvas((1, 1), webp_bitstream((300, 200))), "canvas is 1x1"),
    ],
    ids=["apng-outside", "apng-huge", "webp-outside", "webp-lying", "webp-still-lying"],
)
def test_frames_that_contradict_their_canvas_are_corrupt_at_every_check(
    data: bytes, why: str, pillow_work: dict[str, int]
) -> None:
    for check in ("none", "fast", "full"):
        with pytest.raises(CorruptImageError, match=re.escape(why)):
            decode(item(b64(data)), check=check)  # type: ignore[arg-type]
    assert pillow_work["opened"] == 0


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_every_frame_within_the_budget_is_decoded(fmt: str, pillow_work: dict[str, int]) -> None:
    data = pillow_animation(fmt, (40, 30), 5)
    image = decode(item(b64(data)), check="full", limits=Limits(max_total_pixels=5 * 40 * 30))
    assert image.size == (40, 30)
    assert pillow_work["frames"] >= 4  # frames 1-4 were composed, then back to 0
    with pytest.raises(
        ImageTooLargeError, match="6,000 pixels to decode, over the budget of 5,999"
    ):
        decode(item(b64(data)), check="full", limits=Limits(max_total_pixels=5 * 40 * 30 - 1))


def test_the_frame_cap_counts_frames_however_small() -> None:
    data = gif_bomb(2, 12)
    assert decode(item(b64(data)), check="full", limits=Limits(max_frames=12)).size == (2, 2)
    with pytest.raises(ImageTooLargeError, match="12 frames, over the limit of 11"):
        decode(item(b64(data)), check="full", limits=Limits(max_frames=11))


def test_a_still_image_is_bounded_by_max_pixels_alone(image_bytes: Callable[[str], bytes]) -> None:
    tiny = Limits(max_total_pixels=1, max_frames=1)
    image = decode(item(b64(image_bytes("tiny.png"))), check="full", limits=tiny)
    assert image.to_pil().size == (16, 12)


def test_to_pil_and_thumbnails_of_a_big_animation_decode_one_frame(
    pillow_work: dict[str, int],
) -> None:
    from imgcall.decoding import thumbnail

    data = gif_bomb(600, 2000)  # 720 million pixels for every frame; 360,000 for one
    image = decode(item(b64(data)))
    assert image.to_pil().size == (600, 600)
    thumb, _ = thumbnail(data, "GIF", 64)
    assert Image.open(io.BytesIO(thumb)).size == (64, 64)
    assert pillow_work["frames"] == 0


def test_the_default_path_never_opens_an_animation_with_pillow(
    pillow_work: dict[str, int],
) -> None:
    for data in (
        gif_bomb(64, 50),
        apng((8, 8), [(0, 0, 8, 8)] * 3),
        animated_webp((8, 8), [(0, 0, 8, 8)] * 3),
    ):
        assert decode(item(b64(data))).size == ((64, 64) if data.startswith(b"GIF") else (8, 8))
    assert pillow_work == {"opened": 0, "frames": 0}


def test_framing_too_long_to_walk_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    import imgcall.frames

    monkeypatch.setattr(imgcall.frames, "MAX_BLOCKS", 100)
    data = apng((4, 4), [(0, 0, 4, 4)] * 200)
    with pytest.raises(ImageTooLargeError, match="PNG framing has over 100 blocks"):
        decode(item(b64(data)), check="none")

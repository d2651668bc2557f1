"""DecodedImage: attributes, repr, to_pil and save."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgcall import (
    CorruptImageError,
    DecodedImage,
    OutputExistsError,
    UnsupportedImageError,
    decode,
)

ImageBytes = Callable[[str], bytes]


def decoded(data: bytes, id: str = "ig_1", **extra: Any) -> DecodedImage:
    result = base64.b64encode(data).decode()
    return decode(
        {
            "type": "image_generation_call",
            "id": id,
            "status": "completed",
            "result": result,
            **extra,
        }
    )


def test_attributes(image_bytes: ImageBytes) -> None:
    data = image_bytes("tiny.jpg")
    image = decoded(data, revised_prompt="a cat", size="1024x1024")
    assert image.data is not None and image.data == data
    assert (image.id, image.status, image.format, image.mime, image.extension) == (
        "ig_1",
        "completed",
        "JPEG",
        "image/jpeg",
        "jpg",
    )
    assert (image.width, image.height, image.nbytes) == (16, 12, len(data))
    assert image.partial is False and image.partial_index is None
    assert image.context["revised_prompt"] == "a cat"
    assert image.context["size"] == "1024x1024"


def test_repr_is_one_short_stable_line(image_bytes: ImageBytes) -> None:
    image = decoded(image_bytes("tiny.png"))
    text = repr(image)
    assert text == "<DecodedImage 'ig_1' PNG 16x12 233 B completed>"
    assert "\n" not in text and "0x" not in text


def test_repr_mentions_partials_and_warnings(image_bytes: ImageBytes) -> None:
    with pytest.warns(UserWarning):
        image = decode(
            {
                "type": "image_generation_call",
                "id": "ig_2",
                "status": "generating",
                "result": base64.b64encode(image_bytes("tiny.png")).decode(),
            }
        )
    assert repr(image).endswith("generating 1 warning>")


def test_to_pil_returns_a_loaded_image(image_bytes: ImageBytes) -> None:
    for name in ("tiny.png", "tiny.jpg", "tiny.webp", "tiny.gif"):
        pil = decoded(image_bytes(name)).to_pil()
        assert isinstance(pil, Image.Image)
        assert pil.size == Image.open(io.BytesIO(image_bytes(name))).size
        assert pil.getpixel((0, 0)) is not None


def test_to_pil_refuses_svg(image_bytes: ImageBytes) -> None:
    with pytest.raises(UnsupportedImageError, match="never rasterised") as info:
        decoded(image_bytes("tiny.svg"), id="ig_svg").to_pil()
    assert info.value.id == "ig_svg"


def test_to_pil_reports_corrupt_pixels(image_bytes: ImageBytes) -> None:
    """Damaged pixel data with intact chunk CRCs passes the fast check, not to_pil()."""
    raw = image_bytes("tiny.png")
    idat = zlib.compress(b"\x00" * 5)  # far too little pixel data for 16x12
    body = b"IDAT" + idat
    chunk = struct.pack(">I", len(idat)) + body + struct.pack(">I", zlib.crc32(body))
    broken = raw[:33] + chunk + raw[-12:]
    image = decoded(broken, id="ig_c")
    with pytest.raises(CorruptImageError, match="cannot be decoded") as info:
        image.to_pil()
    assert info.value.id == "ig_c"


def test_save_into_a_folder_names_by_id_and_real_extension(
    tmp_path: Path, image_bytes: ImageBytes
) -> None:
    data = image_bytes("tiny.jpg")
    path = decoded(data).save(tmp_path)
    assert path == tmp_path / "ig_1.jpg"
    assert path.read_bytes() == data


def test_save_to_a_folder_that_does_not_exist_yet(tmp_path: Path, image_bytes: ImageBytes) -> None:
    path = decoded(image_bytes("tiny.png")).save(f"{tmp_path}/new/sub/")
    assert path == tmp_path / "new" / "sub" / "ig_1.png"
    assert path.is_file()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cat.png", "cat.jpg"),
        ("cat", "cat.jpg"),
        ("cat.jpeg", "cat.jpg"),
        ("cat.bin", "cat.bin.jpg"),
    ],
)
def test_save_to_a_file_path_corrects_the_extension(
    tmp_path: Path, image_bytes: ImageBytes, given: str, expected: str
) -> None:
    path = decoded(image_bytes("tiny.jpg")).save(tmp_path / given)
    assert path == tmp_path / expected
    assert path.read_bytes() == image_bytes("tiny.jpg")


def test_save_is_idempotent_and_refuses_different_bytes(
    tmp_path: Path, image_bytes: ImageBytes
) -> None:
    first = decoded(image_bytes("tiny.png")).save(tmp_path)
    assert decoded(image_bytes("tiny.png")).save(tmp_path) == first
    other = Image.new("RGB", (16, 12), "red")
    buffer = io.BytesIO()
    other.save(buffer, format="PNG")
    with pytest.raises(OutputExistsError, match="already exists with different content") as info:
        decoded(buffer.getvalue()).save(tmp_path)
    assert info.value.id == "ig_1"
    assert first.read_bytes() == image_bytes("tiny.png")
    renamed = decoded(buffer.getvalue()).save(tmp_path, on_conflict="rename")
    assert renamed == tmp_path / "ig_1-1.png"
    assert decoded(buffer.getvalue()).save(tmp_path, on_conflict="overwrite") == first
    assert first.read_bytes() == buffer.getvalue()


def test_save_leaves_no_temporary_files(tmp_path: Path, image_bytes: ImageBytes) -> None:
    out = tmp_path / "out"
    out.mkdir()
    decoded(image_bytes("tiny.png")).save(out)
    decoded(image_bytes("tiny.png"), id="ig_2").save(out, on_conflict="overwrite")
    decoded(image_bytes("tiny.jpg"), id="ig_2").save(out, on_conflict="overwrite")
    assert sorted(os.listdir(out)) == ["ig_1.png", "ig_2.jpg", "ig_2.png"]


def test_save_with_hostile_id_stays_in_the_folder(tmp_path: Path, image_bytes: ImageBytes) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for hostile in ("../escape", "/etc/passwd", "a/b", "..", ".", "CON", "x\x00y"):
        path = decoded(image_bytes("tiny.png"), id=hostile).save(out, on_conflict="rename")
        assert path.resolve().parent == out.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out"]


def test_save_convert_re_encodes(tmp_path: Path, image_bytes: ImageBytes) -> None:
    path = decoded(image_bytes("tiny.webp")).save(tmp_path, convert="png")
    assert path.suffix == ".png"
    with Image.open(path) as im:
        assert (im.format, im.size) == ("PNG", (16, 12))


def test_save_convert_to_the_same_format_keeps_the_original_bytes(
    tmp_path: Path, image_bytes: ImageBytes
) -> None:
    path = decoded(image_bytes("tiny.png")).save(tmp_path, convert="png")
    assert path.read_bytes() == image_bytes("tiny.png")


def test_sha256_is_computed_once(image_bytes: ImageBytes) -> None:
    image = decoded(image_bytes("tiny.png"))
    assert image.sha256 is image.sha256


def test_c2pa_is_read_from_the_bytes_without_pillow() -> None:
    from tests.c2pa_helpers import picture, sign

    plain = decoded(picture("PNG"))
    signed = decoded(sign(picture("PNG"), "PNG"), id="ig_signed")
    assert (plain.c2pa, signed.c2pa) == (False, True)
    assert decoded(sign(picture("JPEG"), "JPEG"), id="ig_jpeg").c2pa is True

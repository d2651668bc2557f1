"""Frames read from the container: counts and canvases as Pillow sees them, bombs found."""

from __future__ import annotations

import io
import random
import subprocess
import sys

import pytest
from PIL import Image

from imgcall.formats import HeaderError
from imgcall.frames import Frames, FramingTooLong, read_frames

from .animations import (
    animated_webp,
    apng,
    gif,
    gif_bomb,
    still_webp_with_canvas,
    webp_bitstream,
)
from .conftest import IMAGES_DIR


def pillow_sees(data: bytes, fmt: str) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data), formats=[fmt]) as image:
        return getattr(image, "n_frames", 1), image.width, image.height


@pytest.mark.parametrize(
    "name", ["tiny.png", "tiny.jpg", "tiny.gif", "tiny.webp", "tiny-lossless.webp"]
)
def test_fixtures_agree_with_pillow(name: str) -> None:
    data = (IMAGES_DIR / name).read_bytes()
    fmt = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}[name.rsplit(".", 1)[1]]
    frames = read_frames(data, fmt)
    assert (frames.count, frames.width, frames.height) == pillow_sees(data, fmt)


def test_animations_saved_by_pillow_agree_with_pillow() -> None:
    rng = random.Random(13)
    for _ in range(60):
        fmt = rng.choice(["GIF", "PNG", "WEBP"])
        size = (rng.randint(1, 40), rng.randint(1, 40))
        count = rng.randint(2, 6)
        frames = [
            Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3)) for _ in range(count)
        ]
        options: dict[str, object] = {
            "GIF": {"comment": b"c" * rng.randint(0, 600), "interlace": rng.random() < 0.5},
            "PNG": {"default_image": rng.random() < 0.3, "disposal": rng.randint(0, 2)},
            "WEBP": {"lossless": rng.random() < 0.5},
        }[fmt]
        buffer = io.BytesIO()
        frames[0].save(buffer, format=fmt, save_all=True, append_images=frames[1:], **options)
        data = buffer.getvalue()
        found = read_frames(data, fmt)
        assert (found.count, found.width, found.height) == pillow_sees(data, fmt), (fmt, options)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_hand_built_animations_agree_with_pillow(fmt: str) -> None:
    frames = [(0, 0, 4, 4), (2, 2, 6, 6), (4, 0, 4, 8)]
    data = {
        "GIF": lambda: gif((8, 8), frames),
        "PNG": lambda: apng((8, 8), frames),
        "WEBP": lambda: animated_webp((8, 8), frames),
    }[fmt]()
    assert read_frames(data, fmt) == Frames(3, 8, 8)
    assert pillow_sees(data, fmt) == (3, 8, 8)


# --- the bombs of issue 13 ---------------------------------------------------------------


def test_issue_13_gif_bombs_are_counted_without_decoding() -> None:
    assert read_frames(gif_bomb(8000, 2000), "GIF") == Frames(2000, 8000, 8000)
    assert read_frames(gif_bomb(64, 10_000), "GIF").total_pixels == 10_000 * 64 * 64
    tiny = gif_bomb(4000, 10)
    assert len(tiny) == 269 and read_frames(tiny, "GIF").total_pixels == 160_000_000


def test_a_gif_frame_beyond_its_logical_screen_grows_the_canvas() -> None:
    frames = read_frames(gif((1, 1), [(0, 0, 16000, 16000)]), "GIF")
    assert (frames.width, frames.height) == (16000, 16000)
    assert frames.beyond == "frame 1 is 16000x16000 at (0, 0), beyond its 1x1 logical screen"
    # As Pillow draws it: the canvas reaches as far as a frame does.
    data = gif((10, 10), [(0, 0, 10, 10), (5, 8, 12, 4)])
    assert read_frames(data, "GIF") == Frames(
        2, 17, 12, "frame 2 is 12x4 at (5, 8), beyond its 10x10 logical screen"
    )
    with Image.open(io.BytesIO(data)) as image:
        image.seek(1)
        assert image.size == (17, 12)


def test_an_apng_frame_outside_its_canvas_contradicts_the_file() -> None:
    data = apng((100, 100), [(0, 0, 10, 10), (95, 0, 10, 10)])
    with pytest.raises(HeaderError, match=r"APNG frame 2 is 10x10 at \(95, 0\), outside"):
        read_frames(data, "PNG")
    huge = apng((1, 1), [(0, 0, 1, 1), (0, 0, 16000, 16000)])
    with pytest.raises(HeaderError, match="16000x16000 at"):
        read_frames(huge, "PNG")


def test_a_webp_frame_outside_its_canvas_or_lying_about_its_size_is_refused() -> None:
    with pytest.raises(HeaderError, match=r"WebP frame 2 is 10x10 at \(96, 0\), outside"):
        read_frames(animated_webp((100, 100), [(0, 0, 10, 10), (96, 0, 10, 10)]), "WEBP")
    lying = animated_webp((100, 100), [(0, 0, 10, 10)], bitstream=webp_bitstream((50, 50)))
    with pytest.raises(HeaderError, match="frame 1 says it is 10x10 but its image is 50x50"):
        read_frames(lying, "WEBP")
    still = still_webp_with_canvas((1, 1), webp_bitstream((300, 200)))
    with pytest.raises(HeaderError, match="canvas is 1x1 but its image is 300x200"):
        read_frames(still, "WEBP")
    assert read_frames(still_webp_with_canvas((3, 2), webp_bitstream((3, 2))), "WEBP") == Frames(
        1, 3, 2
    )


def test_apng_frames_are_those_pillow_composes() -> None:
    frames = [(0, 0, 4, 4)] * 3
    assert read_frames(apng((4, 4), frames, declared=2), "PNG").count == 2
    assert read_frames(apng((4, 4), frames, declared=1000), "PNG").count == 3
    # acTL of 0 frames: Pillow shows the IDAT image as a still.
    assert read_frames(apng((4, 4), frames, declared=0), "PNG").count == 1
    assert pillow_sees(apng((4, 4), frames, declared=2), "PNG")[0] == 2


def test_gif_stray_bytes_and_extensions_are_read_as_pillow_reads_them() -> None:
    data = gif((4, 4), [(0, 0, 4, 4), (0, 0, 4, 4)])
    body, trailer = data[:-1], data[-1:]
    odd = body + b"\x00\x07" + b"!\xfe\x03abc\x00" + trailer  # junk, then a comment
    assert read_frames(odd, "GIF").count == 2 == pillow_sees(odd, "GIF")[0]


def test_long_gif_data_is_skipped_in_runs() -> None:
    # A frame whose LZW data fills many full 255-byte blocks, then a short one.
    pixels = Image.frombytes("L", (300, 300), random.Random(1).randbytes(90_000))
    buffer = io.BytesIO()
    pixels.save(buffer, format="GIF", save_all=True, append_images=[pixels.rotate(90)])
    data = buffer.getvalue()
    assert read_frames(data, "GIF") == Frames(2, 300, 300)
    # Every stride of the run is a real block length: a damaged run stops where it is.
    assert read_frames(data[: len(data) // 3], "GIF").count == 1


@pytest.mark.parametrize(
    ("data", "fmt", "why"),
    [
        (b"GIF89a\x04\x00\x04\x00\x00\x00\x00;", "GIF", "no image"),
        (
            b"GIF89a\x00\x00\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x00\x00\x00\x00\x00",
            "GIF",
            "empty",
        ),
        (b"GIF89a\x01", "GIF", "cut short"),
    ],
)
def test_malformed_framing_is_a_header_error(data: bytes, fmt: str, why: str) -> None:
    with pytest.raises(HeaderError, match=why):
        read_frames(data, fmt)


def test_reading_frames_never_imports_pillow() -> None:
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(IMAGES_DIR.parent.parent)!r})\n"
        "from imgcall.frames import read_frames\n"
        f"print(read_frames(open({str(IMAGES_DIR / 'tiny.gif')!r}, 'rb').read(), 'GIF'))\n"
        "print('PIL' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["Frames(count=2, width=10, height=8, beyond=None)", "False"]


def _gif_with_blocks(blocks: bytes, before: bytes = b"") -> bytes:
    """A 2x2 GIF whose one image carries ``blocks`` as its LZW data sub-blocks."""
    head = b"GIF89a\x02\x00\x02\x00\x80\x00\x00" + bytes(6) + before
    return head + b",\x00\x00\x00\x00\x02\x00\x02\x00\x00\x02" + blocks + b"\x00;"


def test_irregular_framing_past_the_block_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import imgcall.frames

    monkeypatch.setattr(imgcall.frames, "MAX_BLOCKS", 1000)
    # Alternating sizes cannot be skipped in runs: each costs one step.
    with pytest.raises(FramingTooLong, match="over 1,000 blocks"):
        read_frames(_gif_with_blocks(b"\x01a\x02ab" * 600), "GIF")
    assert read_frames(_gif_with_blocks(b"\x01a\x02ab" * 400), "GIF").count == 1
    # Runs of one size, however small, are skipped at C speed: not counted block by block.
    assert read_frames(_gif_with_blocks(b"\x01a" * 100_000), "GIF").count == 1
    comments = b"!\xfe\x01c\x00" * 1200  # each a block of its own, then its end
    with pytest.raises(FramingTooLong):
        read_frames(_gif_with_blocks(b"\x01a", before=comments), "GIF")
    assert read_frames(_gif_with_blocks(b"\x01a", before=comments[:1000]), "GIF").count == 1
    empty_chunks = apng((4, 4), [(0, 0, 4, 4)] * 2)
    text = b"\x00\x00\x00\x00tEXt" + b"\x00\x00\x00\x00"
    many = empty_chunks[:-12] + text * 1200 + empty_chunks[-12:]
    with pytest.raises(FramingTooLong, match="PNG framing"):
        read_frames(many, "PNG")


def test_stray_bytes_are_skipped_without_counting_each() -> None:
    data = _gif_with_blocks(b"\x01a")
    padded = data[:-1] + b"\x00" * 3_000_000 + b";"
    assert read_frames(padded, "GIF").count == 1

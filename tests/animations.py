"""Byte-level builders for animated GIF, APNG and animated WebP, including hostile ones.

Pillow's encoders merge identical frames and never write a frame that reaches outside
its canvas, so the bombs of issue 13 are assembled here chunk by chunk; each frame's
pixels are still real compressed data that Pillow decodes.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence

from PIL import Image

Frame = tuple[int, int, int, int]
"""``(x, y, width, height)`` of one frame on its canvas."""


def _gif_pixels(count: int) -> bytes:
    """LZW data of ``count`` pixels of colour 0, in sub-blocks, after the code size.

    Minimum code size 2; every pixel is a clear code (4) then index 0, so the codes
    stay 3 bits wide; an end code (5) closes the image.
    """
    bits = 0
    value = 0
    for code in [4, 0] * count + [5]:
        value |= code << bits
        bits += 3
    raw = value.to_bytes((bits + 7) // 8, "little")
    blocks = b"".join(
        bytes([len(raw[i : i + 255])]) + raw[i : i + 255] for i in range(0, len(raw), 255)
    )
    return b"\x02" + blocks + b"\x00"


def gif(screen: tuple[int, int], frames: Sequence[Frame]) -> bytes:
    """A GIF89a with a ``screen`` logical screen and an LZW image per frame.

    A frame of up to 65,536 pixels holds all its pixels; a larger one only its first
    (so that a hostile descriptor costs nothing to build).
    """
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", screen[0], screen[1], 0x80, 0, 0)
    out += bytes([0, 0, 0, 255, 255, 255])  # a two-colour global palette
    out += b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for x, y, w, h in frames:
        out += b"!\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
        out += b"," + struct.pack("<HHHHB", x, y, w, h, 0)
        out += _gif_pixels(w * h if w * h <= 65_536 else 1)
    out += b";"
    return bytes(out)


def gif_bomb(side: int, count: int) -> bytes:
    """``count`` one-pixel frames on a ``side`` x ``side`` logical screen."""
    return gif((side, side), [(0, 0, 1, 1)] * count)


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def _png_pixels(width: int, height: int) -> bytes:
    if width * height > 65_536:
        height = 1  # a hostile frame: its header is what matters, not its pixels
    row = b"\x00" + b"\x00\x80\xff\xff" * width
    return zlib.compress(row * height, 9)


def apng(canvas: tuple[int, int], frames: Sequence[Frame], *, declared: int | None = None) -> bytes:
    """An RGBA APNG: the first frame is the IDAT image, the others ``fdAT`` chunks.

    A frame of over 65,536 pixels holds only its first row.

    ``declared`` is the frame count written in ``acTL`` (the real count by default).
    """
    width, height = canvas
    out = b"\x89PNG\r\n\x1a\n"
    out += _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    out += _png_chunk(b"acTL", struct.pack(">II", len(frames) if declared is None else declared, 0))
    seq = 0
    for index, (x, y, w, h) in enumerate(frames):
        out += _png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, x, y, 1, 100, 0, 0))
        seq += 1
        if index == 0:
            out += _png_chunk(b"IDAT", _png_pixels(w, h))
        else:
            out += _png_chunk(b"fdAT", struct.pack(">I", seq) + _png_pixels(w, h))
            seq += 1
    return out + _png_chunk(b"IEND", b"")


def _riff_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _u24(value: int) -> bytes:
    return value.to_bytes(3, "little")


def webp_bitstream(size: tuple[int, int]) -> bytes:
    """The ``VP8L`` chunk of a lossless WebP of ``size`` made by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGBA", size, (255, 0, 0, 255)).save(buffer, format="WEBP", lossless=True)
    data = buffer.getvalue()
    assert data[12:16] == b"VP8L"
    (length,) = struct.unpack_from("<I", data, 16)
    return data[12 : 20 + length + (length & 1)]


def animated_webp(
    canvas: tuple[int, int],
    frames: Sequence[Frame],
    *,
    bitstream: bytes | None = None,
) -> bytes:
    """An animated WebP: a ``VP8X`` canvas, ``ANIM``, one ``ANMF`` per frame.

    Each frame carries ``bitstream`` (by default a real lossless image of the frame's
    own size), so a hostile caller can make a frame's header and its pixels disagree.
    """
    width, height = canvas
    body = _riff_chunk(b"VP8X", bytes([0x12, 0, 0, 0]) + _u24(width - 1) + _u24(height - 1))
    body += _riff_chunk(b"ANIM", b"\x00\x00\x00\x00\x00\x00")
    cache: dict[tuple[int, int], bytes] = {}
    for x, y, w, h in frames:
        image = bitstream
        if image is None:
            image = cache.get((w, h)) or cache.setdefault((w, h), webp_bitstream((w, h)))
        header = _u24(x // 2) + _u24(y // 2) + _u24(w - 1) + _u24(h - 1) + _u24(10) + b"\x00"
        body += _riff_chunk(b"ANMF", header + image)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def still_webp_with_canvas(canvas: tuple[int, int], bitstream: bytes) -> bytes:
    """An extended (``VP8X``) still WebP whose canvas may disagree with its image."""
    width, height = canvas
    body = _riff_chunk(b"VP8X", bytes([0x10, 0, 0, 0]) + _u24(width - 1) + _u24(height - 1))
    body += bitstream
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def pillow_animation(fmt: str, size: tuple[int, int], count: int) -> bytes:
    """An ordinary animation saved by Pillow: ``count`` frames of changing colour."""
    frames = [Image.new("RGB", size, (i * 40 % 256, 90, 200 - i * 20 % 200)) for i in range(count)]
    buffer = io.BytesIO()
    options: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(
        buffer, format=fmt, save_all=True, append_images=frames[1:], duration=50, **options
    )
    return buffer.getvalue()

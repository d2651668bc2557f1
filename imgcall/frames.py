"""Animation frames from the container, read without decoding a pixel.

A decoder composes every frame of an animation onto a full canvas, so what an
animation costs to decode is its frame count times its canvas, not its file size: a
46 kB GIF can hold 2,000 frames on an 8000x8000 screen. And a frame may say it is larger
than the header: a GIF whose logical screen is 1x1 can carry a 16000x16000 frame, which
Pillow grows the image to. `read_frames` walks the container's framing (GIF blocks,
PNG chunks, RIFF chunks) to find both before Pillow allocates anything, and
`check_frames` holds them to the call's `Limits` (every way imgcall reaches Pillow,
`imgcall.decoding.open_pil`, calls it first).

The walk reads only framing, in bounded work: runs of same-size GIF data blocks (an
encoder's 255-byte blocks) and stray bytes are skipped at C speed, and a file that
would need more than `MAX_BLOCKS` steps one block at a time (hostile framing, such as
megabytes of alternating one- and two-byte blocks) is refused with `FramingTooLong`.
It follows the decoders' own reading: a GIF frame that reaches beyond the logical
screen grows the image, as Pillow draws it (browsers do the same for a first frame);
an APNG or WebP frame outside its canvas is an error in those formats' specifications,
which Pillow and libwebp refuse, so it is a
`HeaderError` here. Nothing here imports Pillow.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from ._lazyre import lazy_pattern
from ._slotted import Frozen
from .errors import CorruptImageError, ImageTooLargeError
from .formats import FORMATS, HeaderError, bitstream_size, read_header

if TYPE_CHECKING:
    from .decoding import Limits

__all__ = [
    "MAX_BLOCKS",
    "Frames",
    "FramingTooLong",
    "check_frames",
    "frames_problem",
    "read_frames",
]

MAX_BLOCKS = 1_000_000
"""Blocks and chunks the walk reads one at a time in a file (runs of same-size GIF data
blocks count once): about a tenth of a second. Real files need a few thousand; only
hostile framing (64 MB of one-byte blocks) comes near it."""


class FramingTooLong(HeaderError):
    """The framing has more than `MAX_BLOCKS` blocks to read one at a time."""


def _too_long(fmt: str) -> FramingTooLong:
    return FramingTooLong(
        f"{fmt} framing has over {MAX_BLOCKS:,} blocks of irregular sizes to read"
    )


class Frames(Frozen):
    """What an image's container says about its frames.

    ``count``: frames a decoder composes (1 for a still image); ``width`` and ``height``:
    the canvas every frame is composed onto, the image as decoders draw it; ``beyond``:
    for a GIF grown by a frame reaching past its logical screen, which frame and where.
    """

    __slots__ = ("beyond", "count", "height", "width")
    __match_args__ = ("count", "width", "height", "beyond")

    def __init__(self, count: int, width: int, height: int, beyond: str | None = None) -> None:
        self.count = count
        self.width = width
        self.height = height
        self.beyond = beyond

    @property
    def pixels(self) -> int:
        """Pixels of the canvas (one frame's worth of composing)."""
        return self.width * self.height

    @property
    def total_pixels(self) -> int:
        """Pixels composed to decode every frame: frames x canvas."""
        return self.count * self.pixels


def read_frames(data: bytes, fmt: str) -> Frames:
    """The frames of ``data`` (PNG, JPEG, WebP or GIF) and the canvas they are drawn on.

    Raises `HeaderError` when the framing is malformed or contradicts itself (an APNG or
    WebP frame outside its canvas, a WebP frame whose pixels are not the size its
    header says, a GIF without an image).
    """
    if fmt == "GIF":
        return _gif_frames(data)
    if fmt == "PNG":
        return _png_frames(data)
    if fmt == "WEBP":
        return _webp_frames(data)
    header = read_header(data, fmt)
    if header.width is None or header.height is None:
        raise ValueError(f"{fmt} has no raster frames")
    return Frames(1, header.width, header.height)


def check_frames(data: bytes, fmt: str, limits: Limits, *, all_frames: bool) -> Frames:
    """Read the frames of a raster image from its container and hold them to ``limits``.

    Every frame must fit the canvas (APNG, WebP) and the canvas ``max_pixels`` (a GIF
    frame beyond its logical screen enlarges the canvas, as Pillow draws it). With
    ``all_frames``, an animation must also be within ``max_frames`` and the budget of
    ``max_total_pixels`` (frames x canvas). No pixel is decoded and Pillow is not used.

    Raises `CorruptImageError` when the framing is damaged or contradicts itself, and
    `ImageTooLargeError` over a limit.
    """
    try:
        frames = read_frames(data, fmt)
    except FramingTooLong as exc:
        raise ImageTooLargeError(f"{exc}; imgcall does not walk that many") from exc
    except (HeaderError, struct.error, IndexError) as exc:
        raise CorruptImageError(f"{fmt} header is damaged: {exc}") from exc
    width, height, pixels = frames.width, frames.height, frames.pixels
    if pixels > limits.max_pixels:
        what = (
            f"{fmt} {frames.beyond}: the image would be {width}x{height}"
            if frames.beyond is not None
            else f"the {fmt} header declares {width}x{height}"
        )
        raise ImageTooLargeError(
            f"{what} = {pixels:,} pixels, over the limit of {limits.max_pixels:,} "
            "(raise Limits(max_pixels=...) to allow it)"
        )
    if all_frames and frames.count > 1:
        if frames.count > limits.max_frames:
            raise ImageTooLargeError(
                f"the {fmt} animation has {frames.count:,} frames, over the limit of "
                f"{limits.max_frames:,} (raise Limits(max_frames=...) to decode them all)"
            )
        if frames.total_pixels > limits.max_total_pixels:
            raise ImageTooLargeError(
                f"the {fmt} animation has {frames.count:,} frames of {width}x{height}: "
                f"{frames.total_pixels:,} pixels to decode, over the budget of "
                f"{limits.max_total_pixels:,} (raise Limits(max_total_pixels=...) "
                "to decode them all)"
            )
    return frames


def frames_problem(data: bytes, fmt: str, limits: Limits) -> str | None:
    """Why decoding every frame of ``data`` is over ``limits``, or ``None`` if it is not.

    For display: a front end animating an image decodes every frame, so an animation
    over the budget is shown by its first frame instead.
    """
    if fmt not in FORMATS or fmt == "SVG":
        return None
    try:
        check_frames(data, fmt, limits, all_frames=True)
    except (ImageTooLargeError, CorruptImageError) as exc:
        return exc.reason
    return None


# --- GIF -------------------------------------------------------------------------------


def _gif_frames(data: bytes) -> Frames:
    n = len(data)
    if n < 13:
        raise HeaderError("GIF header is cut short")
    screen_w, screen_h, flags = struct.unpack_from("<HHB", data, 6)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    count, width, height, beyond = 0, screen_w, screen_h, None
    steps = 0
    # The same reading as Pillow's: extensions and images until the trailer or the end,
    # stray bytes between blocks skipped (Pillow skips them one at a time).
    while True:
        found = _gif_block().search(data, pos)
        if found is None:
            break
        pos = found.start()
        tag = data[pos]
        steps += 1
        if tag == 0x3B:  # ";" trailer
            break
        if tag == 0x21:  # "!" extension: a label, then data sub-blocks
            pos, steps = _skip_sub_blocks(data, pos + 2, steps)
        else:  # "," image descriptor
            if pos + 10 > n:
                break  # cut short: the trailer check reports it
            x, y, w, h, image_flags = struct.unpack_from("<HHHHB", data, pos + 1)
            count += 1
            if x + w > width or y + h > height:
                if beyond is None and (x + w > screen_w or y + h > screen_h):
                    beyond = (
                        f"frame {count} is {w}x{h} at ({x}, {y}), beyond its "
                        f"{screen_w}x{screen_h} logical screen"
                    )
                width, height = max(width, x + w), max(height, y + h)
            pos += 10
            if image_flags & 0x80:
                pos += 3 << ((image_flags & 7) + 1)  # local colour table
            pos, steps = _skip_sub_blocks(data, pos + 1, steps)  # after the LZW code size
        if steps > MAX_BLOCKS:
            raise _too_long("GIF")
    if count == 0:
        raise HeaderError("GIF holds no image (no image descriptor before its end)")
    if width == 0 or height == 0:
        raise HeaderError(f"GIF declares an empty image ({width}x{height})")
    return Frames(count, width, height, beyond)


_gif_block = lazy_pattern(rb"[!,;]")


_PNG_CHUNK = struct.Struct(">I4s")
_RIFF_CHUNK = struct.Struct("<4sI")
# Same-size data blocks skipped per step of the fast path.
_RUN = 4096


def _skip_sub_blocks(data: bytes, pos: int, steps: int) -> tuple[int, int]:
    """The position after a chain of GIF data sub-blocks at ``pos``, and the steps."""
    n = len(data)
    while pos < n and steps <= MAX_BLOCKS:
        steps += 1
        size = data[pos]
        if size == 0:
            return pos + 1, steps
        stride = size + 1
        if pos + stride < n and data[pos + stride] == size:
            # Encoders write blocks of one size (255, but the last): their length bytes
            # sit a stride apart, so a strided slice finds a whole run at C speed.
            lengths = bytes(data[pos : pos + stride * _RUN : stride])
            pos += stride * (len(lengths) - len(lengths.lstrip(lengths[:1])))
        else:
            pos += stride
    return min(pos, n), steps


# --- APNG ------------------------------------------------------------------------------


def _png_frames(data: bytes) -> Frames:
    header = read_header(data, "PNG")
    assert header.width is not None and header.height is not None
    width, height = header.width, header.height
    n = len(data)
    pos = 33  # after the signature and IHDR
    declared: int | None = None
    animated = False
    fctl = 0
    default_image = False
    seen_idat = False
    steps = 0
    while pos + 8 <= n:
        steps += 1
        if steps > MAX_BLOCKS:
            raise _too_long("PNG")
        length, ctype = _PNG_CHUNK.unpack_from(data, pos)
        body = pos + 8
        if ctype == b"IDAT":
            if not animated:
                return Frames(1, width, height)  # a still image: nothing more to read
            if not seen_idat and fctl == 0:
                default_image = True  # shown as an extra frame before the animation
            seen_idat = True
        elif ctype == b"acTL" and not seen_idat:
            if length < 8 or body + 8 > n:
                raise HeaderError("APNG acTL chunk is cut short")
            (frames,) = struct.unpack_from(">I", data, body)
            # As Pillow reads it: a second acTL, or a count of 0 or over 2**31, makes
            # the file a still image (its IDAT).
            valid = declared is None and 0 < frames <= 0x80000000
            declared, animated = frames, valid
        elif ctype == b"fcTL":
            if length < 26 or body + 26 > n:
                raise HeaderError("APNG fcTL chunk is cut short")
            w, h, x, y = struct.unpack_from(">IIII", data, body + 4)
            fctl += 1
            if w == 0 or h == 0 or x + w > width or y + h > height:
                raise HeaderError(
                    f"APNG frame {fctl} is {w}x{h} at ({x}, {y}), outside its "
                    f"{width}x{height} canvas"
                )
        elif ctype == b"IEND":
            break
        pos = body + length + 4
    if not animated:
        return Frames(1, width, height)
    assert declared is not None
    # Pillow composes the declared frames that the file really holds, and a default
    # image before them.
    return Frames(max(1, min(declared, fctl) + default_image), width, height)


# --- WebP ------------------------------------------------------------------------------


def _webp_frames(data: bytes) -> Frames:
    header = read_header(data, "WEBP")
    assert header.width is not None and header.height is not None
    width, height = header.width, header.height
    if data[12:16] != b"VP8X":
        return Frames(1, width, height)  # a simple WebP: the bitstream is the header
    animated = bool(data[20] & 0x02)
    (riff,) = struct.unpack_from("<I", data, 4)
    end = min(len(data), riff + 8)
    (first,) = struct.unpack_from("<I", data, 16)
    pos = 20 + first + (first & 1)
    count = 0
    steps = 0
    while pos + 8 <= end:
        steps += 1
        if steps > MAX_BLOCKS:
            raise _too_long("WebP")
        fourcc, size = _RIFF_CHUNK.unpack_from(data, pos)
        body = pos + 8
        if fourcc == b"ANMF" and animated:
            count += 1
            _check_anmf(data, body, min(end, body + size), count, width, height)
        elif fourcc in (b"VP8 ", b"VP8L") and not animated:
            w, h = bitstream_size(data, body, fourcc)
            if (w, h) != (width, height):
                raise HeaderError(f"WebP canvas is {width}x{height} but its image is {w}x{h}")
            return Frames(1, width, height)
        pos = body + size + (size & 1)
    if animated and count == 0:
        raise HeaderError("animated WebP holds no frame (no ANMF chunk)")
    return Frames(max(count, 1), width, height)


def _check_anmf(data: bytes, body: int, end: int, index: int, width: int, height: int) -> None:
    """Check one ``ANMF`` frame: inside the canvas, and its pixels the size it says."""
    if body + 16 > end:
        raise HeaderError(f"WebP frame {index} is cut short")
    x = 2 * int.from_bytes(data[body : body + 3], "little")
    y = 2 * int.from_bytes(data[body + 3 : body + 6], "little")
    w = 1 + int.from_bytes(data[body + 6 : body + 9], "little")
    h = 1 + int.from_bytes(data[body + 9 : body + 12], "little")
    if x + w > width or y + h > height:
        raise HeaderError(
            f"WebP frame {index} is {w}x{h} at ({x}, {y}), outside its {width}x{height} canvas"
        )
    pos = body + 16
    while pos + 8 <= end:  # the frame's own chunks: ALPH, then VP8 or VP8L
        fourcc, size = _RIFF_CHUNK.unpack_from(data, pos)
        if fourcc in (b"VP8 ", b"VP8L"):
            bits_w, bits_h = bitstream_size(data, pos + 8, fourcc)
            if (bits_w, bits_h) != (w, h):
                raise HeaderError(
                    f"WebP frame {index} says it is {w}x{h} but its image is {bits_w}x{bits_h}"
                )
            return
        pos += 8 + size + (size & 1)
    raise HeaderError(f"WebP frame {index} holds no image")

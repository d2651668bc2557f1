"""Image formats from magic bytes: identification, header dimensions, cheap integrity checks.

Everything here reads only headers and chunk framing, never pixels, so it is safe on
hostile input (a decompression bomb costs nothing here) and fast: the default decode path
never touches Pillow. Full pixel decoding lives in `imgcall.decoding`.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

from ._accel import crc32
from ._lazyre import lazy_pattern

__all__ = [
    "FORMATS",
    "FormatInfo",
    "Header",
    "declared_format",
    "fast_check",
    "has_c2pa",
    "png_check",
    "read_header",
    "sniff",
]


class FormatInfo(NamedTuple):
    """What imgcall knows about one supported format."""

    name: str
    mime: str
    extension: str


FORMATS: dict[str, FormatInfo] = {
    "PNG": FormatInfo("PNG", "image/png", "png"),
    "JPEG": FormatInfo("JPEG", "image/jpeg", "jpg"),
    "WEBP": FormatInfo("WEBP", "image/webp", "webp"),
    "GIF": FormatInfo("GIF", "image/gif", "gif"),
    "SVG": FormatInfo("SVG", "image/svg+xml", "svg"),
}

# Names an API may declare (output_format, media_type, data-URL MIME) -> format.
_DECLARED = {
    "png": "PNG",
    "image/png": "PNG",
    "jpeg": "JPEG",
    "jpg": "JPEG",
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "webp": "WEBP",
    "image/webp": "WEBP",
    "gif": "GIF",
    "image/gif": "GIF",
    "svg": "SVG",
    "svg+xml": "SVG",
    "image/svg+xml": "SVG",
}

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_svg_start = lazy_pattern(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml|<svg|<!--|<!DOCTYPE\s+svg)", re.I)

_svg_tag = lazy_pattern(rb"<svg[\s>/]", re.I)


def declared_format(value: object) -> str | None:
    """Map an API's declared format (``"png"``, ``"image/jpeg"``, ...) to a format name."""
    if not isinstance(value, str):
        return None
    return _DECLARED.get(value.strip().lower().split(";")[0])


def sniff(data: bytes) -> str | None:
    """Identify the format from the leading bytes; ``None`` if not a supported image."""
    # Slices, not bytes methods: ``data`` may also be a memory map (`imgcall.staging`).
    if data[:8] == _PNG_MAGIC:
        return "PNG"
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    head = data[:4096]
    if _svg_start().match(head) and _svg_tag().search(head):
        return "SVG"
    return None


class Header(NamedTuple):
    """Dimensions read from an image header without decoding any pixel."""

    width: int | None
    height: int | None


class HeaderError(ValueError):
    """The header is missing or malformed; the message says what is wrong."""


def read_header(data: bytes, fmt: str) -> Header:
    """Width and height from the header of ``data`` in format ``fmt``.

    Raises `HeaderError` when the header is cut short or malformed.
    """
    if fmt == "PNG":
        return _png_header(data)
    if fmt == "JPEG":
        return _jpeg_header(data)
    if fmt == "GIF":
        if len(data) < 10:
            raise HeaderError("GIF header is cut short")
        w, h = struct.unpack_from("<HH", data, 6)
        return Header(w, h)
    if fmt == "WEBP":
        return _webp_header(data)
    return Header(None, None)  # SVG: size is in markup, not a fixed header


def _png_header(data: bytes) -> Header:
    if len(data) < 33:
        raise HeaderError(f"PNG is cut short ({len(data)} bytes, header needs 33)")
    length, ctype = struct.unpack_from(">I4s", data, 8)
    if ctype != b"IHDR" or length != 13:
        raise HeaderError("PNG does not start with an IHDR chunk")
    w, h = struct.unpack_from(">II", data, 16)
    if w == 0 or h == 0:
        raise HeaderError(f"PNG header declares an empty image ({w}x{h})")
    return Header(w, h)


# SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_header(data: bytes) -> Header:
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise HeaderError(f"JPEG marker expected at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            break
        (seglen,) = struct.unpack_from(">H", data, pos + 2)
        if seglen < 2:
            raise HeaderError(f"JPEG segment at byte {pos} has a bad length")
        if marker in _SOF:
            if pos + 9 > n:
                break
            h, w = struct.unpack_from(">HH", data, pos + 5)
            if w == 0 or h == 0:
                raise HeaderError(f"JPEG frame declares an empty image ({w}x{h})")
            return Header(w, h)
        pos += 2 + seglen
    raise HeaderError("JPEG has no frame header (SOF) before its end")


def _webp_header(data: bytes) -> Header:
    if len(data) < 30:
        raise HeaderError(f"WebP is cut short ({len(data)} bytes)")
    chunk = data[12:16]
    if chunk in (b"VP8 ", b"VP8L"):
        return Header(*bitstream_size(data, 20, chunk))
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return Header(w, h)
    raise HeaderError(f"WebP has an unknown first chunk {chunk!r}")


def bitstream_size(data: bytes, pos: int, fourcc: bytes) -> tuple[int, int]:
    """The size in a ``VP8 `` or ``VP8L`` bitstream whose payload starts at ``pos``."""
    if pos + 10 > len(data):
        raise HeaderError(f"WebP {fourcc.decode('latin-1').strip()} frame is cut short")
    if fourcc == b"VP8 ":
        if data[pos + 3 : pos + 6] != b"\x9d\x01\x2a":
            raise HeaderError("WebP VP8 frame has a bad start code")
        w, h = struct.unpack_from("<HH", data, pos + 6)
        return w & 0x3FFF, h & 0x3FFF
    if data[pos] != 0x2F:
        raise HeaderError("WebP VP8L frame has a bad signature")
    bits = int.from_bytes(data[pos + 1 : pos + 5], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def fast_check(data: bytes, fmt: str) -> str | None:
    """Cheap truncation/corruption check; returns a reason, or ``None`` if it looks whole.

    PNG: every chunk's CRC and a final IEND. JPEG: an end-of-image marker. WebP: the RIFF
    length matches the data. GIF: the trailer byte. SVG: a closing ``</svg>`` tag.
    """
    if fmt == "PNG":
        return _png_check(data)
    if fmt == "JPEG":
        tail = data[-1024:].rstrip(b"\x00")
        if not tail.endswith(b"\xff\xd9"):
            return "JPEG has no end-of-image marker (the data is cut short)"
        return None
    if fmt == "WEBP":
        (riff,) = struct.unpack_from("<I", data, 4)
        if riff + 8 > len(data):
            return (
                f"WebP is cut short: its RIFF header says {riff + 8} bytes, "
                f"only {len(data)} present"
            )
        return None
    if fmt == "GIF":
        last = _last_non_nul(data)
        if last < 0 or data[last] != 0x3B:  # ";"
            return "GIF has no trailer byte (the data is cut short)"
        return None
    if fmt == "SVG":
        if b"</svg" not in data[-4096:].lower():
            return "SVG has no closing </svg> tag (the markup is cut short)"
        return None
    return None


def _png_check(data: bytes) -> str | None:
    return png_check(data)[0]


def png_check(data: bytes) -> tuple[str | None, bool]:
    """`fast_check` for a PNG, and whether the chunks it walked hold a C2PA ``caBX``
    chunk (what `has_c2pa` finds, once the check passed), so that one walk does both."""
    view = memoryview(data)
    pos, n = 8, len(data)
    c2pa = False
    while True:
        if pos + 12 > n:
            return f"PNG is cut short at byte {n}: no IEND chunk", c2pa
        length, ctype = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > n:
            return f"PNG chunk {_chunk_name(ctype)} at byte {pos} is cut short", c2pa
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if crc32(view[pos + 4 : end - 4]) != crc:
            return f"PNG chunk {_chunk_name(ctype)} at byte {pos} fails its CRC check", c2pa
        if ctype == b"IEND":
            return None, c2pa
        if ctype == b"caBX":
            c2pa = True
        pos = end


def _last_non_nul(data: bytes) -> int:
    """Index of the last byte that is not NUL padding, or -1; read from the end in
    slices, so that it works on any buffer (bytes or a memory map)."""
    end = len(data)
    while end > 0:
        start = max(0, end - 65536)
        kept = len(bytes(data[start:end]).rstrip(b"\x00"))
        if kept:
            return start + kept - 1
        end = start
    return -1


def _chunk_name(ctype: bytes) -> str:
    return ctype.decode("latin-1") if ctype.isalpha() else repr(ctype)


# --- C2PA provenance: is a manifest embedded? -------------------------------------------
#
# Found from the container's framing alone, the way a C2PA reader finds it first: a PNG
# ``caBX`` chunk, a JPEG APP11 segment holding a JUMBF box labelled ``c2pa``, a WebP
# ``C2PA`` chunk. Nothing is parsed, decoded or validated (that is `imgcall.provenance`,
# with the optional c2pa-python); a walk costs one header read per chunk or segment.


def has_c2pa(data: bytes, fmt: str) -> bool:
    """True when ``data`` (an image in format ``fmt``) carries an embedded C2PA manifest.

    PNG: a ``caBX`` chunk; JPEG: an APP11 JUMBF segment whose box is labelled ``c2pa``;
    WebP: a ``C2PA`` chunk. Other formats, damaged framing and a remote-only manifest
    (a reference, no embedded store) give ``False``. Never raises.
    """
    try:
        if fmt == "PNG":
            return _png_has_c2pa(data)
        if fmt == "JPEG":
            return _jpeg_has_c2pa(data)
        if fmt == "WEBP":
            return _webp_has_c2pa(data)
    except (struct.error, IndexError, ValueError):
        return False
    return False


def _png_has_c2pa(data: bytes) -> bool:
    pos, n = 8, len(data)
    while pos + 8 <= n:
        length, ctype = struct.unpack_from(">I4s", data, pos)
        if ctype == b"caBX":
            return True
        if ctype == b"IEND":
            return False
        pos += 12 + length
    return False


def _jpeg_has_c2pa(data: bytes) -> bool:
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # metadata segments all come before the scan
            return False
        (seglen,) = struct.unpack_from(">H", data, pos + 2)
        if seglen < 2:
            return False
        if marker == 0xEB and _jumbf_is_c2pa(bytes(data[pos + 4 : pos + 4 + 40])):
            return True
        pos += 2 + seglen
    return False


def _jumbf_is_c2pa(head: bytes) -> bool:
    # APP11 payload: "JP", box instance (2), sequence number (4), then the JUMBF
    # superbox ("jumb") whose description box ("jumd") starts with the c2pa type UUID.
    return head[:2] == b"JP" and head[12:16] == b"jumb" and b"c2pa" in head[16:40]


def _webp_has_c2pa(data: bytes) -> bool:
    pos, n = 12, len(data)
    while pos + 8 <= n:
        fourcc = data[pos : pos + 4]
        if fourcc == b"C2PA":
            return True
        (size,) = struct.unpack_from("<I", data, pos + 4)
        pos += 8 + size + (size & 1)
    return False

"""``embed_metadata``: the prompt and ids written into the image file itself, on request.

PNG gets ``iTXt`` chunks (UTF-8 text: ``Description`` for the prompt, which viewers
show, and namespaced ``imgcall:id``, ``imgcall:custom_id``, ...); JPEG and WebP get an
XMP packet (``dc:description`` and the same fields in an ``imgcall`` namespace), in an
APP1 segment or an ``XMP`` chunk. The pixels and every other byte are kept as they are:
chunks are inserted into the container, nothing is re-encoded.

Refused, with a reason the caller reports as a warning, for:

- a file that carries C2PA provenance: its signature hashes the file's bytes, so any
  insertion would turn valid credentials into "tampered" (the manifest and sidecar
  carry the same facts instead);
- a JPEG or WebP that already has XMP (imgcall does not merge into someone's packet);
- GIF and SVG, which have no standard place for it; and a packet too large for a JPEG
  segment (64 kB).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from xml.sax.saxutils import escape

from .formats import has_c2pa, read_header

__all__ = ["XMP_NAMESPACE", "embed_metadata", "metadata_fields"]

XMP_NAMESPACE = "urn:imgcall:xmp:1.0/"
"""The XML namespace of imgcall's fields in XMP (prefix ``imgcall``)."""

_FIELDS = ("id", "custom_id", "response_id", "prompt")
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_MAX_APP1 = 65533 - len(_XMP_HEADER)


def metadata_fields(
    *, id: str, custom_id: str | None, response_id: str | None, prompt: str | None
) -> dict[str, str]:
    """The fields to embed, without the empty ones."""
    given = {"id": id, "custom_id": custom_id, "response_id": response_id, "prompt": prompt}
    return {k: v for k, v in given.items() if isinstance(v, str) and v}


def embed_metadata(data: bytes, fmt: str, fields: Mapping[str, str]) -> tuple[bytes, str | None]:
    """``(new bytes, None)``, or ``(data unchanged, why not)`` when it is refused.

    ``fields`` holds some of ``id``, ``custom_id``, ``response_id`` and ``prompt``.
    Never raises for odd input: a container it cannot follow is a refusal.
    """
    if has_c2pa(data, fmt):
        return data, (
            "metadata not embedded: the file carries C2PA provenance, whose signature "
            "writing into it would break (the manifest and sidecar hold the same facts)"
        )
    try:
        if fmt == "PNG":
            return _png(data, fields), None
        if fmt == "JPEG":
            return _jpeg(data, fields)
        if fmt == "WEBP":
            return _webp(data, fields)
    except (struct.error, IndexError, ValueError) as exc:
        return data, f"metadata not embedded: the {fmt} structure could not be followed ({exc})"
    return data, f"metadata not embedded: {fmt} files have no standard place for it"


def _text(value: str) -> str:
    # XML 1.0 (and so XMP) allows no control characters but tab and newlines; a lone
    # surrogate cannot be UTF-8 at all.
    cleaned = "".join(c for c in value if c >= " " or c in "\t\n\r")
    return cleaned.encode("utf-8", "replace").decode("utf-8")


# --- PNG: iTXt chunks after IHDR ----------------------------------------------------------


def _itxt(keyword: str, text: str) -> bytes:
    body = keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + _text(text).encode("utf-8")
    return (
        struct.pack(">I", len(body))
        + b"iTXt"
        + body
        + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    )


def _png(data: bytes, fields: Mapping[str, str]) -> bytes:
    (length,) = struct.unpack_from(">I", data, 8)
    if data[12:16] != b"IHDR":
        raise ValueError("no IHDR chunk")
    end_of_ihdr = 8 + 12 + length
    chunks = []
    if "prompt" in fields:
        chunks.append(_itxt("Description", fields["prompt"]))
    chunks.extend(_itxt(f"imgcall:{key}", fields[key]) for key in _FIELDS if key in fields)
    return bytes(data[:end_of_ihdr]) + b"".join(chunks) + bytes(data[end_of_ihdr:])


# --- XMP for JPEG and WebP ------------------------------------------------------------------


def _xmp(fields: Mapping[str, str]) -> bytes:
    parts = []
    if "prompt" in fields:
        parts.append(
            '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{escape(_text(fields['prompt']))}</rdf:li></rdf:Alt></dc:description>"
        )
    parts.extend(
        f"<imgcall:{key}>{escape(_text(fields[key]))}</imgcall:{key}>"
        for key in _FIELDS
        if key in fields
    )
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:imgcall="{XMP_NAMESPACE}">{"".join(parts)}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def _jpeg(data: bytes, fields: Mapping[str, str]) -> tuple[bytes, str | None]:
    packet = _xmp(fields)
    if len(packet) > _MAX_APP1:
        return data, "metadata not embedded: it is too long for a JPEG XMP segment (64 kB)"
    # Insert after the leading APPn segments (JFIF, Exif), before the tables.
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and 0xE0 <= data[pos + 1] <= 0xEF:
        (seglen,) = struct.unpack_from(">H", data, pos + 2)
        if data[pos + 1] == 0xE1 and data[pos + 4 : pos + 4 + len(_XMP_HEADER)] == _XMP_HEADER:
            return data, "metadata not embedded: the JPEG already has XMP metadata"
        pos += 2 + seglen
    if pos > len(data):
        raise ValueError("a segment runs past the end")
    payload = _XMP_HEADER + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return bytes(data[:pos]) + segment + bytes(data[pos:]), None


_VP8X_XMP = 0x04
_VP8X_ALPHA = 0x10


def _webp(data: bytes, fields: Mapping[str, str]) -> tuple[bytes, str | None]:
    body = bytes(data[12 : 8 + struct.unpack_from("<I", data, 4)[0]])
    pos = 0
    while pos + 8 <= len(body):
        if body[pos : pos + 4] == b"XMP ":
            return data, "metadata not embedded: the WebP already has XMP metadata"
        (size,) = struct.unpack_from("<I", body, pos + 4)
        pos += 8 + size + (size & 1)
    first = body[:4]
    if first == b"VP8X":
        flags = body[8] | _VP8X_XMP
        body = body[:8] + bytes([flags]) + body[9:]
    elif first in (b"VP8 ", b"VP8L"):
        header = read_header(data, "WEBP")
        assert header.width is not None and header.height is not None
        alpha = first == b"VP8L" and bool(int.from_bytes(body[9:13], "little") >> 28 & 1)
        flags = _VP8X_XMP | (_VP8X_ALPHA if alpha else 0)
        vp8x = (
            bytes([flags, 0, 0, 0])
            + (header.width - 1).to_bytes(3, "little")
            + (header.height - 1).to_bytes(3, "little")
        )
        body = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + body
    else:
        raise ValueError(f"unknown first chunk {first!r}")
    packet = _xmp(fields)
    chunk = (
        b"XMP " + struct.pack("<I", len(packet)) + packet + (b"\x00" if len(packet) & 1 else b"")
    )
    body = body + chunk
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body, None

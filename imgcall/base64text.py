"""The base64 layer: an item's ``result`` text (base64 or a ``data:`` URL) to bytes.

Decoding is strict: whitespace, missing padding, the URL-safe alphabet and a ``data:``
prefix are tolerated, but any other character is an `InvalidBase64Error` naming its
offset, never silently dropped. Well-formed input takes a validating fast path (pybase64's);
only input that fails it is re-read character by character to say what is wrong. What
the bytes are (format, size, integrity) is `imgcall.decoding`'s job. Named so as not to
be mistaken for the standard library's ``base64``.
"""

from __future__ import annotations

import binascii
import re
import urllib.parse

from . import _accel
from ._lazyre import lazy_pattern
from .errors import EmptyResultError, ImageTooLargeError, InvalidBase64Error, UnsupportedResultError
from .lazytext import LazyText

__all__ = ["base64_view", "check_size", "decode_base64", "refuse_oversize"]

_DATA_URL = re.compile(r"data:([^,;]*)((?:;[^,;]*)*),", re.I)
_b64_alphabet = lazy_pattern(r"[^A-Za-z0-9+/=\-_]")


_WHITESPACE = str.maketrans("", "", " \t\r\n\f\v")
_URLSAFE = str.maketrans("-_", "+/")
# Whitespace is tolerated, so it must not count as a bad character; map it to "A".
_WHITESPACE_KEEP = str.maketrans(" \t\r\n\f\v", "AAAAAA")


def decode_base64(text: str, *, max_bytes: int | None = None) -> tuple[bytes, str | None]:
    """Strictly decode base64 text or a ``data:`` URL; returns ``(bytes, declared MIME)``.

    Tolerated: a ``data:image/...;base64,`` prefix, whitespace, missing padding, and the
    URL-safe alphabet. Any other character is an `InvalidBase64Error` with its offset;
    nothing is silently dropped. An http(s) URL is an `UnsupportedResultError`.

    ``text`` may be a `LazyText` still in the input buffer: plain base64 (bare or in a
    ``data:`` URL) is then decoded from there, without first copying it into a string.
    """
    if isinstance(text, LazyText):
        payload_view, declared = base64_view(text)
        refuse_oversize(len(payload_view), max_bytes)
        try:
            return _accel.b64decode(payload_view), declared
        except (binascii.Error, ValueError):
            # Escapes, whitespace, padding: read the text and take the careful path.
            text = text.text()
    mime: str | None = None
    payload = text
    start = 0
    head = text[:16].lstrip().lower()
    if head.startswith(("http://", "https://")):
        raise UnsupportedResultError(
            f"the result is a URL ({_shorten(text.strip())}), not image data; "
            "imgcall never fetches URLs"
        )
    if head.startswith("data:"):
        start = len(text) - len(text.lstrip())
        match = _DATA_URL.match(text, start)
        if match is None:
            raise InvalidBase64Error("malformed data: URL (no ',' before the data)", offset=0)
        mime = match.group(1).strip() or None
        start = match.end()
        payload = text[start:]
        if "base64" not in _params(match):
            # A plain data URL is percent-encoded text (used for SVG markup).
            data = urllib.parse.unquote_to_bytes(payload)
            if not data.strip():
                raise EmptyResultError("the data: URL holds no data")
            check_size(len(data), max_bytes)
            return data, mime
    if not payload.strip():
        raise EmptyResultError("the result holds no base64 data")
    refuse_oversize(len(payload), max_bytes)
    try:
        # Fast path: well-formed base64 decodes at tens of GB/s with validation.
        return _accel.b64decode(payload), mime
    except (binascii.Error, ValueError):
        pass
    return _decode_lenient(payload, start), mime


def base64_view(text: LazyText) -> tuple[memoryview, str | None]:
    """The base64 part of a string still in the input buffer, and the MIME type it declares.

    For a ``data:<mime>[;...];base64,`` URL that is what follows the comma, and its
    MIME type; for anything else, the whole string and ``None``. Only a fast path: if
    the part is not plain base64, `decode_base64` reads the whole text carefully.
    """
    raw = text.raw
    if raw[:5].tobytes() != b"data:":
        return raw, None
    match = _DATA_URL.match(str(raw[:1024], "latin-1"))
    if match is None or "base64" not in _params(match):
        return raw, None
    return raw[match.end() :], match.group(1).strip() or None


def _params(match: re.Match[str]) -> list[str]:
    return [p.strip().lower() for p in match.group(2).split(";") if p.strip()]


def refuse_oversize(chars: int, max_bytes: int | None) -> None:
    """Raise `ImageTooLargeError` if ``chars`` of base64 would clearly decode to more
    than ``max_bytes``: checked before decoding anything."""
    # The margin covers whitespace and padding; the exact size is checked after decoding.
    estimate = chars * 3 // 4
    if max_bytes is not None and estimate > max_bytes + max_bytes // 16 + 3:
        check_size(estimate, max_bytes, estimate=True)


def _decode_lenient(payload: str, start: int) -> bytes:
    bad = _b64_alphabet().search(payload.translate(_WHITESPACE_KEEP))
    if bad is not None:
        char = bad.group()
        raise InvalidBase64Error(
            f"result is not valid base64: character {char!r} at offset "
            f"{start + bad.start()} is not in the base64 alphabet",
            offset=start + bad.start(),
        )
    compact = payload.translate(_WHITESPACE).translate(_URLSAFE)
    body = compact.rstrip("=")
    if "=" in body:
        pos = _original_offset(payload, body.index("="))
        raise InvalidBase64Error(
            f"result is not valid base64: padding '=' inside the data at offset {start + pos}",
            offset=start + pos,
        )
    if len(body) % 4 == 1:
        raise InvalidBase64Error(
            f"result is not valid base64: {len(body)} characters cannot encode whole "
            "bytes (the data is cut short or has an extra character)",
            offset=start + len(payload),
        )
    body += "=" * (-len(body) % 4)
    try:
        return _accel.b64decode(body)
    except (binascii.Error, ValueError) as exc:
        raise InvalidBase64Error(f"result is not valid base64: {exc}") from exc


def _original_offset(payload: str, compact_index: int) -> int:
    seen = -1
    for i, ch in enumerate(payload):
        if ch not in " \t\r\n\f\v":
            seen += 1
            if seen == compact_index:
                return i
    return len(payload)


def check_size(n: int, max_bytes: int | None, *, estimate: bool = False) -> None:
    """Raise `ImageTooLargeError` if ``n`` bytes (or about ``n``) exceed ``max_bytes``."""
    if max_bytes is not None and n > max_bytes:
        what = "would decode to about" if estimate else "is"
        raise ImageTooLargeError(
            f"the image {what} {n:,} bytes, over the limit of {max_bytes:,} bytes "
            "(raise Limits(max_bytes=...) to allow it)"
        )


def _shorten(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."

"""Finding images by their content, where no known shape claims a JSON value.

Strings are images when their bytes say so: a ``data:`` URL of base64 whose MIME type
is ``image/...`` or whose bytes start like an image, and base64 text of at least 64
characters whose decoded start is a PNG, JPEG, WebP or GIF signature. Long base64 that
is something else (Gemini's ``thoughtSignature``, audio, embeddings) costs a look at its
first 24 characters and nothing more: the text is never decoded or copied.

Objects found on the way down that a known reader claims (a Gemini response inside an
unknown wrapper, say) are handed to that reader, so they are read by shape after all.
Each image found by content gets a stable id from its location and a note naming that
location, which becomes a warning of the decoded image.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .. import _accel
from ..framing import to_json_value
from ..items import Location
from ..lazytext import LazyText
from ._base import Found, base_id, synthetic

if TYPE_CHECKING:
    from . import Walker

__all__ = ["MIN_BASE64", "discover", "image_string"]

MIN_BASE64 = 64
"""Shorter bare base64 strings are never taken for images (the SPEC's threshold)."""

_DATA_URL = re.compile(r"\s*data:([^,;]{0,100})((?:;[^,;]{0,200}){0,16}),", re.I)
_BASE64_HEAD = re.compile(r"[A-Za-z0-9+/_-]{24}")
_URLSAFE = str.maketrans("-_", "+/")
_SPACE = str.maketrans("", "", "\r\n")  # wrapped base64, never prose


def image_string(value: object) -> bool:
    """True if ``value`` is a string whose content is an image (see the module doc)."""
    if not isinstance(value, str):
        return False
    if isinstance(value, LazyText):
        size = value.size
        head = str(value.raw[:1024], "latin-1")
    else:
        size = len(value)
        if size < 30:
            return False
        head = value[:1024]
    match = _DATA_URL.match(head)
    if match is not None:
        if ";base64" not in match.group(2).lower():
            return False
        if match.group(1).strip().lower().startswith("image/"):
            return True
        return _starts_like_an_image(head[match.end() :])
    return size >= MIN_BASE64 and _starts_like_an_image(head)


def _starts_like_an_image(text: str) -> bool:
    chunk = text.lstrip()[:40].translate(_SPACE)
    if _BASE64_HEAD.match(chunk) is None:
        return False
    try:
        start = _accel.b64decode(chunk[:24].translate(_URLSAFE))
    except (binascii.Error, ValueError):
        return False
    return (
        start[:8] == b"\x89PNG\r\n\x1a\n"
        or start[:3] == b"\xff\xd8\xff"
        or start[:6] in (b"GIF87a", b"GIF89a")
        or (start[:4] == b"RIFF" and start[8:12] == b"WEBP")
    )


def discover(
    value: Any, location: Location, context: Mapping[str, Any], walker: Walker
) -> Iterator[Found]:
    """Every image in ``value`` found by content, in document order.

    The walk keeps its own stack, so a deeply nested value cannot exhaust Python's.
    """
    stack: list[Iterator[tuple[Any, Location]]] = [iter([(value, location)])]
    first = True
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        node, where = step
        node = to_json_value(node, where)
        if isinstance(node, Mapping):
            reader = None if first else walker.reader_for(node)
            if reader is not None:
                yield from reader.read(node, where, context)
            else:
                stack.append(_children(node.items(), where))
        elif isinstance(node, (list, tuple)):
            stack.append(_children(enumerate(node), where))
        elif image_string(node):
            yield _found(node, where, context)
        first = False


def _children(pairs: Any, where: Location) -> Iterator[tuple[Any, Location]]:
    for key, child in pairs:
        yield child, where.child(key)


def _found(text: str, location: Location, context: Mapping[str, Any]) -> Found:
    slug = "-".join(part for part in location.pointer.split("/") if part) or "root"
    image_id = f"{base_id(context, location)}-{slug}"
    note = (
        f"found by its content at {location} (no known shape holds it); "
        "pass discover=False or --no-discover to ignore such images"
    )
    return synthetic(image_id, text, location, context, notes=(note,))

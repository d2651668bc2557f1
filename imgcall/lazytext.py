"""Long string values left in the input buffer until an item needs them.

A response or batch line holding images is mostly a few long base64 strings.
`imgcall.jsonparse` leaves each of them where it lies in the input (a buffer or a memory
map) and puts a `LazyText` in the parsed value instead; the decoder reads the base64
straight from there (`imgcall.base64text`, `imgcall.staging`), and `materialized` swaps
every `LazyText` of a value for its text where a whole string is needed (validating an
item with pydantic, shipping one to another process).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["PROBE", "LazyText", "materialized"]

PROBE = 64
"""Characters of a long string kept as the `LazyText`'s own value (and what the parser's
probe for a long base64 string looks at)."""


class LazyText(str):
    """A long string value still in the input buffer, read in full on demand.

    Its own value is the string's first characters, so prefix checks (``data:``,
    ``http``) and truthiness work as on the real string; `text` returns the whole
    string. `materialized` swaps these for their text in a copy of a value, which is
    how an item is validated (`imgcall.models`): each image's text then exists only
    while that item is handled, and its memory is reused for the next one.
    """

    _raw: memoryview

    def __new__(cls, raw: memoryview) -> LazyText:
        self = super().__new__(cls, str(raw[:PROBE], "latin-1"))
        self._raw = raw
        return self

    @property
    def raw(self) -> memoryview:
        """The string literal's bytes as they are in the input, escapes and all."""
        return self._raw

    @property
    def size(self) -> int:
        """The length of the literal in the input, in bytes."""
        return len(self._raw)

    def text(self) -> str:
        """The whole string, decoded (escapes and non-ASCII by JSON's own rules)."""
        return _string(self._raw)


def materialized(value: Any) -> Any:
    """``value`` with every `LazyText` in it replaced by its text.

    Containers are copied only where something changed; the input is never modified.
    """
    if isinstance(value, LazyText):
        return value.text()
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            new = materialized(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = [materialized(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _string(raw: memoryview) -> str:
    """The text of one lifted string literal, decoded by JSON's rules where needed."""
    try:
        text = str(raw, "ascii")
    except UnicodeDecodeError:
        text = ""
    if text and "\\" not in text:
        return text
    # Escapes (such as PHP's \/) or non-ASCII: let the parser decode this one string.
    literal = b'"' + bytes(raw) + b'"'
    try:
        decoded = json.loads(str(literal, "utf-8", "replace"), strict=False)
    except ValueError:
        # An invalid escape: keep the text as it is; the base64 decoder then names the
        # offending character and its offset.
        return str(raw, "utf-8", "replace")
    assert isinstance(decoded, str)
    if not decoded.isascii():
        from .oddities import clean

        decoded, _ = clean(decoded, in_place=True)  # a lone surrogate is not base64 anyway
    return str(decoded)

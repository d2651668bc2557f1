"""JSON parsing tuned for payloads that are mostly long base64 strings.

A response holding ten images is ~40 MB of JSON of which all but a few kB are ten
base64 strings. A general parser validates and copies every byte of them. `parse_json`
instead finds each long base64 string literal (a regular-expression probe, then
``find`` for the closing quote, which runs at memory speed), parses the small remainder,
and puts back a `LazyText` for each string, which reads it from the buffer only when an
item needs it. After `materialized`, the result is what ``pydantic_core.from_json``
returns for valid JSON (bar the one difference below); anything the fast path is unsure
of (a clash with the placeholder text, a parse error) falls back to parsing the whole
text, so errors keep their exact positions.

The few kB that remain are parsed with the standard library's ``json``: importing
pydantic_core costs ~20 ms at every start of the command line, more than parsing a
response. The two agree on valid documents except lone surrogate escapes
(``"\\ud800"``), which pydantic_core refuses, and nesting deeper than its limit of 200
levels, which ``json`` reads. Text holding a surrogate escape is handed to pydantic_core,
so the nesting depth is the one difference; an error message is always pydantic_core's
(`JSONError`), so errors read as before.

A long string is lifted out only where JSON allows a value to start (after ``:``,
``,`` or ``[``), never as an object key, and only if it starts with base64 characters
(after a ``data:...;base64,`` header, if any);
one holding an escape (such as PHP's escaped slashes) or non-ASCII text is decoded by the
parser's own rules, so no valid document is read differently. (A raw control character
inside such a string, which strict JSON forbids, is left for the base64 decoder to report
with its offset.)
"""

from __future__ import annotations

import json
import mmap
import re
from typing import Any, Union

__all__ = ["JSONError", "LazyText", "materialized", "parse_json"]

# Below these sizes the plain parser is as fast and the probe is not worth it.
_MIN_DOCUMENT = 256 * 1024
_MIN_STRING = 16 * 1024
_PROBE = 64
# Texts at least this long are parsed with pydantic_core once more than _NATIVE_AFTER of
# them have been seen in this process (see `_loads`).
_NATIVE_TEXT = 8 * 1024
_NATIVE_AFTER = 32
_long_texts = 0

# A string of base64 characters, or a data: URL of base64 (chat completions send images
# as ``data:image/png;base64,...``): the decoder reads the URL's header itself.
_CANDIDATE = re.compile(
    rb'"(?=(?:data:[\w.+/-]{0,100}(?:;[\w.+=-]{0,100}){0,8};base64,)?[A-Za-z0-9+/=_-]{%d})' % _PROBE
)
_PLACEHOLDER = "\x00imgcall-string:"
_PLACEHOLDER_JSON = b"\\u0000imgcall-string:"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_VALUE_START = frozenset(b":,[")
_WHITESPACE = frozenset(b" \t\r\n")


Buffer = Union[bytes, bytearray, mmap.mmap]


def parse_json(data: Buffer, start: int = 0, end: int | None = None) -> Any:
    """Parse JSON text as ``pydantic_core.from_json`` does, fast when long strings dominate.

    ``data`` may be a memory map, and ``start``/``end`` select the text inside it (one
    line of a JSON Lines file): only the small remainder is copied out. Raises
    `ValueError` for invalid JSON, with pydantic_core's message (line and column).
    """
    if end is None:
        end = len(data)
    if end - start < _MIN_DOCUMENT:
        return _from_json(data, start, end)
    spans = _long_strings(data, start, end)
    if not spans:
        return _from_json(data, start, end)
    pieces: list[bytes | memoryview] = []
    # No context manager: the LazyText values keep slices of this view (and so the
    # buffer, or the memory map) alive until the scanner has read them.
    view = memoryview(data)
    pos = start
    for index, (open_quote, close_quote) in enumerate(spans):
        pieces.append(view[pos:open_quote])
        pieces.append(b'"%s%d"' % (_PLACEHOLDER_JSON, index))
        pos = close_quote + 1
    pieces.append(view[pos:end])
    small = b"".join(pieces)
    if small.count(_PLACEHOLDER_JSON) != len(spans):
        # The text itself holds the placeholder marker: never confuse the two.
        return _from_json(data, start, end)
    try:
        value = _loads(small)
    except ValueError:
        # Let the plain parser report the error with positions in the real text.
        return _from_json(data, start, end)
    return _restore(value, [LazyText(view[a + 1 : b]) for a, b in spans])


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
        self = super().__new__(cls, str(raw[:_PROBE], "latin-1"))
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
    decoded = _loads(b'"' + bytes(raw) + b'"')
    assert isinstance(decoded, str)
    return decoded


def _from_json(data: Buffer, start: int, end: int) -> Any:
    if start == 0 and end == len(data) and isinstance(data, (bytes, bytearray)):
        return _loads(data)
    return _loads(data[start:end])


def _loads(text: bytes | bytearray) -> Any:
    """``pydantic_core.from_json(text)``, through the standard library where they agree."""
    global _long_texts
    if len(text) >= _NATIVE_TEXT:
        # pydantic_core parses a 26 kB Batch line in ~8 us, the standard library (with
        # the surrogate probe) in ~40 us; once a run has parsed a few such texts (a
        # JSON Lines file of small images), its ~20 ms import has paid for itself.
        _long_texts += 1
        if _long_texts > _NATIVE_AFTER:
            import pydantic_core

            return pydantic_core.from_json(text)
    if _SURROGATE_ESCAPE.search(text) is None:
        try:
            return json.loads(text.decode("utf-8"))
        except json.JSONDecodeError:
            raise JSONError(text) from None
        except (ValueError, RecursionError):
            pass  # invalid UTF-8, a huge number, deep nesting: pydantic_core's rules
    import pydantic_core

    return pydantic_core.from_json(text)


class JSONError(ValueError):
    """Invalid JSON text, with pydantic_core's message (reason, line and column).

    The message is made only when it is read: telling a pretty-printed document from
    JSON Lines tries its first line as JSON, and that attempt should not cost importing
    pydantic_core.
    """

    def __init__(self, text: bytes | bytearray) -> None:
        super().__init__()
        self._text = bytes(text)
        self._message: str | None = None

    def __str__(self) -> str:
        if self._message is None:
            import pydantic_core

            try:
                pydantic_core.from_json(self._text)
            except ValueError as exc:
                self._message = str(exc)
            else:  # the two parsers agree on what is valid, bar lone surrogates
                self._message = "invalid JSON"
            self._text = b""
        return self._message


def _long_strings(data: Buffer, start: int, end: int) -> list[tuple[int, int]]:
    """``(open, close)`` quote offsets of every long base64 string value in the range."""
    spans = []
    search = _CANDIDATE.search
    pos = start
    while (match := search(data, pos, end)) is not None:
        open_quote = match.start()
        close_quote = data.find(b'"', open_quote + 1, end)
        if close_quote < 0:
            break
        pos = close_quote + 1
        if (
            close_quote - open_quote > _MIN_STRING
            and data[close_quote - 1] != 0x5C  # an escaped quote: not the string's end
            and _at_value_start(data, open_quote, start)
            and not _is_key(data, close_quote, end)
        ):
            spans.append((open_quote, close_quote))
    return spans


def _at_value_start(data: Buffer, quote: int, start: int) -> bool:
    i = quote - 1
    while i >= start and data[i] in _WHITESPACE:
        i -= 1
    return i >= start and data[i] in _VALUE_START


def _is_key(data: Buffer, quote: int, end: int) -> bool:
    # After a comma a key starts just like a value; only the colon after it tells them
    # apart, and a key must stay a plain str (`_restore` puts back values only).
    i = quote + 1
    while i < end and data[i] in _WHITESPACE:
        i += 1
    return i < end and data[i] == 0x3A  # ":"


def _restore(value: Any, strings: list[LazyText]) -> Any:
    if isinstance(value, str):
        if value.startswith(_PLACEHOLDER):
            return strings[int(value[len(_PLACEHOLDER) :])]
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) or (
                isinstance(item, str) and item.startswith(_PLACEHOLDER)
            ):
                value[key] = _restore(item, strings)
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, list)) or (
                isinstance(item, str) and item.startswith(_PLACEHOLDER)
            ):
                value[i] = _restore(item, strings)
        return value
    return value

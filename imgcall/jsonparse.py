"""JSON parsing tuned for payloads that are mostly long base64 strings.

A response holding ten images is ~40 MB of JSON of which all but a few kB are ten
base64 strings. A general parser validates and copies every byte of them. `parse_json`
instead finds each long base64 string literal (a regular-expression probe, then
``find`` for the closing quote, which runs at memory speed), parses the small remainder,
and puts back a `LazyText` for each string (`imgcall.lazytext`), which reads it from the
buffer only when an item needs it. Anything the fast path is unsure of (a clash with
the placeholder text, a parse error) falls back to parsing the whole text, so errors
keep their exact positions.

The remainder is parsed with the standard library's ``json`` (importing pydantic_core
costs ~20 ms at every start of the command line, more than parsing a response), with
odd but valid values replaced rather than refused (`imgcall.oddities`): a lone
surrogate escape becomes U+FFFD, an integer too long to print a marker, bytes that are
not UTF-8 U+FFFD, each noted for a warning. A run that parses many texts of 8 kB or more
(a JSON Lines file of small images) switches to pydantic_core for them, 5x faster per
line (its compiled parser alone, not the package: `_native_loads`), and falls back to
``json`` for anything pydantic_core refuses. Errors are
`JSONError`: the reason and the 1-based line and column, as Python's ``json`` counts.

A long string is lifted out only where JSON allows a value to start (after ``:``,
``,`` or ``[``), never as an object key, and only if it starts with base64 characters
(after a ``data:...;base64,`` header, if any); one holding an escape (such as PHP's
escaped slashes) or non-ASCII text is decoded by the parser's own rules, so no valid
document is read differently. (A raw control character inside such a string, which
strict JSON forbids, is left for the base64 decoder to report with its offset.)
"""

from __future__ import annotations

import codecs
import json
import mmap
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Union

from ._lazyre import lazy_pattern
from .lazytext import PROBE, LazyText

if TYPE_CHECKING:
    from .oddities import Replacement

__all__ = ["JSONError", "parse_json"]

# Below these sizes the plain parser is as fast and the probe is not worth it.
_MIN_DOCUMENT = 256 * 1024
_MIN_STRING = 16 * 1024
# Texts at least this long are parsed with pydantic_core once more than _NATIVE_AFTER of
# them have been seen in this process (see `_loads`).
_NATIVE_TEXT = 8 * 1024
_NATIVE_AFTER = 32
_long_texts = 0

# A string of base64 characters, or a data: URL of base64 (chat completions send images
# as ``data:image/png;base64,...``): the decoder reads the URL's header itself.
_CANDIDATE = re.compile(
    rb'"(?=(?:data:[\w.+/-]{0,100}(?:;[\w.+=-]{0,100}){0,8};base64,)?[A-Za-z0-9+/=_-]{%d})' % PROBE
)
_PLACEHOLDER = "\x00imgcall-string:"
_PLACEHOLDER_JSON = b"\\u0000imgcall-string:"
_surrogate_escape = lazy_pattern(r"\\u[dD][89a-fA-F]")


_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# What makes the parser stop inside a string before its end: then the plain parser
# reports it (a truncated base64 string holds neither).
_CUT_SHORT = re.compile(rb"[\x00-\x1f\\]")
_VALUE_START = frozenset(b":,[")
_WHITESPACE = frozenset(b" \t\r\n")
_WINDOW = 1 << 20


Buffer = Union[bytes, bytearray, mmap.mmap]


def parse_json(
    data: Buffer,
    start: int = 0,
    end: int | None = None,
    notes: list[Replacement] | None = None,
) -> Any:
    """Parse JSON text as ``json.loads`` does, fast when long strings dominate.

    ``data`` may be a memory map, and ``start``/``end`` select the text inside it (one
    line of a JSON Lines file): only the small remainder is copied out. Odd values that
    were replaced are appended to ``notes`` (see `imgcall.oddities`). Raises `JSONError`
    for invalid JSON, with its line and column counted from ``start``.
    """
    if end is None:
        end = len(data)
    if end - start >= _MIN_DOCUMENT:
        spans, cut = _long_strings(data, start, end)
        if spans or cut is not None:
            return _parse_lifted(data, start, end, spans, cut, notes)
    text = data if start == 0 and end == len(data) and not isinstance(data, mmap.mmap) else None
    try:
        return _loads(data[start:end] if text is None else text, notes)
    except _Failure as failure:
        raise _error(data, start, end, start + failure.offset, failure.reason) from None


def _parse_lifted(
    data: Buffer,
    start: int,
    end: int,
    spans: list[tuple[int, int]],
    cut: int | None,
    notes: list[Replacement] | None,
) -> Any:
    """Parse the text with each long string replaced by a placeholder."""
    pieces: list[bytes | memoryview] = []
    # (offset in the small text, offset in the real text, length) of each copied piece.
    segments: list[tuple[int, int, int]] = []
    # No context manager: the LazyText values keep slices of this view (and so the
    # buffer, or the memory map) alive until the scanner has read them.
    view = memoryview(data)
    small_size = 0
    pos = start

    def copy(a: int, b: int) -> None:
        nonlocal small_size
        segments.append((small_size, a, b - a))
        pieces.append(view[a:b])
        small_size += b - a

    for index, (open_quote, close_quote) in enumerate(spans):
        copy(pos, open_quote)
        placeholder = b'"%s%d"' % (_PLACEHOLDER_JSON, index)
        pieces.append(placeholder)
        small_size += len(placeholder)
        pos = close_quote + 1
    if cut is None:
        copy(pos, end)
    else:
        # A string that runs to the end of the input: keep its opening quote only, so the
        # parser reports it as unterminated where it starts.
        copy(pos, cut + 1)
    small = b"".join(pieces)
    pieces.clear()
    failure: _Failure | None = None
    if small.count(_PLACEHOLDER_JSON) != len(spans):
        # The text itself holds the placeholder marker: never confuse the two.
        view.release()
        try:
            return _loads(data[start:end], notes)
        except _Failure as error:
            failure, real = error, start + error.offset
    else:
        try:
            value = _loads(small, notes)
        except _Failure as error:
            failure, real = error, _real_offset(error.offset, segments, spans, end)
    if failure is not None:
        # No view of the buffer may outlive a failure (the error's traceback keeps this
        # frame): the caller may still grow the buffer, such as a document's first line.
        view.release()
        raise _error(data, start, end, real, failure.reason) from None
    return _restore(value, [LazyText(view[a + 1 : b]) for a, b in spans])


def _real_offset(
    offset: int, segments: list[tuple[int, int, int]], spans: list[tuple[int, int]], end: int
) -> int:
    """Where a byte offset of the small text lies in the real text."""
    for index in range(len(segments) - 1, -1, -1):
        small_at, real_at, length = segments[index]
        if offset >= small_at:
            if offset <= small_at + length or index >= len(spans):
                return min(real_at + offset - small_at, end)
            return spans[index][0]  # inside a placeholder: the string's opening quote
    return end


def _replace(exc: UnicodeError) -> tuple[str, int]:
    """U+FFFD for each invalid character; a surrogate Python wrote out is one character."""
    assert isinstance(exc, UnicodeDecodeError)
    data, at = exc.object, exc.start
    if data[at] == 0xED and len(data) >= at + 3 and 0xA0 <= data[at + 1] <= 0xBF:
        return "\ufffd", at + 3
    return "\ufffd", exc.end


_REPLACE = "imgcall-replace"
codecs.register_error(_REPLACE, _replace)


class _Failure(Exception):
    """A parse error at a byte offset of the text that was parsed."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def _loads(text: bytes | bytearray | memoryview, notes: list[Replacement] | None) -> Any:
    """``json.loads(text)``, with odd values replaced and noted; `_Failure` if invalid."""
    global _long_texts
    if len(text) >= _NATIVE_TEXT and isinstance(text, (bytes, bytearray)):
        # pydantic_core parses a 26 kB Batch line in ~8 us, the standard library in
        # ~40 us; once a run has parsed a few such texts (a JSON Lines file of small
        # images), its ~20 ms import has paid for itself. It refuses what the standard
        # library reads with replacements (lone surrogates, huge integers, bad UTF-8,
        # deep nesting): those, and every error, take the path below, which says where.
        # (No search for surrogate escapes first: it refuses every lone one itself, and
        # that search was a tenth of the scan of a small-image line.)
        _long_texts += 1
        if _long_texts > _NATIVE_AFTER:
            try:
                return _native_loads()(text)
            except ValueError:
                pass
    try:
        decoded = str(text, "utf-8")
    except UnicodeDecodeError as exc:
        decoded = str(text, "utf-8", _REPLACE)
        if notes is not None:
            from .oddities import Replacement

            notes.append(
                Replacement(
                    "", f"bytes that are not UTF-8 (from byte {exc.start}) were replaced by U+FFFD"
                )
            )
    huge = False
    try:
        try:
            value = json.loads(decoded)
        except json.JSONDecodeError:
            raise
        except ValueError:
            # An integer longer than Python converts (4,300 digits by default): parse
            # again, putting a marker in its place. Rare, so the common path pays nothing.
            from .oddities import HugeInt

            value = json.loads(decoded, parse_int=_int_or_huge(HugeInt))
            huge = True
    except json.JSONDecodeError as exc:
        raise _Failure(exc.msg, _byte_offset(text, decoded, exc.pos)) from None
    except RecursionError:
        depth, at = _deepest(decoded)
        raise _Failure(
            f"nested too deeply to read ({depth} levels)", _byte_offset(text, decoded, at)
        ) from None
    if huge or ("\\u" in decoded and _surrogate_escape().search(decoded)):
        from .oddities import clean

        value, found = clean(value, in_place=True)
        if notes is not None:
            notes.extend(found)
    return value


_NATIVE_MODULE = "pydantic_core._pydantic_core"
_native: Callable[[bytes | bytearray], Any] | None = None


def _native_loads() -> Callable[[bytes | bytearray], Any]:
    """pydantic_core's ``from_json``, loaded without the package around it.

    ``import pydantic_core`` takes ~20 ms, nearly all of it building the type hints of
    ``pydantic_core.core_schema``; its compiled module, which holds the parser, loads in
    ~2 ms. It is loaded alone, under its own name in ``sys.modules``, so that a later
    ``import pydantic_core`` (pydantic, to word an invalid item) finds it there and uses
    that same module. If the package is laid out otherwise, it is imported as usual.
    """
    global _native
    if _native is None:
        module = sys.modules.get(_NATIVE_MODULE) or _load_alone(_NATIVE_MODULE)
        if module is None:
            import pydantic_core

            _native = pydantic_core.from_json
        else:
            _native = module.from_json
    return _native


def _load_alone(name: str) -> ModuleType | None:
    """The extension module ``name`` loaded without running its package's ``__init__``."""
    from importlib.machinery import ExtensionFileLoader, PathFinder
    from importlib.util import find_spec, module_from_spec

    package = find_spec(name.rpartition(".")[0])  # finds it without importing it
    if package is None or not package.submodule_search_locations:
        return None
    spec = PathFinder.find_spec(name, list(package.submodule_search_locations))
    if spec is None or not isinstance(spec.loader, ExtensionFileLoader):
        return None
    module = module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _int_or_huge(marker: Any) -> Any:
    def parse_int(literal: str) -> Any:
        try:
            return int(literal)
        except ValueError:
            return marker(literal)

    return parse_int


def _byte_offset(text: bytes | bytearray | memoryview, decoded: str, pos: int) -> int:
    if len(decoded) == len(text):  # ASCII (or nothing but one-byte characters)
        return pos
    return len(decoded[:pos].encode("utf-8", "surrogatepass"))


def _deepest(decoded: str) -> tuple[int, int]:
    """How deep the nesting goes, and where it first gets there (a character index)."""
    depth = deepest = at = 0
    for match in _BRACKET.finditer(decoded):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, match.start()
        elif token in "]}":
            depth -= 1
    return deepest, at


class JSONError(ValueError):
    """Invalid JSON text: the reason, and where (1-based line and column, as a person counts).

    ``line`` and ``column`` count from the start of the parsed text; ``column`` counts
    characters, as Python's ``json`` does. An error at the very end of the input (a
    document cut off) is placed just after its last character, not on a blank line
    after it.
    """

    def __init__(self, reason: str, line: int, column: int, offset: int) -> None:
        # Python's own reasons read "Invalid control character at": the place follows.
        reason = reason.removesuffix(" at")
        reason = reason[:1].lower() + reason[1:]
        super().__init__(f"{reason} at line {line} column {column}")
        self.reason = reason
        """Why, in Python's ``json`` words (``expecting ',' delimiter``, ...)."""
        self.line = line
        self.column = column
        self.offset = offset
        """Byte offset of the error in the buffer that was parsed."""


def _error(data: Buffer, start: int, end: int, offset: int, reason: str) -> JSONError:
    if offset >= end:
        # The input ended too early: point at the end of its last line, not past it.
        offset = end
        while offset > start and data[offset - 1] in _WHITESPACE:
            offset -= 1
        while offset < end and data[offset] in b" \t":
            offset += 1
    line = 1 + _count_newlines(data, start, offset)
    line_start = max(start, data.rfind(b"\n", start, offset) + 1)
    return JSONError(reason, line, 1 + _characters(data, line_start, offset), offset)


def _count_newlines(data: Buffer, start: int, end: int) -> int:
    if not isinstance(data, mmap.mmap):
        return data.count(b"\n", start, end)
    count = 0
    while (found := data.find(b"\n", start, end)) >= 0:
        count += 1
        start = found + 1
    return count


def _characters(data: Buffer, start: int, end: int) -> int:
    """How many UTF-8 characters ``data[start:end]`` holds, a window at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    count = 0
    for pos in range(start, end, _WINDOW):
        window = data[pos : min(pos + _WINDOW, end)]
        count += len(window) if window.isascii() else len(decoder.decode(window))
    return count + len(decoder.decode(b"", final=True))


def _long_strings(data: Buffer, start: int, end: int) -> tuple[list[tuple[int, int]], int | None]:
    """``(open, close)`` quote offsets of every long base64 string value in the range.

    The second value is the opening quote of a long string value that the end of the
    input cuts off (a truncated line), if there is one: nothing after it can parse.
    """
    spans: list[tuple[int, int]] = []
    search = _CANDIDATE.search
    pos = start
    while (match := search(data, pos, end)) is not None:
        open_quote = match.start()
        close_quote = data.find(b'"', open_quote + 1, end)
        if close_quote < 0:
            if (
                end - open_quote > _MIN_STRING
                and _at_value_start(data, open_quote, start)
                and _CUT_SHORT.search(data, open_quote + 1, end) is None
            ):
                return spans, open_quote
            break
        pos = close_quote + 1
        if (
            close_quote - open_quote > _MIN_STRING
            and data[close_quote - 1] != 0x5C  # an escaped quote: not the string's end
            and _at_value_start(data, open_quote, start)
            and not _is_key(data, close_quote, end)
        ):
            spans.append((open_quote, close_quote))
    return spans, None


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

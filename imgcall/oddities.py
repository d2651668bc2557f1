"""Odd values: legal where imgcall reads them, but unusable as they are, and what replaces them.

Two kinds of value are valid JSON (and valid Python) yet break whatever touches them later:

- a **lone surrogate**: JSON's ``"\\ud83d"`` escape without its pair, or a Python ``str``
  holding one. It cannot be encoded as UTF-8, so it cannot go into a manifest line, a file
  name or a terminal. It becomes U+FFFD, the Unicode replacement character.
- an **integer too long to print**: Python refuses ``str()`` of an ``int`` of more than
  ``sys.get_int_max_str_digits()`` digits (4,300 by default), and ``int()`` of such a
  string. It becomes the text ``"<N-digit integer>"`` (no float can hold it: any float
  that large is infinity).

`clean` finds them in one pass over a parsed value (strings are looked at only when they
are not ASCII, which CPython knows without reading them, so long base64 strings cost
nothing) and replaces them, each with a `Replacement` saying where and what, which the
items of that record carry as warnings: an odd value costs that value, never the images
beside it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Union

from ._lazyre import lazy_pattern

__all__ = ["Replacement", "clean", "huge_int_text", "int_digit_limit", "pointer_of"]

_surrogate = lazy_pattern("[\ud800-\udfff]")


class Replacement(NamedTuple):
    """One odd value that was replaced: where it was (a JSON pointer) and what happened."""

    pointer: str
    """JSON pointer of the value inside its record (``""`` for the whole record)."""
    message: str
    """What was replaced and by what, e.g. ``a lone surrogate (U+D83D) ... U+FFFD``."""

    def describe(self, base: str = "") -> str:
        """The warning text, naming the value's pointer below ``base``."""
        where = base + self.pointer
        return f"{self.message} at #{where}" if where else self.message


def int_digit_limit() -> int:
    """Python's limit on the digits of an ``int`` it converts to or from text (0: none)."""
    getter: Callable[[], int] | None = getattr(sys, "get_int_max_str_digits", None)
    return getter() if getter is not None else 0


def huge_int_text(digits: int) -> str:
    """The text that replaces an integer of ``digits`` digits."""
    return f"<{digits}-digit integer>"


class HugeInt(str):
    """What the JSON parser puts in place of an integer too long to convert.

    `clean` swaps each for a plain ``str`` and records where it was.
    """

    digits: int

    def __new__(cls, literal: str) -> HugeInt:
        digits = len(literal.lstrip("-"))
        self = super().__new__(cls, huge_int_text(digits))
        self.digits = digits
        return self


def pointer_of(path: tuple[object, ...]) -> str:
    """A JSON pointer (``/output/0/id``) from the keys and indexes of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def clean(
    value: Any,
    *,
    in_place: bool,
    convert: Callable[[object], Any] | None = None,
) -> tuple[Any, list[Replacement]]:
    """``value`` with its odd values replaced, and what was replaced.

    ``in_place`` is for a value the caller owns (fresh from a parser): it is changed
    where it lies. Otherwise the containers on the way to each replacement are copied and
    the caller's value is left as it was; nothing is copied when nothing is odd.
    ``convert`` turns an object that is not a dict or list (an SDK object) into its JSON
    value, which is then looked through too.
    """
    limit = int_digit_limit()
    changes: list[_Change] = []
    replacements: list[Replacement] = []

    def change(link: _Link, key: object, new: object, message: str | None, rename: bool) -> None:
        path = _unwind(link)
        changes.append(((*path, _KEY) if rename else path, key, new))
        if message is not None:  # None: an SDK object turned into its JSON value
            replacements.append(Replacement(pointer_of((*path, new if rename else key)), message))

    top = _odd(value, limit, convert)
    if top is not _SAME:
        value, message = top
        if message is not None:
            replacements.append(Replacement("", message))
        if not isinstance(value, (Mapping, list, tuple)):
            return value, replacements
    # Paths are linked (parent, key) pairs, unwound only for an odd value: a value nested
    # 100,000 levels deep costs one pass, not one path copy per level.
    stack: list[tuple[Any, _Link]] = [(value, None)]
    seen: set[int] = set()
    while stack:
        container, link = stack.pop()
        if id(container) in seen:  # a shared or cyclic structure: look once
            continue
        seen.add(id(container))
        mapping = isinstance(container, Mapping)
        for key, item in container.items() if mapping else enumerate(container):
            if mapping:
                odd_key = _odd(key, limit, None)
                if odd_key is not _SAME:
                    new_key, message = odd_key
                    change(link, key, new_key, message, rename=True)
                    key = new_key
            if isinstance(item, (Mapping, list, tuple)):
                stack.append((item, (link, key)))
                continue
            odd = _odd(item, limit, convert)
            if odd is not _SAME:
                new, message = odd
                change(link, key, new, message, rename=False)
                if isinstance(new, (Mapping, list, tuple)):
                    stack.append((new, (link, key)))
    if not changes:
        return value, replacements
    return _apply(value, changes, in_place), replacements


_Link = Union[tuple[Any, object], None]
"""A path as ``(parent link, key)``; ``None`` is the root."""


def _unwind(link: _Link) -> tuple[object, ...]:
    keys: list[object] = []
    while link is not None:
        link, key = link
        keys.append(key)
    return tuple(reversed(keys))


_SAME: Any = object()
_KEY: Any = object()
"""Ends the path of a change that renames a key of the dict at the rest of the path."""

_Change = tuple[tuple[object, ...], object, object]
"""(path of the container, key, new value or new key)."""


def _odd(value: object, limit: int, convert: Callable[[object], Any] | None) -> Any:
    """``(replacement, message)`` for an odd value, `_SAME` for any other."""
    if isinstance(value, str):
        if type(value) is HugeInt:
            return str(value), f"a {value.digits}-digit integer was replaced by {str(value)!r}"
        # O(1) in CPython: an ASCII string (every base64 string, every LazyText) holds
        # no surrogate, and is not read.
        if value.isascii():
            return _SAME
        found = _surrogate().search(value)
        if found is None:
            return _SAME
        return _surrogate().sub("\ufffd", value), (
            f"a lone surrogate (U+{ord(found.group()):04X}) in a text was replaced by U+FFFD"
        )
    if isinstance(value, int):
        # Only a number of this many bits can have more digits than Python prints.
        if limit and not isinstance(value, bool) and value.bit_length() > 3 * limit:
            try:
                str(value)
            except ValueError:
                digits = _digits(value)
                text = huge_int_text(digits)
                return text, f"a {digits}-digit integer was replaced by {text!r}"
        return _SAME
    if convert is not None and not isinstance(value, (float, bytes, type(None))):
        new = convert(value)
        return _SAME if new is value else (new, None)
    return _SAME


def _digits(value: int) -> int:
    """How many decimal digits ``value`` has, without converting it to text."""
    value = abs(value)
    digits = int(value.bit_length() * 0.30102999566398120) + 1  # exact, or one too many
    return digits - 1 if value < 10 ** (digits - 1) else digits


def _apply(
    root: Any,
    changes: list[_Change],
    in_place: bool,
) -> Any:
    """Make each change, copying the containers on its path unless ``in_place``."""
    owned: dict[int, Any] = {}

    def own(container: Any) -> Any:
        if in_place and not isinstance(container, tuple) and type(container) in (dict, list):
            return container
        mine = owned.get(id(container))
        if mine is None:
            mine = dict(container) if isinstance(container, Mapping) else list(container)
            owned[id(container)] = owned[id(mine)] = mine
        return mine

    root = own(root)
    for path, key, new in changes:
        rename = bool(path) and path[-1] is _KEY
        node = root
        for step in path[:-1] if rename else path:
            child = node[step]
            mine = own(child)
            if mine is not child:
                node[step] = mine
            node = mine
        if rename:
            renamed = {(new if k == key else k): v for k, v in node.items()}
            node.clear()
            node.update(renamed)
        else:
            node[key] = new
    return root

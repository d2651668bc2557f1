"""Finding items: `iter_calls` over any source, recognising the shape by content.

A source is opened once (`_open`) into either an already-parsed value or JSON text,
and handed to the envelope readers, which walk parsed JSON and yield
`ImageGenerationCall` objects (with their location and context) or `Problem` records.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic_core

from .envelopes import Found, walk
from .errors import InvalidInputError, Problem
from .models import ImageGenerationCall, Location

__all__ = ["Errors", "iter_calls", "scan"]

Errors = Literal["raise", "skip", "collect"]


def iter_calls(
    source: object,
    *,
    partials: bool = False,
    errors: Errors = "raise",
) -> Iterator[ImageGenerationCall]:
    """Yield every image item found in ``source``, in order.

    ``source`` may be a path, a binary or text file object, ``str``/``bytes`` of JSON, an
    already-parsed dict or list, or an SDK object. Each call knows its ``location`` and
    ``context``. Items that cannot be read (e.g. a failed batch request) raise their
    `ImgcallError` with ``errors="raise"`` (default) and are dropped with ``"skip"``;
    use `iter_images` with ``errors="collect"`` to receive them as `Problem` records.

    Raises:
        InvalidInputError: the input cannot be read or parsed (names input and line).
    """
    for found in scan(source, partials=partials):
        if isinstance(found, Problem):
            if errors == "raise":
                raise found.error
            continue
        yield found


def scan(source: object, *, partials: bool = False, name: str | None = None) -> Iterator[Found]:
    """Yield every call and every problem found in ``source`` (the engine of `iter_calls`)."""
    label, value = _open(source, name)
    yield from walk(value, Location(label), partials=partials)


def _open(source: object, name: str | None) -> tuple[str, Any]:
    if isinstance(source, (str, os.PathLike)) and not _looks_like_json(source):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read {path}: {exc.strerror or exc}", location=name or str(path)
            ) from exc
        return name or str(path), _parse(data, name or str(path))
    if isinstance(source, (str, bytes, bytearray, memoryview)):
        return name or "<input>", _parse(source, name or "<input>")
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "<stream>"))
        return label, _parse(source.read(), label)
    if isinstance(source, (Mapping, list, tuple)):
        return name or "<object>", source
    for method in ("model_dump", "to_dict"):
        fn = getattr(source, method, None)
        if callable(fn):
            return name or f"<{type(source).__name__}>", fn()
    if isinstance(source, Iterable):
        return name or "<events>", list(source)
    raise InvalidInputError(
        f"cannot read images from a value of type {type(source).__name__}: pass a path, "
        "a file, JSON text, a dict or list, or an SDK object"
    )


def _looks_like_json(source: str | os.PathLike[str]) -> bool:
    if not isinstance(source, str):
        return False
    head = source.lstrip()[:1]
    return head in ("{", "[") or "\n" in source


def _parse(data: str | bytes | bytearray | memoryview, label: str) -> Any:
    raw = data if isinstance(data, (str, bytes)) else bytes(data)
    try:
        return pydantic_core.from_json(raw)
    except ValueError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}", location=label) from exc

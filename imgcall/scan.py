"""Finding items: `iter_calls` over any source, recognising the shape by content.

The work is split in two: `imgcall.framing` turns a source into parsed records one at a
time (a whole JSON document, JSON Lines, or SSE events), and `imgcall.providers` routes
each record to the reader for its shape (one module per provider family, and a search
by content for shapes nobody registered). Nothing is read ahead of what the caller
consumes, so a live stream's images come out as they arrive.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .errors import ImgcallWarning, InvalidInputError, Problem
from .framing import Record, looks_like_content, read_records
from .items import Item, Location
from .providers import Found, Walker
from .sources import Member, expand

if TYPE_CHECKING:
    from .models import ImageGenerationCall

__all__ = ["Errors", "expand_source", "iter_calls", "scan", "scan_items"]

Errors = Literal["raise", "skip", "collect"]
_ERRORS = ("raise", "skip", "collect")


def iter_calls(
    source: object,
    *,
    partials: bool = False,
    errors: Errors = "raise",
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[ImageGenerationCall]:
    """Yield every image item found in ``source``, in order.

    ``source`` may be a path, a folder (every file in it, recursively, sorted; hidden
    files and images are skipped with a warning each), a URL that fsspec opens
    (``s3://bucket/batch/*.jsonl.gz``, configured the fsspec way plus
    ``storage_options``; ``http(s)://`` is refused), a binary or text file object,
    ``str``/``bytes`` of JSON, JSON Lines or an SSE transcript, an already-parsed dict
    or list, an SDK object, or an iterable of stream events (dicts or SDK objects,
    consumed one at a time) or of text lines. gzip, bzip2, xz and zstd data is read
    decompressed, and UTF-16/32 text with a byte order mark decoded. The shape is
    recognised from the content, never from a file name: single items, lists, Responses
    ``response`` objects, Responses stream events, Batch API output lines, chat
    completions (and chunks), Images API bodies (and stream events), and OpenRouter
    ``openrouter:image_generation`` items.

    Each call knows its ``location`` (input, line, JSON pointer) and ``context``
    (``custom_id``, ``response_id``, ...). A stream's final image is yielded once;
    ``partials=True`` also yields its partial images (``call.partial`` is true).

    Items that cannot become images (a failed batch request, a URL result, a stream cut
    off before an item's final image, a broken JSON Lines line) raise their
    `ImgcallError` with ``errors="raise"`` (default) and are dropped with ``"skip"`` or
    ``"collect"``; use `iter_images` with ``errors="collect"`` to receive them as
    `Problem` records.

    >>> for call in imgcall.iter_calls("stream.sse", partials=True):   # doctest: +SKIP
    ...     print(call.id, call.partial_index, call.location)

    Raises:
        InvalidInputError: the input cannot be read, or a whole JSON document is broken
            (the message names the input, line and column).
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {', '.join(_ERRORS)}; got {errors!r}")
    return _calls(source, partials, errors, discover, storage_options)


def _calls(
    source: object,
    partials: bool,
    errors: Errors,
    discover: bool,
    storage_options: Mapping[str, Any] | None,
) -> Iterator[ImageGenerationCall]:
    found_all = scan_items(
        source, partials=partials, discover=discover, storage_options=storage_options
    )
    for found in found_all:
        if isinstance(found, Problem):
            if errors == "raise":
                raise found.error
            continue
        for note in found.notes:  # a model has no warnings of its own: say it here
            warnings.warn(f"item {found.id!r}: {note}", ImgcallWarning, stacklevel=3)
        yield found.to_call()


def scan(
    source: object, *, partials: bool = False, name: str | None = None, discover: bool = True
) -> Iterator[ImageGenerationCall | Problem]:
    """Yield every call and every problem found in ``source`` (the engine of `iter_calls`).

    ``name`` replaces the input's name in locations (the CLI passes ``"<stdin>"``).
    """
    for found in scan_items(source, partials=partials, name=name, discover=discover):
        # An Item holds only what the model accepts (tests/test_items.py compares them).
        yield found.to_call() if isinstance(found, Item) else found


def scan_items(
    source: object,
    *,
    partials: bool = False,
    name: str | None = None,
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[Found]:
    """`scan` without building pydantic models: what saving and decoding consume.

    Yields `imgcall.items.Item` records (see `imgcall.items` for why) and problems. A
    folder or a glob is scanned one member after the other, each under its own name.
    """
    members = expand_source(source, storage_options)
    if members is None:
        yield from _scan_one(source, partials, name, discover, storage_options)
        return
    for member in members:
        yield from _scan_one(member.source, partials, member.name, discover, storage_options)


def expand_source(
    source: object, storage_options: Mapping[str, Any] | None = None, exclude: Any = None
) -> Iterator[Member] | None:
    """The inputs a folder or glob stands for (`imgcall.sources.expand`); else ``None``."""
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and not looks_like_content(source)
    ):
        return expand(source, storage_options, exclude)
    return None


def _scan_one(
    source: object,
    partials: bool,
    name: str | None,
    discover: bool,
    storage_options: Mapping[str, Any] | None,
) -> Iterator[Found]:
    label, records = read_records(source, name, storage_options)
    scanner = Walker(partials=partials, discover=discover)
    for record in records:
        location = Location(label, record.pointer, record.line)
        if record.error is not None:
            yield Problem(None, record.error.location, None, record.error)
            continue
        try:
            if record.warnings:
                yield from _with_warnings(
                    list(scanner.feed(record.value, location)), record, location
                )
            else:
                yield from scanner.feed(record.value, location)
        except RecursionError as exc:
            # Parsed JSON text is depth-limited by the parser; an already-parsed value
            # handed in is not, and the walker recurses into nested lists.
            raise InvalidInputError(
                "the input is nested too deeply to read", location=location
            ) from exc
    yield from scanner.finish()


def _with_warnings(found: list[Found], record: Record, location: Location) -> list[Found]:
    """Give the items of ``record`` the warnings about its odd values (`imgcall.oddities`).

    A value inside an item (its id, its prompt) concerns that item only; one outside every
    item (a ``custom_id``, a response field) concerns all the record's items. One that
    concerns no item at all is issued as an `ImgcallWarning`.
    """
    # Items of this record; a stream may also complete an item seen in an earlier one.
    mine = [
        f
        for f in found
        if isinstance(f, Item)
        and f.location is not None
        and f.location.line == location.line
        and f.location.pointer.startswith(location.pointer)
    ]
    for note in record.warnings:
        where = location.pointer + note.pointer
        owners = [f for f in mine if _inside(where, f.location.pointer if f.location else "")]
        text = note.describe(location.pointer)
        if not (owners or mine):
            warnings.warn(f"{location}: {text}", ImgcallWarning, stacklevel=4)
        for item in owners or mine:
            item.notes = (*item.notes, text)
    return found


def _inside(pointer: str, container: str) -> bool:
    return pointer == container or pointer.startswith(container + "/")

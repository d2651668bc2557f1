"""Finding items: `iter_calls` over any source, recognising the shape by content.

The work is split in two: `imgcall.framing` turns a source into parsed records one at a
time (a whole JSON document, JSON Lines, or SSE events), and `imgcall.providers` routes
each record to the reader for its shape (one module per provider family, and a search
by content for shapes nobody registered). Nothing is read ahead of what the caller
consumes, so a live stream's images come out as they arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from .errors import InvalidInputError, Problem
from .framing import read_records
from .items import Item, Location
from .providers import Found, Walker

if TYPE_CHECKING:
    from .models import ImageGenerationCall

__all__ = ["Errors", "iter_calls", "scan", "scan_items"]

Errors = Literal["raise", "skip", "collect"]
_ERRORS = ("raise", "skip", "collect")


def iter_calls(
    source: object,
    *,
    partials: bool = False,
    errors: Errors = "raise",
    discover: bool = True,
) -> Iterator[ImageGenerationCall]:
    """Yield every image item found in ``source``, in order.

    ``source`` may be a path, a binary or text file object, ``str``/``bytes`` of JSON,
    JSON Lines or an SSE transcript, an already-parsed dict or list, an SDK object, or
    an iterable of stream events (dicts or SDK objects, consumed one at a time) or of
    text lines. The shape is recognised from the content, never from a file name: single
    items, lists, Responses ``response`` objects, Responses stream events, Batch API
    output lines, chat completions (and chunks), Images API bodies (and stream events),
    and OpenRouter ``openrouter:image_generation`` items.

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
    return _calls(source, partials, errors, discover)


def _calls(
    source: object, partials: bool, errors: Errors, discover: bool
) -> Iterator[ImageGenerationCall]:
    for found in scan(source, partials=partials, discover=discover):
        if isinstance(found, Problem):
            if errors == "raise":
                raise found.error
            continue
        yield found


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
    source: object, *, partials: bool = False, name: str | None = None, discover: bool = True
) -> Iterator[Found]:
    """`scan` without building pydantic models: what saving and decoding consume.

    Yields `imgcall.items.Item` records (see `imgcall.items` for why) and problems.
    """
    label, records = read_records(source, name)
    scanner = Walker(partials=partials, discover=discover)
    for record in records:
        location = Location(label, record.pointer, record.line)
        if record.error is not None:
            yield Problem(None, record.error.location, None, record.error)
            continue
        try:
            yield from scanner.feed(record.value, location)
        except RecursionError as exc:
            # Parsed JSON text is depth-limited by the parser; an already-parsed value
            # handed in is not, and the walker recurses into nested lists.
            raise InvalidInputError(
                "the input is nested too deeply to read", location=location
            ) from exc
    yield from scanner.finish()

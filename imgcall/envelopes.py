"""Envelope readers: find image items inside parsed JSON, whatever wraps them.

`walk` recognises a value by its content and dispatches to one small reader per shape.
Each reader yields `ImageGenerationCall` objects carrying their `Location` and context,
or `Problem` records for items that are present but unusable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Union

from .errors import ImgcallError, InvalidItemError, Problem
from .models import ImageGenerationCall, Location, parse_call

__all__ = ["Found", "walk"]

Found = Union[ImageGenerationCall, Problem]


def walk(value: Any, location: Location, *, partials: bool = False) -> Iterator[Found]:
    """Yield every item found in ``value``: a single item, a list, or a Response."""
    if isinstance(value, list):
        for index, element in enumerate(value):
            yield from walk(element, location.child(index), partials=partials)
        return
    if not isinstance(value, Mapping):
        return
    kind = value.get("type")
    if kind == "image_generation_call":
        yield _item(value, location, {})
    elif value.get("object") == "response" or "output" in value:
        yield from _response(value, location, {})


def _response(
    response: Mapping[str, Any], location: Location, context: Mapping[str, Any]
) -> Iterator[Found]:
    ctx = dict(context)
    if isinstance(response.get("id"), str):
        ctx.setdefault("response_id", response["id"])
    for field in ("instructions", "input"):
        echoed = response.get(field)
        if isinstance(echoed, list):
            for index, element in enumerate(echoed):
                # Echoed items without bytes are references to earlier turns, not images.
                if (
                    isinstance(element, Mapping)
                    and element.get("type") == "image_generation_call"
                    and element.get("result")
                ):
                    yield _item(element, location.child(field, index), ctx)
    output = response.get("output")
    if isinstance(output, list):
        for index, element in enumerate(output):
            if isinstance(element, Mapping) and element.get("type") == "image_generation_call":
                yield _item(element, location.child("output", index), ctx)


def _item(value: Mapping[str, Any], location: Location, context: Mapping[str, Any]) -> Found:
    try:
        call = parse_call(value)
    except InvalidItemError as exc:
        exc.with_origin(id=None, location=location)
        return _problem(value, location, exc, context)
    return call.with_origin(location=location, context=context)


def _problem(
    value: Mapping[str, Any],
    location: Location,
    error: ImgcallError,
    context: Mapping[str, Any],
) -> Problem:
    item_id = value.get("id") if isinstance(value.get("id"), str) else None
    status = value.get("status") if isinstance(value.get("status"), str) else None
    return Problem(item_id, location, status, error, dict(context))

"""Envelope readers: one small, stateless function per shape that wraps images.

Each reader takes a parsed JSON value, the `Location` it was found at and the context
around it (``custom_id``, ``response_id``, ...), and yields `imgcall.items.Item`
objects carrying both, or `Problem` records for things that are present but unusable
(a failed batch request, an image that is only a URL). Shapes that have no
``image_generation_call`` item (chat completions, Images API bodies, the OpenRouter
server tool) become calls with a stable synthetic id and status ``completed``, so a
re-run names its files the same way.

Streams need memory across records (dedupe, partials, missing finals); that lives in
`imgcall.streams`, which also decides which reader a value goes to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import Any, Union

from .errors import (
    EmptyResultError,
    ImageGenerationFailedError,
    ImgcallError,
    InvalidInputError,
    InvalidItemError,
    Problem,
    UnsupportedResultError,
)
from .framing import to_json_value
from .items import ITEM, Item, Location, read_item

__all__ = [
    "ITEM",
    "SERVER_TOOL",
    "Found",
    "Walk",
    "base_id",
    "batch_line",
    "chat",
    "describe_error",
    "error_body",
    "images_body",
    "is_batch_line",
    "is_images_body",
    "is_response",
    "item",
    "problem",
    "response",
    "response_context",
    "response_failure",
    "server_tool",
    "server_tool_id",
    "synthetic",
]

Found = Union[Item, Problem]
"""What a scan yields: an image item, or a problem standing in for one."""
Walk = Callable[[Any, Location, Mapping[str, Any]], Iterator[Found]]

SERVER_TOOL = "openrouter:image_generation"
_ITEM_CONTEXT = ("revised_prompt", "size", "quality", "background", "output_format", "media_type")
_IMAGE_FIELDS = ("output_format", "size", "quality", "background")


def item(value: Mapping[str, Any], location: Location, context: Mapping[str, Any]) -> Found:
    """An ``image_generation_call`` item; an invalid one becomes a `Problem`."""
    try:
        call = read_item(value)
    except InvalidItemError as exc:
        exc.with_origin(id=None, location=location)
        return problem(value.get("id"), location, value.get("status"), exc, context)
    return call.with_origin(location=location, context=_item_context(context, value))


def synthetic(
    id: str,
    data: object,
    location: Location,
    context: Mapping[str, Any],
    *,
    status: str = "completed",
    extra: Mapping[str, Any] | None = None,
    partial_index: int | None = None,
) -> Found:
    """A call for an image that came without an item (chat, Images API, partials, ...).

    ``extra`` fields (``output_format``, ``media_type``, ...) are kept on the call, where
    the decoder reads the declared format. An http(s) URL is a `Problem`, never fetched.
    """
    fields = {key: value for key, value in (extra or {}).items() if value is not None}
    if isinstance(data, str) and data[:16].lstrip().lower().startswith(("http://", "https://")):
        shown = data if len(data) <= 80 else data[:77] + "..."
        error = UnsupportedResultError(
            f"the image is a URL ({shown}), not inline data; imgcall never fetches URLs",
            id=id,
            location=location,
        )
        return Problem(id, location, status, error, _item_context(context, fields))
    body: dict[str, Any] = {"type": ITEM, "id": id, "status": status, **fields}
    if data is not None:
        body["result"] = data
    found = item(body, location, context)
    if partial_index is not None and isinstance(found, Item):
        found.with_origin(partial_index=partial_index)
    return found


def problem(
    id: object,
    location: Location,
    status: object,
    error: ImgcallError,
    context: Mapping[str, Any],
) -> Problem:
    """A `Problem` record; non-string ids and statuses are dropped."""
    return Problem(
        id if isinstance(id, str) else None,
        location,
        status if isinstance(status, str) else None,
        error,
        dict(context),
    )


def _item_context(context: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
    ctx = dict(context)
    for key in _ITEM_CONTEXT:
        if value.get(key) is not None:
            ctx[key] = value[key]
    return ctx


def base_id(context: Mapping[str, Any], location: Location, created: object = None) -> str:
    """The stem of a synthetic id: response id, custom_id, creation time or input name."""
    for key in ("response_id", "custom_id"):
        value = context.get(key)
        if isinstance(value, str) and value:
            return value
    if isinstance(created, int) and not isinstance(created, bool):
        return f"img-{created}"
    stem = "image" if location.input.startswith("<") else PurePath(location.input).stem
    return f"{stem}-{location.line}" if location.line is not None else stem


def describe_error(error: object) -> str:
    """An API error object (``{"message", "code", ...}``) as one readable phrase."""
    if isinstance(error, Mapping):
        message = error.get("message")
        code = error.get("code") or error.get("type")
        if message and code:
            return f"{message} ({code})"
        if message or code:
            return str(message or code)
        return str(dict(error))
    return str(error)


# -- Responses API -----------------------------------------------------------------------


def is_response(value: Mapping[str, Any]) -> bool:
    """A Responses API ``response`` object."""
    return value.get("object") == "response" or isinstance(value.get("output"), list)


def response_context(response: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` plus the response's id and model."""
    ctx = dict(context)
    for key, field in (("response_id", "id"), ("model", "model")):
        if isinstance(response.get(field), str):
            ctx[key] = response[field]
    return ctx


def response(
    value: Mapping[str, Any],
    location: Location,
    context: Mapping[str, Any],
    *,
    report_failure: bool = True,
) -> Iterator[Found]:
    """Items in ``output[]``, and echoed items in ``instructions[]`` / ``input[]``.

    Echoed items without image data are references to earlier turns and are skipped.
    A failed response with no image item is reported (when ``report_failure``).
    """
    ctx = response_context(value, context)
    found = False
    for field in ("instructions", "input", "output"):
        elements = value.get(field)
        if not isinstance(elements, list):
            continue
        for index, element in enumerate(elements):
            element = to_json_value(element, location)
            if not isinstance(element, Mapping):
                continue
            kind = element.get("type")
            if field != "output" and not _has_image_data(element):
                continue
            if kind == ITEM:
                yield item(element, location.child(field, index), ctx)
            elif kind == SERVER_TOOL:
                yield server_tool(element, location.child(field, index), ctx, index)
            else:
                continue
            found = True
    if report_failure and not found:
        failure = response_failure(value, location, ctx)
        if failure is not None:
            yield failure


def _has_image_data(element: Mapping[str, Any]) -> bool:
    keys = ("result",) if element.get("type") == ITEM else _SERVER_TOOL_DATA
    return any(element.get(key) for key in keys)


def response_failure(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
) -> Problem | None:
    """A `Problem` for a response that carries an ``error`` object, else ``None``."""
    error = value.get("error")
    if not isinstance(error, Mapping):
        return None
    rid = value.get("id") if isinstance(value.get("id"), str) else None
    what = f"response {rid!r}" if rid else "the response"
    failure = ImageGenerationFailedError(
        f"{what} failed: {describe_error(error)}", location=location.child("error")
    )
    return problem(rid, location, value.get("status") or "failed", failure, context)


# -- OpenRouter server tool --------------------------------------------------------------

_SERVER_TOOL_DATA = ("imageB64", "image_b64", "result", "imageUrl", "image_url")


def server_tool_id(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any], index: int
) -> str:
    """The item's own id, or ``<response id>-img<index>``."""
    own = value.get("id")
    return own if isinstance(own, str) and own else f"{base_id(context, location)}-img{index}"


def server_tool(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any], index: int
) -> Found:
    """An ``openrouter:image_generation`` item: ``imageB64``, ``result`` or ``imageUrl``."""
    sid = server_tool_id(value, location, context, index)
    extra = {
        "revised_prompt": value.get("revisedPrompt", value.get("revised_prompt")),
        "prompt": value.get("prompt"),
        "output_format": value.get("output_format"),
    }
    candidates = [(key, value.get(key)) for key in _SERVER_TOOL_DATA]
    present = [(key, data) for key, data in candidates if isinstance(data, str) and data]
    inline = [(key, data) for key, data in present if not _is_url(data)]
    if inline or present:
        key, data = (inline or present)[0]
        return synthetic(sid, data, location.child(key), context, extra=extra)
    status = value.get("status")
    if value.get("error") is not None:
        status, extra["error"] = "failed", value.get("error")
    return synthetic(sid, None, location, context, status=str(status or "in_progress"), extra=extra)


def _is_url(data: str) -> bool:
    return data[:16].lstrip().lower().startswith(("http://", "https://"))


# -- Chat completions --------------------------------------------------------------------


def chat(
    value: Mapping[str, Any],
    location: Location,
    context: Mapping[str, Any],
    next_index: Callable[[str, int], int],
) -> Iterator[Found]:
    """``choices[].message.images[]`` and, in stream chunks, ``choices[].delta.images[]``.

    Ids are ``<completion id>-<choice index>-<k>``; ``next_index(base, choice)`` numbers
    the images of a stream across its chunks.
    """
    ctx = response_context(value, context)
    base = base_id(ctx, location, value.get("created"))
    for position, choice in enumerate(value.get("choices") or ()):
        if not isinstance(choice, Mapping):
            continue
        number = choice.get("index")
        number = number if isinstance(number, int) else position
        for key in ("message", "delta"):
            message = choice.get(key)
            images = message.get("images") if isinstance(message, Mapping) else None
            if not isinstance(images, list):
                continue
            for k, image in enumerate(images):
                index = next_index(base, number) if key == "delta" else k
                data, parts = _chat_image(image)
                where = location.child("choices", position, key, "images", k, *parts)
                yield synthetic(f"{base}-{number}-{index}", data, where, ctx)


def _chat_image(image: object) -> tuple[object, tuple[str, ...]]:
    if not isinstance(image, Mapping):
        return image, ()
    url = image.get("image_url")
    if isinstance(url, Mapping):
        return url.get("url"), ("image_url", "url")
    if url is not None:
        return url, ("image_url",)
    return image.get("url"), ("url",)


# -- Images API --------------------------------------------------------------------------


def is_images_body(value: Mapping[str, Any]) -> bool:
    """An Images API body: ``data[]`` entries holding ``b64_json`` (or a ``url``)."""
    data = value.get("data")
    if not isinstance(data, list) or value.get("object") == "list":
        return False
    if not data:
        return "created" in value
    return all(isinstance(e, Mapping) and ("b64_json" in e or "url" in e) for e in data)


def images_body(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
) -> Iterator[Found]:
    """Every ``data[]`` entry, with ``output_format`` / ``media_type`` as declared format."""
    base = base_id(context, location, value.get("created"))
    shared = {key: value.get(key) for key in _IMAGE_FIELDS}
    for k, entry in enumerate(value.get("data") or ()):
        if not isinstance(entry, Mapping):
            continue
        extra = {
            **shared,
            **{key: entry.get(key) for key in _IMAGE_FIELDS if entry.get(key) is not None},
            "media_type": entry.get("media_type"),
            "revised_prompt": entry.get("revised_prompt"),
        }
        if entry.get("media_type") and not entry.get("output_format"):
            # The entry's own media type is more specific than the body's output_format.
            extra["output_format"] = None
        data = entry.get("b64_json")
        key = "b64_json"
        if not data and isinstance(entry.get("url"), str):
            data, key = entry["url"], "url"
        yield synthetic(f"{base}-{k}", data, location.child("data", k, key), context, extra=extra)


# -- Batch API ---------------------------------------------------------------------------


def is_batch_line(value: Mapping[str, Any]) -> bool:
    """A Batch API output line (``custom_id`` with ``response`` or ``error``)."""
    return "custom_id" in value and ("response" in value or "error" in value)


def batch_line(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any], walk: Walk
) -> Iterator[Found]:
    """The images of one batch output line, or a `Problem` naming its ``custom_id``.

    A line with ``error`` set or an HTTP status of 400 or more is an
    `ImageGenerationFailedError`; a successful body without any image is an
    `EmptyResultError`.
    """
    custom_id = value.get("custom_id")
    ctx = dict(context)
    ctx["custom_id"] = custom_id
    if isinstance(value.get("id"), str):
        ctx["batch_request_id"] = value["id"]
    request = f"batch request {custom_id!r}"
    reply = value.get("response")
    if value.get("error") is not None:
        error = describe_error(value["error"])
        failure = ImageGenerationFailedError(
            f"{request} failed: {error}", location=location.child("error")
        )
        yield problem(custom_id, location, "failed", failure, ctx)
        return
    if not isinstance(reply, Mapping):
        invalid = InvalidInputError(
            f"{request} has neither a response nor an error", location=location
        )
        yield problem(custom_id, location, None, invalid, ctx)
        return
    code = reply.get("status_code")
    body = reply.get("body")
    where = location.child("response", "body")
    if isinstance(code, int) and code >= 400:
        api_error = body.get("error", body) if isinstance(body, Mapping) else body
        failure = ImageGenerationFailedError(
            f"{request} failed with HTTP {code}: {describe_error(api_error)}", location=where
        )
        yield problem(custom_id, location, "failed", failure, ctx)
        return
    count = 0
    for found in walk(body, where, ctx):
        count += 1
        yield found
    if not count:
        detail = _why_empty(body)
        empty = EmptyResultError(
            f"{request} succeeded (HTTP {code}) but its response holds no image{detail}",
            location=where,
        )
        status = body.get("status") if isinstance(body, Mapping) else None
        yield problem(custom_id, location, status, empty, ctx)


def _why_empty(body: object) -> str:
    if not isinstance(body, Mapping):
        return ""
    status = body.get("status")
    if not isinstance(status, str) or status == "completed":
        return ""
    details = body.get("incomplete_details")
    reason = details.get("reason") if isinstance(details, Mapping) else None
    return f"; the response status is {status!r}" + (f" ({reason})" if reason else "")


# -- errors sent instead of a result ------------------------------------------------------


def error_body(value: Mapping[str, Any], location: Location, context: Mapping[str, Any]) -> Problem:
    """An API error body or stream ``error`` event as a `Problem`."""
    error = value.get("error")
    if not isinstance(error, Mapping):
        error = {key: value.get(key) for key in ("message", "code") if value.get(key)}
    failure = ImageGenerationFailedError(
        f"the API reported an error: {describe_error(error)}", location=location
    )
    return problem(None, location, "failed", failure, context)

"""OpenAI (and Azure OpenAI) shapes that hold whole images.

- ``image_generation_call`` items, alone or in lists;
- Responses ``response`` objects: items in ``output[]`` and items echoed in
  ``instructions[]`` / ``input[]``, and code-interpreter images
  (``code_interpreter_call.outputs[]`` of type ``image``);
- chat completions with ``choices[].message.images[]`` (and ``delta.images[]`` chunks);
- Images API bodies (``data[].b64_json``), with ``usage`` and Azure's
  ``content_filter_results`` kept in the context;
- error bodies and stream ``error`` events (Azure's ``inner_error`` included).

The Responses and Images API *stream events* need memory across records and live in
`imgcall.providers.openai_streams`; Batch API output lines in
`imgcall.providers.openai_batch`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ImageGenerationFailedError, Problem
from ..framing import to_json_value
from ..items import Location
from . import openrouter
from ._base import (
    ITEM,
    Found,
    Reader,
    base_id,
    describe_error,
    error_code,
    item,
    problem,
    synthetic,
)

__all__ = [
    "CODE_INTERPRETER",
    "Chat",
    "CodeInterpreterCall",
    "ErrorBody",
    "ImagesBody",
    "Items",
    "Response",
    "code_interpreter_images",
    "response_context",
    "response_failure",
    "response_items",
]

CODE_INTERPRETER = "code_interpreter_call"
_IMAGE_FIELDS = ("output_format", "size", "quality", "background")


class Items(Reader):
    """A bare ``image_generation_call`` item."""

    types = (ITEM,)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield item(value, location, context)


class CodeInterpreterCall(Reader):
    """A ``code_interpreter_call`` item on its own (as an SDK dump or a list element)."""

    types = (CODE_INTERPRETER,)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield from code_interpreter_images(value, location, context)


def code_interpreter_images(
    value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
) -> Iterator[Found]:
    """The ``image`` outputs of a ``code_interpreter_call``, ids ``<call id>-<k>``.

    Log outputs are not images and are passed over. A failed call with no image is
    reported by the response it belongs to, not here.
    """
    own = value.get("id")
    call_id = own if isinstance(own, str) and own else f"{base_id(context, location)}-ci"
    ctx = dict(context)
    if isinstance(value.get("container_id"), str):
        ctx["container_id"] = value["container_id"]
    outputs = value.get("outputs")
    if not isinstance(outputs, list):
        return
    k = 0
    for index, output in enumerate(outputs):
        output = to_json_value(output, location)
        if not isinstance(output, Mapping) or output.get("type") != "image":
            continue
        where = location.child("outputs", index, "url")
        yield synthetic(f"{call_id}-{k}", output.get("url"), where, ctx)
        k += 1


# -- Responses API -----------------------------------------------------------------------


class Response(Reader):
    """A Responses API ``response`` object."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        return value.get("object") == "response" or isinstance(value.get("output"), list)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield from response_items(value, location, context, walk_unknown=self.walker.discover_in)


def response_context(response: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` plus the response's id and model."""
    ctx = dict(context)
    for key, field in (("response_id", "id"), ("model", "model")):
        if isinstance(response.get(field), str):
            ctx[key] = response[field]
    return ctx


def response_items(
    value: Mapping[str, Any],
    location: Location,
    context: Mapping[str, Any],
    *,
    report_failure: bool = True,
    walk_unknown: Any = None,
) -> Iterator[Found]:
    """Items in ``output[]``, and echoed items in ``instructions[]`` / ``input[]``.

    Echoed items without image data are references to earlier turns and are skipped.
    Output items of a type imgcall does not know are handed to ``walk_unknown`` (the
    search by content) when given. A failed response with no image is reported (when
    ``report_failure``).
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
            where = location.child(field, index)
            if field != "output" and not _has_image_data(element):
                continue
            if kind == ITEM:
                yield item(element, where, ctx)
            elif kind == openrouter.SERVER_TOOL:
                yield openrouter.server_tool(element, where, ctx, index)
            elif kind == CODE_INTERPRETER:
                for image in code_interpreter_images(element, where, ctx):
                    found = True
                    yield image
                continue
            elif field == "output" and walk_unknown is not None and kind not in _NOT_IMAGES:
                for image in walk_unknown(element, where, ctx):
                    found = True
                    yield image
                continue
            else:
                continue
            found = True
    if report_failure and not found:
        failure = response_failure(value, location, ctx)
        if failure is not None:
            yield failure


# Output items that carry text or tool calls, never an image: not worth a look.
_NOT_IMAGES = frozenset(
    ("message", "reasoning", "function_call", "web_search_call", "file_search_call")
)


def _has_image_data(element: Mapping[str, Any]) -> bool:
    kind = element.get("type")
    if kind == ITEM:
        return bool(element.get("result"))
    if kind == CODE_INTERPRETER:
        return bool(element.get("outputs"))
    return any(element.get(key) for key in openrouter.SERVER_TOOL_DATA)


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
        f"{what} failed: {describe_error(error)}",
        location=location.child("error"),
        code=error_code(error),
    )
    return problem(rid, location, value.get("status") or "failed", failure, context)


# -- Chat completions --------------------------------------------------------------------


class Chat(Reader):
    """``choices[].message.images[]`` and, in stream chunks, ``choices[].delta.images[]``.

    Ids are ``<completion id>-<choice index>-<k>``; the images of a stream are numbered
    across its chunks.
    """

    def __init__(self, walker: Any) -> None:
        super().__init__(walker)
        self._counts: dict[tuple[str, int], int] = {}

    def claims(self, value: Mapping[str, Any]) -> bool:
        return isinstance(value.get("choices"), list)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        ctx = response_context(value, context)
        _keep_filters(value, ctx, "prompt_filter_results")
        base = base_id(ctx, location, value.get("created"))
        for position, choice in enumerate(value.get("choices") or ()):
            if not isinstance(choice, Mapping):
                continue
            number = choice.get("index")
            number = number if isinstance(number, int) and abs(number) < 10**9 else position
            for key in ("message", "delta"):
                message = choice.get(key)
                images = message.get("images") if isinstance(message, Mapping) else None
                if not isinstance(images, list):
                    continue
                for k, image in enumerate(images):
                    index = self._next(base, number) if key == "delta" else k
                    data, parts = _chat_image(image)
                    where = location.child("choices", position, key, "images", k, *parts)
                    yield synthetic(f"{base}-{number}-{index}", data, where, ctx)

    def _next(self, base: str, choice: int) -> int:
        key = (base, choice)
        index = self._counts.get(key, 0)
        self._counts[key] = index + 1
        return index


def _chat_image(image: object) -> tuple[object, tuple[str, ...]]:
    if not isinstance(image, Mapping):
        return image, ()
    url = image.get("image_url")
    if isinstance(url, Mapping):
        return url.get("url"), ("image_url", "url")
    if url is not None:
        return url, ("image_url",)
    return image.get("url"), ("url",)


def _keep_filters(value: Mapping[str, Any], ctx: dict[str, Any], *keys: str) -> None:
    # Azure OpenAI adds its content-filter verdicts beside the images; users audit them.
    for key in keys:
        if value.get(key) is not None:
            ctx[key] = value[key]


# -- Images API --------------------------------------------------------------------------


class ImagesBody(Reader):
    """An Images API body: every ``data[]`` entry, with its declared format."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        data = value.get("data")
        if not isinstance(data, list) or value.get("object") == "list":
            return False
        if not data:
            return "created" in value
        return all(isinstance(e, Mapping) and ("b64_json" in e or "url" in e) for e in data)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        ctx = dict(context)
        _keep_filters(value, ctx, "usage", "prompt_filter_results")
        base = base_id(ctx, location, value.get("created"))
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
            entry_ctx = ctx
            if entry.get("content_filter_results") is not None:
                entry_ctx = {**ctx, "content_filter_results": entry["content_filter_results"]}
            where = location.child("data", k, key)
            yield synthetic(f"{base}-{k}", data, where, entry_ctx, extra=extra)


# -- errors sent instead of a result ------------------------------------------------------


class ErrorBody(Reader):
    """An API error body (``{"error": {...}}``) or a stream ``error`` event, as a `Problem`.

    Azure OpenAI's blocks (``content_policy_violation`` with ``inner_error``) keep the
    inner code in the message and the filter verdicts in the context.
    """

    types = ("error",)

    def claims(self, value: Mapping[str, Any]) -> bool:
        return isinstance(value.get("error"), Mapping)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield error_body(value, location, context)


def error_body(value: Mapping[str, Any], location: Location, context: Mapping[str, Any]) -> Problem:
    """An API error body or stream ``error`` event as a `Problem`."""
    error = value.get("error")
    if not isinstance(error, Mapping):
        error = {key: value.get(key) for key in ("message", "code") if value.get(key)}
    ctx = dict(context)
    inner = error.get("inner_error", error.get("innererror"))
    if isinstance(inner, Mapping):
        for key in ("content_filter_results", "revised_prompt"):
            if inner.get(key) is not None:
                ctx[key] = inner[key]
    failure = ImageGenerationFailedError(
        f"the API reported an error: {describe_error(error)}",
        location=location,
        code=error_code(error),
    )
    return problem(None, location, "failed", failure, ctx)

"""Google's batch outputs: Gemini Batch API lines and inline results, Vertex predictions.

- Gemini Batch API output files: JSON Lines of ``key`` with ``response`` (a
  ``generateContent`` response) or an ``error`` (a ``google.rpc.Status``);
- inline results of a batch job (``response.inlinedResponses.inlinedResponses[]``, the
  REST shape nests it twice), each with its ``metadata.key``;
- Vertex AI batch prediction output (``predictions.jsonl``): ``request`` with
  ``response``, or a ``status`` text on failure; the ``request``, which may hold the
  caller's own input images, is never read.

A batch ``key`` plays the part of ``custom_id``; keys are not unique (one key can bring
several images on several lines), and `imgcall.providers.google` keeps numbering the
images of a repeated key, so names never clash.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._lazyre import lazy_pattern
from ..errors import EmptyResultError, ImageGenerationFailedError, InvalidInputError
from ..items import Location
from ._base import Found, Reader, base_id, describe_error, error_code, problem

__all__ = ["BatchLine", "InlinedResponses", "VertexPrediction"]


def _batch_entry(
    walker: Any,
    key: object,
    reply: object,
    error: object,
    location: Location,
    context: Mapping[str, Any],
    what: str,
    *,
    name: str | None = None,
) -> Iterator[Found]:
    """One batch result: its response's images, or a problem naming its key.

    ``name`` stands in for a missing key in a problem's id and message.
    """
    ctx = dict(context)
    if isinstance(key, str) and key:
        ctx["custom_id"] = key
    else:
        key = name
    request = f"{what} {key!r}" if isinstance(key, str) and key else what
    if isinstance(error, Mapping) and error:
        failure = ImageGenerationFailedError(
            f"{request} failed: {describe_error(error)}",
            location=location.child("error"),
            code=error_code(error),
        )
        yield problem(key, location, "failed", failure, ctx)
        return
    if not isinstance(reply, Mapping):
        invalid = InvalidInputError(
            f"{request} has neither a response nor an error", location=location
        )
        yield problem(key, location, None, invalid, ctx)
        return
    count = 0
    for found in walker.walk(reply, location.child("response"), ctx):
        count += 1
        yield found
    if not count:
        empty = EmptyResultError(
            f"{request} succeeded but its response holds no image",
            location=location.child("response"),
        )
        yield problem(key, location, None, empty, ctx)


class BatchLine(Reader):
    """A Gemini Batch API output line: ``key`` with ``response``, or an ``error``."""

    batch = True

    def claims(self, value: Mapping[str, Any]) -> bool:
        return "key" in value and any(k in value for k in ("response", "error", "status"))

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        error = value.get("error")
        if error is None and isinstance(value.get("status"), Mapping):
            error = value["status"]  # a google.rpc.Status in place of the response
        yield from _batch_entry(
            self.walker,
            value.get("key"),
            value.get("response"),
            error,
            location,
            context,
            "batch request",
        )


_INLINED = ("inlinedResponses", "inlined_responses")
# Where a batch job (or the operation wrapping it) keeps its inline results.
_PLACES: tuple[tuple[str, ...], ...] = (
    (),
    ("response",),
    ("dest",),
    ("output",),
    ("metadata", "output"),
)


def _inlined(value: Mapping[str, Any]) -> tuple[list[Any], tuple[str, ...]] | None:
    """The inline results of a batch job and where they sit, or ``None``."""
    # Asked of every record that no reader before it claims (each OpenAI batch line and
    # its body), so parsed JSON's own types are told apart before the Mapping check.
    for path in _PLACES:
        node: Any = value
        for key in path:
            node = node.get(key) if type(node) is dict or _is_mapping(node) else None
        if type(node) is not dict and not _is_mapping(node):
            continue
        if _INLINED[0] not in node and _INLINED[1] not in node:
            continue
        for key in _INLINED:
            found = node.get(key)
            if isinstance(found, Mapping):  # the REST shape nests it twice
                for inner in _INLINED:
                    if isinstance(found.get(inner), list):
                        return found[inner], (*path, key, inner)
            if isinstance(found, list):
                return found, (*path, key)
    return None


def _is_mapping(node: object) -> bool:
    return type(node) not in _JSON_SCALARS and isinstance(node, Mapping)


_JSON_SCALARS = frozenset((list, str, int, float, bool, type(None)))


class InlinedResponses(Reader):
    """A Gemini batch job with inline results (``inlinedResponses``)."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        return _inlined(value) is not None

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        found = _inlined(value)
        assert found is not None
        entries, path = found
        ctx = dict(context)
        if isinstance(value.get("name"), str):
            ctx["batch"] = value["name"]
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                continue
            metadata = entry.get("metadata")
            key = entry.get("key")
            if key is None and isinstance(metadata, Mapping):
                key = metadata.get("key")
            where = location.child(*path, index)
            yield from _batch_entry(
                self.walker,
                key,
                entry.get("response"),
                entry.get("error"),
                where,
                ctx,
                "batch request",
            )


_status_code = lazy_pattern(r'"status"\s*:\s*"([A-Z_]{3,40})"')


class VertexPrediction(Reader):
    """A Vertex AI batch prediction line: ``request`` with ``response`` or ``status``.

    The ``request`` (which may hold the caller's own input images) is never read.
    """

    batch = True

    def claims(self, value: Mapping[str, Any]) -> bool:
        return "request" in value and ("response" in value or "status" in value)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        status = value.get("status")
        reply = value.get("response")
        key = value.get("key")
        error: Any = None
        if isinstance(status, str) and status.strip() and not isinstance(reply, Mapping):
            match = _status_code().search(status)
            error = {"message": status, "code": match.group(1) if match else None}
        elif isinstance(status, Mapping) and status.get("message"):
            error = status
        ctx = dict(context)
        if isinstance(value.get("processed_time"), str):
            ctx["processed_time"] = value["processed_time"]
        # Vertex lines often have no key: a failure is then named after its line.
        name = key if isinstance(key, str) and key else base_id(ctx, location)
        yield from _batch_entry(
            self.walker, key, reply, error, location, ctx, "prediction", name=name
        )

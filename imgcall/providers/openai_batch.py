"""OpenAI Batch API output lines: ``custom_id`` with ``response`` (``status_code`` and
``body``) or ``error``.

Each line stands alone (`Reader.batch`), so a large output file may be read in byte
ranges apart (`imgcall.shards`). The ``body`` is any OpenAI body (a Responses object,
an Images API body, a chat completion), walked by the registry as if it came alone, with
the ``custom_id`` (and the batch request ``id``) in its context.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import EmptyResultError, ImageGenerationFailedError, InvalidInputError
from ..items import Location
from ._base import Found, Reader, describe_error, error_code, problem

__all__ = ["BatchLine"]


class BatchLine(Reader):
    """A Batch API output line (``custom_id`` with ``response`` or ``error``).

    A line with ``error`` set or an HTTP status of 400 or more is an
    `ImageGenerationFailedError` naming the ``custom_id``; a successful body without
    any image is an `EmptyResultError`.
    """

    batch = True

    def claims(self, value: Mapping[str, Any]) -> bool:
        return "custom_id" in value and ("response" in value or "error" in value)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        custom_id = value.get("custom_id")
        ctx = dict(context)
        ctx["custom_id"] = custom_id
        if isinstance(value.get("id"), str):
            ctx["batch_request_id"] = value["id"]
        request = f"batch request {custom_id!r}"
        reply = value.get("response")
        if value.get("error") is not None:
            failure = ImageGenerationFailedError(
                f"{request} failed: {describe_error(value['error'])}",
                location=location.child("error"),
                code=error_code(value["error"]),
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
                f"{request} failed with HTTP {code}: {describe_error(api_error)}",
                location=where,
                code=error_code(api_error) or str(code),
            )
            yield problem(custom_id, location, "failed", failure, ctx)
            return
        count = 0
        for found in self.walker.walk(body, where, ctx):
            count += 1
            yield found
        if not count:
            detail = _why_empty(body)
            shown = code if isinstance(code, int) and abs(code) < 10**6 else "?"
            empty = EmptyResultError(
                f"{request} succeeded (HTTP {shown}) but its response holds no image{detail}",
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

"""Amazon Bedrock: image bodies of Titan Image, Nova Canvas and the Stability models.

An InvokeModel body holds ``images[]``, bare base64 strings whose format only the bytes
tell. Titan and Nova report an output-side content filter as an ``error`` string beside
(or instead of) the images; the Stability models send ``finish_reasons[]`` parallel to
``images[]`` and ``seeds[]``, where a non-null reason (``Filter reason: output image``)
means image k is not the image that was asked for. Batch inference writes one
``.jsonl.out`` per input file, each line a ``recordId`` with ``modelOutput`` (the body)
or an ``error`` (``errorCode``, ``errorMessage``); ``recordId`` plays the part of
``custom_id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import EmptyResultError, ImageGenerationFailedError, InvalidInputError
from ..items import Location
from ._base import Found, Reader, base_id, describe_error, error_code, problem, synthetic, text_of

__all__ = ["BatchRecord", "ImageBody", "is_image_list"]


def is_image_list(value: object) -> bool:
    """A non-empty list whose entries are strings (base64) or null."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(v is None or isinstance(v, str) for v in value)
        and any(isinstance(v, str) for v in value)
    )


class ImageBody(Reader):
    """A Bedrock image body: ``images[]``, with ``error`` or ``finish_reasons[]``."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        images = value.get("images")
        if is_image_list(images):
            return True
        # All images blocked: Titan / Nova send the error with an empty (or no) list.
        return isinstance(value.get("error"), str) and (images is None or images == [])

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        base = base_id(context, location)
        ctx = dict(context)
        seeds = value.get("seeds")
        reasons = value.get("finish_reasons")
        images = value.get("images")
        images = images if isinstance(images, list) else []
        error = text_of(value.get("error"), 400)
        for k, data in enumerate(images):
            image_id = f"{base}-{k}"
            where = location.child("images", k)
            image_ctx = ctx
            if isinstance(seeds, list) and k < len(seeds) and isinstance(seeds[k], int):
                image_ctx = {**ctx, "seed": seeds[k]}
            reason = reasons[k] if isinstance(reasons, list) and k < len(reasons) else None
            if reason is not None:
                shown = text_of(reason, 200) or "an unknown reason"
                failure = ImageGenerationFailedError(
                    f"Bedrock did not deliver image {k}: {shown}",
                    location=location.child("finish_reasons", k),
                    code=shown,
                )
                yield problem(image_id, location, "failed", failure, image_ctx)
                continue
            yield synthetic(image_id, data, where, image_ctx)
        if error is not None:
            some = "some" if images else "all"
            failure = ImageGenerationFailedError(
                f"Bedrock blocked {some} of the images: {error}",
                location=location.child("error"),
            )
            yield problem(f"{base}-blocked", location, "failed", failure, ctx)


class BatchRecord(Reader):
    """A Bedrock batch inference output line (``recordId``)."""

    batch = True

    def claims(self, value: Mapping[str, Any]) -> bool:
        return "recordId" in value and ("modelOutput" in value or "error" in value)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        record = value.get("recordId")
        ctx = dict(context)
        if isinstance(record, str) and record:
            ctx["custom_id"] = record
        what = f"batch record {record!r}" if isinstance(record, str) else "the batch record"
        error = value.get("error")
        if isinstance(error, Mapping) and error:
            failure = ImageGenerationFailedError(
                f"{what} failed: {describe_error(error)}",
                location=location.child("error"),
                code=error_code(error),
            )
            yield problem(record, location, "failed", failure, ctx)
            return
        output = value.get("modelOutput")
        if not isinstance(output, Mapping):
            invalid = InvalidInputError(
                f"{what} has neither a modelOutput nor an error", location=location
            )
            yield problem(record, location, None, invalid, ctx)
            return
        count = 0
        for found in self.walker.walk(output, location.child("modelOutput"), ctx):
            count += 1
            yield found
        if not count:
            empty = EmptyResultError(
                f"{what} succeeded but its modelOutput holds no image",
                location=location.child("modelOutput"),
            )
            yield problem(record, location, None, empty, ctx)

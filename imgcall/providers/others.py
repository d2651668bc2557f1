"""Other generators' image lists: Automatic1111 / Forge, fal, Replicate.

- Automatic1111 and Forge (``/sdapi/v1/txt2img``): ``images[]`` of bare base64 PNGs
  beside ``parameters`` and ``info`` (a JSON string, kept as context).
- fal: ``images[]`` of ``{url, content_type, width, height}``; with ``sync_mode`` the
  ``url`` is a data URI. ``has_nsfw_concepts`` and ``seed`` are kept in the context.
- Replicate predictions: ``output`` (one value or a list) of data URIs, or of URLs
  (reported, never fetched); their declared MIME type is sometimes wrong, and the bytes
  win, with a warning. A failed prediction's ``error`` is a problem.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ImageGenerationFailedError
from ..items import Location
from ._base import Found, Reader, base_id, problem, synthetic, text_of
from .bedrock import is_image_list

__all__ = ["Automatic1111", "Fal", "Replicate"]


class Automatic1111(Reader):
    """An Automatic1111 / Forge ``txt2img`` / ``img2img`` reply."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        return is_image_list(value.get("images")) and ("parameters" in value or "info" in value)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        ctx = dict(context)
        parameters = value.get("parameters")
        if isinstance(parameters, Mapping) and isinstance(parameters.get("prompt"), str):
            ctx["revised_prompt"] = parameters["prompt"]
        if isinstance(value.get("info"), str):
            ctx["info"] = value["info"]
        base = base_id(ctx, location)
        for k, data in enumerate(value.get("images") or ()):
            yield synthetic(f"{base}-{k}", data, location.child("images", k), ctx)


class Fal(Reader):
    """A fal reply: ``images[]`` of objects with a ``url`` (a data URI in sync mode)."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        images = value.get("images")
        return (
            isinstance(images, list)
            and bool(images)
            and all(isinstance(i, Mapping) and "url" in i for i in images)
        )

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        ctx = dict(context)
        for key in ("seed", "has_nsfw_concepts", "request_id"):
            if value.get(key) is not None:
                ctx[key] = value[key]
        if isinstance(value.get("prompt"), str):
            ctx["revised_prompt"] = value["prompt"]
        base = base_id(ctx, location)
        for k, image in enumerate(value.get("images") or ()):
            extra = {"media_type": image.get("content_type")}
            where = location.child("images", k, "url")
            yield synthetic(f"{base}-{k}", image.get("url"), where, ctx, extra=extra)


class Replicate(Reader):
    """A Replicate prediction (``id``, ``status``, ``output``, ``urls``)."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        return (
            "output" in value
            and isinstance(value.get("status"), str)
            and (isinstance(value.get("urls"), Mapping) or "version" in value)
        )

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        ctx = dict(context)
        own = value.get("id")
        if isinstance(own, str) and own:
            ctx["response_id"] = own
        if isinstance(value.get("model"), str):
            ctx["model"] = value["model"]
        base = base_id(ctx, location)
        status = value.get("status")
        output = value.get("output")
        outputs = output if isinstance(output, list) else [output]
        images = [(k, o) for k, o in enumerate(outputs) if isinstance(o, str) and o]
        for k, data in images:
            where = (
                location.child("output", k)
                if isinstance(output, list)
                else location.child("output")
            )
            yield synthetic(f"{base}-{k}", data, where, ctx)
        if not images and status in ("failed", "canceled"):
            detail = text_of(value.get("error"), 400)
            failure = ImageGenerationFailedError(
                f"the prediction {status}" + (f": {detail}" if detail else ""),
                location=location.child("error"),
                code=status,
            )
            yield problem(base, location, status, failure, ctx)

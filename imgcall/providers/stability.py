"""Stability AI's REST API: v1 ``artifacts[]`` and the v2beta JSON body.

v1 sends ``artifacts[]`` of ``{base64, seed, finishReason}``; v2beta (with ``Accept:
application/json``) sends ``{image, finish_reason, seed}``. A ``CONTENT_FILTERED``
image is a blurred stand-in and ``ERROR`` is no image at all: both are problems
carrying that reason as their code, never saved as if they were the image asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ImageGenerationFailedError
from ..items import Location
from ._base import Found, Reader, base_id, problem, synthetic, text_of

__all__ = ["Artifacts", "ImageBody"]

_OK = ("SUCCESS", "success", None)


def _image(
    data: object,
    reason: object,
    seed: object,
    image_id: str,
    location: Location,
    data_key: str,
    reason_key: str,
    context: Mapping[str, Any],
) -> Found:
    ctx = dict(context)
    if isinstance(seed, int) and not isinstance(seed, bool) and abs(seed) < 10**20:
        ctx["seed"] = seed
    if reason not in _OK:
        code = text_of(reason, 80) or "unknown"
        what = {
            "CONTENT_FILTERED": "the image was blurred by the content filter",
            "ERROR": "the generation failed",
        }.get(code, f"the generation finished with {code}")
        failure = ImageGenerationFailedError(
            f"Stability did not deliver the image: {what} ({code})",
            location=location.child(reason_key),
            code=code,
        )
        return problem(image_id, location, "failed", failure, ctx)
    return synthetic(image_id, data, location.child(data_key), ctx)


class Artifacts(Reader):
    """Stability v1: ``artifacts[]``."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        artifacts = value.get("artifacts")
        return isinstance(artifacts, list) and all(isinstance(a, Mapping) for a in artifacts)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        base = base_id(context, location)
        for k, artifact in enumerate(value.get("artifacts") or ()):
            yield _image(
                artifact.get("base64"),
                artifact.get("finishReason"),
                artifact.get("seed"),
                f"{base}-{k}",
                location.child("artifacts", k),
                "base64",
                "finishReason",
                context,
            )


class ImageBody(Reader):
    """Stability v2beta JSON: ``{image, finish_reason, seed}``."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        return isinstance(value.get("image"), str) and "finish_reason" in value

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield _image(
            value.get("image"),
            value.get("finish_reason"),
            value.get("seed"),
            f"{base_id(context, location)}-0",
            location,
            "image",
            "finish_reason",
            context,
        )

"""Google's Interactions API: image outputs of an interaction, and its stream events.

An ``Interaction`` holds ``outputs[]`` of content blocks; an ``image`` block carries
``data`` (base64) and ``mime_type``, or only a ``uri``. Its stream sends
``content.start`` / ``content.delta`` / ``content.stop`` events (``step.*`` in the newer
protocol) whose ``delta`` of type ``image`` holds the image, and ends with
``interaction.complete`` (or ``interaction.completed``), whose interaction usually has
its outputs emptied. Images inside a thought summary are interim images (partials).
Ids are ``<interaction id>-<output index>``; an image seen in the stream and again in the
final interaction is yielded once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import ImageGenerationFailedError
from ..items import Location
from ._base import Found, Reader, base_id, problem, synthetic

__all__ = ["Interaction", "InteractionEvents"]

_EVENT_PREFIXES = ("content.", "step.", "interaction.")
_FAILED = ("failed", "cancelled", "incomplete")


def _image(
    block: Mapping[str, Any],
    image_id: str,
    location: Location,
    context: Mapping[str, Any],
    partial_index: int | None = None,
) -> Found:
    data = block.get("data")
    key = "data"
    if not data and isinstance(block.get("uri"), str):
        data, key = block["uri"], "uri"
    return synthetic(
        image_id,
        data,
        location.child(key),
        context,
        status="generating" if partial_index is not None else "completed",
        extra={"media_type": block.get("mime_type")},
        partial_index=partial_index,
    )


def _thought_images(block: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    summary = block.get("summary")
    if isinstance(summary, Mapping):
        summary = [summary]
    if not isinstance(summary, list):
        return []
    return [
        (i, part)
        for i, part in enumerate(summary)
        if isinstance(part, Mapping) and part.get("type") == "image"
    ]


class _Outputs:
    """What one interaction has yielded so far (ids and interim-image counts)."""

    def __init__(self) -> None:
        self.done: set[str] = set()
        self.thoughts: dict[str, int] = {}

    def read(
        self,
        interaction: Mapping[str, Any],
        location: Location,
        context: Mapping[str, Any],
        partials: bool,
    ) -> Iterator[Found]:
        base = _base(interaction, context, location)
        ctx = _context(interaction, context)
        outputs = interaction.get("outputs")
        for index, block in enumerate(outputs if isinstance(outputs, list) else ()):
            if not isinstance(block, Mapping):
                continue
            where = location.child("outputs", index)
            yield from self.block(block, f"{base}-{index}", where, ctx, partials)
        status = interaction.get("status")
        if status in _FAILED and not self.done:
            failure = ImageGenerationFailedError(
                f"the interaction ended {status} without an image", location=location
            )
            yield problem(base, location, status, failure, ctx)

    def block(
        self,
        block: Mapping[str, Any],
        image_id: str,
        location: Location,
        context: Mapping[str, Any],
        partials: bool,
    ) -> Iterator[Found]:
        kind = block.get("type")
        if (
            kind == "image"
            and image_id not in self.done
            and (block.get("data") or block.get("uri"))
        ):
            self.done.add(image_id)
            yield _image(block, image_id, location, context)
        elif kind in ("thought", "thought_summary"):
            for i, part in _thought_images(
                block if kind == "thought" else {"summary": block.get("content")}
            ):
                index = self.thoughts.get(image_id, 0)
                self.thoughts[image_id] = index + 1
                if partials:
                    where = (
                        location.child("summary", i)
                        if kind == "thought"
                        else location.child("content")
                    )
                    yield _image(part, image_id, where, context, partial_index=index)


def _base(interaction: Mapping[str, Any], context: Mapping[str, Any], location: Location) -> str:
    own = interaction.get("id")
    return own if isinstance(own, str) and own else base_id(context, location)


def _context(interaction: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    ctx = dict(context)
    if isinstance(interaction.get("id"), str):
        ctx["response_id"] = interaction["id"]
    if isinstance(interaction.get("model"), str):
        ctx["model"] = interaction["model"]
    return ctx


class Interaction(Reader):
    """A whole ``Interaction`` (``outputs[]`` of content blocks)."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        outputs = value.get("outputs")
        return (
            isinstance(outputs, list)
            and "type" not in value
            and ("status" in value or "id" in value)
            and all(isinstance(o, Mapping) and "type" in o for o in outputs)
        )

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        yield from _Outputs().read(value, location, context, self.walker.partials)


class InteractionEvents(Reader):
    """The Interactions API stream: ``interaction.*``, ``content.*`` and ``step.*`` events."""

    def __init__(self, walker: Any) -> None:
        super().__init__(walker)
        self._outputs = _Outputs()
        self._interaction: dict[str, Any] = {}

    def claims(self, value: Mapping[str, Any]) -> bool:
        kind = value.get("event_type")
        return isinstance(kind, str) and kind.startswith(_EVENT_PREFIXES)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        kind = value["event_type"]
        interaction = value.get("interaction")
        if isinstance(interaction, Mapping):
            if kind in ("interaction.start", "interaction.created"):
                self._outputs = _Outputs()
            self._interaction = dict(interaction)
            if kind.startswith("interaction.complete"):
                where = location.child("interaction")
                yield from self._outputs.read(interaction, where, context, self.walker.partials)
            return
        ctx = _context(self._interaction, context)
        base = _base(self._interaction, context, Location(location.input))
        index = value.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 10**6:
            index = 0
        for key in ("delta", "content", "step"):
            block = value.get(key)
            if isinstance(block, Mapping):
                where = location.child(key)
                yield from self._outputs.block(
                    block, f"{base}-{index}", where, ctx, self.walker.partials
                )

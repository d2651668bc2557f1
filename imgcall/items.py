"""What scanners hand to the decoder: a found item, where it was found, and its status.

Saving a response or a batch file needs an item's id, status, base64 text and a few
extra fields, not a pydantic model: importing pydantic and building
`imgcall.models.ImageGenerationCall` costs more at start-up (~100 ms on the project's
machines) than extracting a 40 MB response. So the scanners make an `Item` straight
from a parsed value whose fields are plainly well-formed (a string ``id`` and
``status``, a string or null ``result``, string keys), and send anything else through
`imgcall.models.parse_call`, so every invalid item is reported exactly as the model
reports it. `Item.to_call` gives the public model; `imgcall.iter_calls` yields those.

An item's ``result`` may still be a `imgcall.lazytext.LazyText` (the text left in the
input buffer); the decoder reads it from there, so saving never copies the base64 into
a Python string. `Location` and `ImageGenerationStatus` live here for the same reason:
the scanners need them without pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from .lazytext import LazyText, materialized

if TYPE_CHECKING:
    from .models import ImageGenerationCall

__all__ = ["ITEM", "KNOWN_STATUSES", "ImageGenerationStatus", "Item", "Location", "read_item"]

ITEM = "image_generation_call"
_MODEL_FIELDS = frozenset(("type", "id", "status", "result"))


class ImageGenerationStatus(str, Enum):
    """The documented statuses of an item; the API's enum is open, so others are kept."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    GENERATING = "generating"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


KNOWN_STATUSES: dict[str, ImageGenerationStatus] = {s.value: s for s in ImageGenerationStatus}


@dataclass(frozen=True)
class Location:
    """Where an item was found: the input's name, a line number, and a JSON-pointer path.

    ``str(location)`` reads like ``batch.jsonl:12#/response/body/output/0``.
    """

    input: str
    pointer: str = ""
    """JSON-pointer-like path inside the record, e.g. ``/output/0``; empty for the root."""
    line: int | None = None
    """1-based line number of the record in a JSON Lines or SSE input."""
    column: int | None = None

    def child(self, *parts: str | int) -> Location:
        """The location of a value nested inside this one."""
        pointer = self.pointer
        for part in parts:  # a loop, not a generator: two locations are made per item
            text = str(part)
            if "~" in text or "/" in text:
                text = text.replace("~", "~0").replace("/", "~1")
            pointer += "/" + text
        return Location(self.input, pointer, self.line, self.column)

    def __str__(self) -> str:
        text = self.input
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        if self.pointer:
            text += f"#{self.pointer}"
        return text


class Item:
    """One valid image item as the scanners found it, with where it came from.

    Holds what the decoder and the saver read: ``id``, ``status`` (an
    `ImageGenerationStatus` when it is a known one), ``result``, the ``extra`` fields,
    and the origin (``location``, ``context``, ``partial_index``).
    """

    __slots__ = (
        "context",
        "extra",
        "fields",
        "id",
        "location",
        "notes",
        "partial_index",
        "result",
        "status",
    )

    def __init__(
        self,
        fields: Mapping[str, Any] | ImageGenerationCall,
        id: str,
        status: str,
        result: str | None,
        extra: Mapping[str, Any],
    ) -> None:
        # The item as it was found (or its model): `to_call` validates it into the model.
        self.fields = fields
        self.id = id
        self.status = status
        self.result = result
        self.extra = extra
        self.location: Location | None = None
        self.context: Mapping[str, Any] = {}
        self.partial_index: int | None = None
        self.notes: tuple[str, ...] = ()
        """What the scanner wants said about the item (e.g. that it was found by content);
        the decoder adds these to the image's warnings."""

    @classmethod
    def from_call(cls, call: ImageGenerationCall) -> Item:
        """The item of an already-validated model (its origin included)."""
        item = cls(call, call.id, call.status, call.result, call.model_extra or {})
        item.location, item.context = call.location, call.context
        item.partial_index = call.partial_index
        item.notes = call.notes
        return item

    @property
    def partial(self) -> bool:
        """True for a partial (preview) image from a stream, never the final one."""
        return self.partial_index is not None

    def with_origin(
        self,
        location: Location | None = None,
        context: Mapping[str, Any] | None = None,
        partial_index: int | None = None,
    ) -> Item:
        """Attach where the item came from; returns ``self``."""
        if location is not None:
            self.location = location
        if context is not None:
            self.context = dict(context)
        if partial_index is not None:
            self.partial_index = partial_index
        return self

    def to_call(self) -> ImageGenerationCall:
        """The public pydantic model of this item, with the same origin."""
        from .models import ImageGenerationCall, parse_call

        if isinstance(self.fields, ImageGenerationCall):
            return self.fields
        call = parse_call(self.fields)
        return call.with_origin(self.location, self.context, self.partial_index, self.notes)

    def __repr__(self) -> str:
        size = "None" if self.result is None else f"<{_length(self.result)} chars>"
        return f"Item(id={self.id!r}, status={str(self.status)!r}, result={size})"


def read_item(value: Mapping[str, Any]) -> Item:
    """An `Item` from a parsed ``image_generation_call`` object.

    Raises:
        InvalidItemError: the object is not a valid item (from `imgcall.models.parse_call`,
            which reads every object this fast path is not sure of).
    """
    if type(value) is dict:
        ident = value.get("id")
        status = value.get("status")
        result = value.get("result")
        if (
            value.get("type") == ITEM
            and type(ident) is str
            and type(status) is str
            and (result is None or type(result) is str or type(result) is LazyText)
            and all(type(key) is str for key in value)
        ):
            extra = materialized({key: v for key, v in value.items() if key not in _MODEL_FIELDS})
            return Item(value, ident, KNOWN_STATUSES.get(status, status), result, extra)
    from .models import parse_call

    return Item.from_call(parse_call(value))


def _length(text: str) -> int:
    return text.size if isinstance(text, LazyText) else len(text)

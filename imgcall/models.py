"""The wire model: one ``image_generation_call`` item, and where it was found.

`ImageGenerationCall` mirrors the Responses API item and nothing more: it does no I/O,
holds no Pillow objects, keeps every field the API adds (so a dump gives back the input),
and never prints its base64 ``result``. The scanners attach where an item came from
(`Location`) and its surroundings (``custom_id``, ``response_id``, ...) as private
attributes, which do not take part in validation or dumps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pydantic
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ._sdk import dump_sdk
from .errors import InvalidItemError
from .items import KNOWN_STATUSES, ImageGenerationStatus, Location
from .lazytext import materialized

__all__ = ["ImageGenerationCall", "ImageGenerationStatus", "Location", "parse_call"]

# Strings longer than this are shown as their length in reprs: base64 never floods a log.
_REPR_MAX = 200

_USE_ITER_IMAGES = (
    "decode() and parse_call() take one item: for a file, a whole response, a list or a "
    "stream, use imgcall.iter_images(...)"
)


class ImageGenerationCall(BaseModel):
    """One ``image_generation_call`` item, as the Responses API sends it.

    >>> call = parse_call({"type": "image_generation_call", "id": "ig_1",
    ...                    "status": "completed", "result": "iVBORw0KGgo="})
    >>> call  # the base64 is never printed, only its length
    ImageGenerationCall(type='image_generation_call', id='ig_1', status='completed',
    result=<12 chars>)

    Unknown fields (``revised_prompt``, ``output_format``, ``size``, ...) are kept and
    round-trip through ``model_dump(mode="json", exclude_unset=True)``.
    """

    model_config = ConfigDict(frozen=True, extra="allow", use_enum_values=False)

    type: Literal["image_generation_call"]
    """Always ``"image_generation_call"``."""
    id: str
    """The item id, e.g. ``ig_...``."""
    status: ImageGenerationStatus | str
    """One of `ImageGenerationStatus`, or any other string the API sends, kept as is."""
    result: str | None = Field(default=None, repr=False)
    """The base64 image; ``None`` while pending, on failure, or in retrieved responses."""

    _location: Location | None = PrivateAttr(default=None)
    _context: Mapping[str, Any] = PrivateAttr(default_factory=dict)
    _partial_index: int | None = PrivateAttr(default=None)
    _notes: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _read_lazy_text(cls, data: Any) -> Any:
        # Long strings from imgcall's own parser are read from the input buffer only
        # now, one item at a time (see imgcall.lazytext.LazyText).
        return materialized(data)

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: object) -> object:
        if isinstance(value, str) and not isinstance(value, ImageGenerationStatus):
            return KNOWN_STATUSES.get(value, value)
        return value

    @property
    def location(self) -> Location | None:
        """Where the item was found, if it came from a scanner."""
        return self._location

    @property
    def context(self) -> Mapping[str, Any]:
        """What surrounds the item: ``custom_id``, ``response_id``, ``revised_prompt``, ..."""
        return self._context

    @property
    def partial(self) -> bool:
        """True for a partial (preview) image from a stream, never the final one."""
        return self._partial_index is not None

    @property
    def partial_index(self) -> int | None:
        """0-based index of a partial image; ``None`` for a final image."""
        return self._partial_index

    @property
    def notes(self) -> tuple[str, ...]:
        """What the scanner noted about the item (e.g. that it was found by its content);
        decoding adds these to the image's warnings."""
        return self._notes

    def with_origin(
        self,
        location: Location | None = None,
        context: Mapping[str, Any] | None = None,
        partial_index: int | None = None,
        notes: tuple[str, ...] = (),
    ) -> ImageGenerationCall:
        """Attach where the item came from; returns ``self`` (origin is not part of the data)."""
        if location is not None:
            self._location = location
        if context is not None:
            self._context = dict(context)
        if partial_index is not None:
            self._partial_index = partial_index
        if notes:
            self._notes = self._notes + tuple(notes)
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if isinstance(value, ImageGenerationStatus):
                yield name, value.value
            elif isinstance(value, str) and len(value) > _REPR_MAX:
                yield name, _Length(len(value))
            else:
                yield name, value
        if self.result is not None:
            yield "result", _Length(len(self.result))


class _Length:
    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"<{self.n} chars>"


def parse_call(obj: object) -> ImageGenerationCall:
    """Build an `ImageGenerationCall` from a dict, JSON ``str``/``bytes`` or an SDK object.

    SDK objects are anything with ``model_dump()`` (openai-python, pydantic) or
    ``to_dict()``. An `ImageGenerationCall` is returned unchanged.

    Raises:
        InvalidItemError: the object is not a valid item; the message names the field
            and the reason, e.g. ``field 'id': Field required``.
    """
    if isinstance(obj, ImageGenerationCall):
        return obj
    data: object = obj
    if isinstance(obj, os.PathLike):
        raise InvalidItemError(f"{os.fspath(obj)!r} is a path, not an item; {_USE_ITER_IMAGES}")
    if isinstance(obj, (str, bytes, bytearray, memoryview)):
        try:
            # Encoded here: pydantic_core raises a bare TypeError for a str that is not
            # valid Unicode (a lone surrogate), and UnicodeEncodeError is a ValueError.
            data = pydantic_core.from_json(obj.encode() if isinstance(obj, str) else bytes(obj))
        except ValueError as exc:
            head = obj[:64].lstrip()[:1] if isinstance(obj, str) else bytes(obj[:64]).lstrip()[:1]
            # Text that does not even start like JSON is most likely a file name.
            hint = "" if head in ("{", "[", b"{", b"[") else f"; {_USE_ITER_IMAGES}"
            raise InvalidItemError(f"not valid JSON: {exc}{hint}") from exc
    elif not isinstance(obj, Mapping):
        data = _sdk_to_dict(obj)
    if not isinstance(data, Mapping):
        raise InvalidItemError(
            f"expected a JSON object for an image_generation_call item, got {_kind(data)}; "
            f"{_USE_ITER_IMAGES}"
        )
    item_id = data.get("id") if isinstance(data.get("id"), str) else None
    if data.get("type") != "image_generation_call":
        got = data.get("type", None)
        what = "no 'type' field" if "type" not in data else f"type {got!r}"
        raise InvalidItemError(
            f"not an image_generation_call item ({what}); {_USE_ITER_IMAGES}", id=item_id
        )
    try:
        return ImageGenerationCall.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidItemError(_describe(exc), id=item_id) from exc
    except RecursionError as exc:
        # Parsed JSON text is depth-limited, but a Python value handed in is not.
        raise InvalidItemError("the item is nested too deeply to read", id=item_id) from exc


def _sdk_to_dict(obj: object) -> object:
    for method in ("model_dump", "to_dict"):
        fn = getattr(obj, method, None)
        if callable(fn):
            try:
                return dump_sdk(method, fn)
            except Exception as exc:  # an SDK object's own failure: report, do not hide
                raise InvalidItemError(f"{type(obj).__name__}.{method}() failed: {exc}") from exc
    raise InvalidItemError(
        f"cannot read an image_generation_call item from {_kind(obj)}: expected a dict, "
        f"JSON text, or an SDK object with model_dump() or to_dict(); {_USE_ITER_IMAGES}"
    )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return f"a value of type {type(value).__name__}"


def _describe(exc: pydantic.ValidationError) -> str:
    parts: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        field = str(err["loc"][0]) if err["loc"] else "item"
        if field == "status" and err["type"] != "missing":
            # The status union yields one error per branch; one plain sentence is clearer.
            parts[field] = "should be a string such as 'completed'"
        else:
            parts.setdefault(field, err["msg"])
    return "; ".join(f"field {field!r}: {msg}" for field, msg in parts.items())

"""What every provider reader shares: the `Reader` interface and the builders of results.

A reader turns one provider family's JSON shapes into `imgcall.items.Item` records (an
image to decode) and `Problem` records (something that is present but unusable: a
blocked prompt, a failed batch line, an image that is only a URL). Shapes without an
``image_generation_call`` item become items with a stable synthetic id and status
``completed`` (`synthetic`), so a re-run names its files the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Union

from ..errors import ImgcallError, InvalidItemError, Problem, UnsupportedResultError
from ..items import ITEM, Item, Location, read_item

if TYPE_CHECKING:
    from . import Walker

__all__ = [
    "ITEM",
    "Found",
    "Reader",
    "Walk",
    "base_id",
    "describe_error",
    "error_code",
    "is_url",
    "item",
    "problem",
    "synthetic",
    "text_of",
]

Found = Union[Item, Problem]
"""What a scan yields: an image item, or a problem standing in for one."""
Walk = Callable[[Any, Location, Mapping[str, Any]], Iterator[Found]]

_ITEM_CONTEXT = ("revised_prompt", "size", "quality", "background", "output_format", "media_type")


class Reader:
    """One family of shapes. Subclasses say which values they claim and read them.

    The walker (`imgcall.providers.Walker`) makes one instance of every registered
    reader per input, so a reader may keep state across the records of one input (a
    stream's items, a batch file's repeated keys); ``finish`` is called once at the end
    of the input. ``types`` lists the ``type`` values a reader claims outright; other
    values are offered to `claims` in registry order, and the first reader that claims a
    value reads all of it.
    """

    types: ClassVar[tuple[str, ...]] = ()
    """Values of the ``type`` field this reader claims without looking further."""
    prefixes: ClassVar[tuple[str, ...]] = ()
    """Prefixes of the ``type`` field this reader claims (stream events)."""
    batch: ClassVar[bool] = False
    """Its records are batch output lines, each standing alone: a file of them may be
    cut into byte ranges read apart (`imgcall.shards`)."""

    def __init__(self, walker: Walker) -> None:
        self.walker = walker

    def claims(self, value: Mapping[str, Any]) -> bool:
        """True if ``value`` has this reader's shape (checked only when no type matched)."""
        return False

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        """Everything ``value`` holds: items and problems, in order."""
        raise NotImplementedError

    def finish(self) -> Iterator[Found]:
        """Problems for what the input left unfinished (a cut-off stream)."""
        return iter(())


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
    notes: tuple[str, ...] = (),
) -> Found:
    """An item for an image that came without one (chat, Gemini, Bedrock, partials, ...).

    ``extra`` fields (``output_format``, ``media_type``, ...) are kept on the item, where
    the decoder reads the declared format. An http(s) or cloud-storage URL is a
    `Problem` saying where the image is; it is never fetched. ``notes`` become warnings
    of the decoded image (how it was found).
    """
    fields = {key: value for key, value in (extra or {}).items() if value is not None}
    if isinstance(data, str) and is_url(data):
        shown = data if len(data) <= 80 else data[:77] + "..."
        error = UnsupportedResultError(
            f"the image is at a URL ({shown}), not inline data; imgcall never fetches URLs",
            id=id,
            location=location,
        )
        return Problem(id, location, status, error, _item_context(context, fields))
    body: dict[str, Any] = {"type": ITEM, "id": id, "status": status, **fields}
    if data is not None:
        body["result"] = data
    found = item(body, location, context)
    if isinstance(found, Item):
        if partial_index is not None:
            found.with_origin(partial_index=partial_index)
        if notes:
            found.notes = found.notes + notes
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
    if isinstance(created, int) and not isinstance(created, bool) and abs(created) < 10**18:
        return f"img-{created}"
    stem = "image" if location.input.startswith("<") else PurePath(location.input).stem
    return f"{stem}-{location.line}" if location.line is not None else stem


_URL_SCHEMES = ("http://", "https://", "gs://", "s3://")


def is_url(data: str) -> bool:
    """True for an http(s) or cloud-storage URL (an image that is elsewhere)."""
    return data[:16].lstrip().lower().startswith(_URL_SCHEMES)


def text_of(value: object, limit: int = 200) -> str | None:
    """A short, printable version of a provider's message; ``None`` if there is none."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value) if abs(value) < 10**100 else "<a very long number>"
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_code(error: object) -> str | None:
    """The provider's code in an error object: ``code``, ``status``, ``errorCode``, ..."""
    if not isinstance(error, Mapping):
        return None
    keys = ("code", "errorCode", "error_code", "status", "type")
    # Google sends a number and an enum (400, "INVALID_ARGUMENT"): the word says more.
    for key in keys:
        value = error.get(key)
        if isinstance(value, str) and text_of(value, 80) is not None:
            return text_of(value, 80)
    for key in keys:
        code = text_of(error.get(key), 80)
        if code is not None:
            return code
    return None


def describe_error(error: object) -> str:
    """An API error object (``{"message", "code", ...}``) as one readable phrase."""
    if isinstance(error, Mapping):
        message = text_of(
            error.get("message", error.get("errorMessage", error.get("error_message"))), 500
        )
        code = error_code(error)
        inner = error.get("inner_error", error.get("innererror"))
        if isinstance(inner, Mapping) and error_code(inner):
            message = f"{message or ''} [{error_code(inner)}]".strip()
        if message and code:
            return f"{message} ({code})"
        if message or code:
            return str(message or code)
        return text_of(repr(dict(error)), 300) or "no details"
    return text_of(error, 500) or "no details"

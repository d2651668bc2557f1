"""OpenAI stream events: the Responses API stream and the Images API stream.

A stream repeats itself: the final image of an item arrives in
``response.output_item.done`` and again in ``response.completed``; partial images come
before it; a cut-off stream never sends it. `ResponseEvents` keeps just enough state
across records to yield each image once (the first complete result wins), to yield
partials when asked, and to report an item whose final image never came. It holds item
ids, never image data, so its memory does not grow with the images. Code-interpreter
images in a stream are seen once the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._slotted import Slotted
from ..errors import ImageGenerationFailedError, ImageNotReadyError, ImgcallError, Problem
from ..framing import to_json_value
from ..items import ImageGenerationStatus, Item, Location
from . import openai, openrouter
from ._base import ITEM, Found, Reader, base_id, describe_error, item, synthetic

__all__ = ["ImagesEvents", "ResponseEvents", "received"]

_TERMINAL = {"response.completed", "response.failed", "response.incomplete", "response.done"}
_STARTED = {"response.created", "response.queued"}
_IMAGE_EVENT = "response.image_generation_call."
_PARTIAL_FIELDS = ("output_format", "size", "quality", "background", "media_type")
_STREAM_ITEMS = (ITEM, openrouter.SERVER_TOOL, openai.CODE_INTERPRETER)


class _Pending(Slotted):
    """An item the stream announced whose final image has not arrived yet.

    ``call`` is a final item that came without a result (failed, or empty), kept in
    case no complete one follows.
    """

    __slots__ = ("call", "context", "location", "partials", "status")
    __match_args__ = ("location", "context", "status", "partials", "call")

    def __init__(
        self,
        location: Location,
        context: dict[str, Any],
        status: str = "in_progress",
        partials: set[int] | None = None,
        call: Item | None = None,
    ) -> None:
        self.location = location
        self.context = context
        self.status = status
        self.partials: set[int] = set() if partials is None else partials
        self.call = call


def received(partials: set[int], asked: bool) -> str:
    """``; 2 partial images arrived`` (and how to get them), or nothing."""
    if not partials:
        return ""
    n = len(partials)
    text = f"; {n} partial image{'s' if n != 1 else ''} arrived"
    return text if asked else text + " (ask for partials to get them: --partials, or partials=True)"


class ResponseEvents(Reader):
    """Responses API stream events (``response.*``), JSON Lines or SSE."""

    prefixes = ("response.",)

    def __init__(self, walker: Any) -> None:
        super().__init__(walker)
        self._done: set[str] = set()
        self._pending: dict[str, _Pending] = {}
        self._response: dict[str, Any] = {}
        self._images_in_response = 0

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        kind = value["type"]
        response = to_json_value(value.get("response"), location)
        if isinstance(response, Mapping):
            self._response = openai.response_context(response, {})
            if kind in _STARTED:
                self._images_in_response = 0
        ctx = {**context, **self._response}
        if kind in _TERMINAL and isinstance(response, Mapping):
            yield from self._terminal(kind, response, location.child("response"), ctx)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            element = to_json_value(value.get("item"), location)
            if not isinstance(element, Mapping) or element.get("type") not in _STREAM_ITEMS:
                return
            where = location.child("item")
            if element.get("type") == openai.CODE_INTERPRETER:
                if kind.endswith(".done"):
                    for found in openai.code_interpreter_images(element, where, ctx):
                        yield from self._final(found)
                return
            if kind.endswith(".done"):
                yield from self._final(self._read_item(element, value, where, ctx))
            else:
                item_id = self._item_id(element, value, where, ctx)
                self._note(item_id, where, ctx, element.get("status"))
        elif kind.startswith(_IMAGE_EVENT):
            yield from self._image_event(value, kind[len(_IMAGE_EVENT) :], location, ctx)

    def finish(self) -> Iterator[Found]:
        yield from self._resolve(None, "the stream ended before the final image")

    def _read_item(
        self,
        element: Mapping[str, Any],
        event: Mapping[str, Any],
        location: Location,
        context: Mapping[str, Any],
    ) -> Found:
        if element.get("type") == ITEM:
            return item(element, location, context)
        return openrouter.server_tool(element, location, context, _output_index(event))

    def _item_id(
        self,
        element: Mapping[str, Any],
        event: Mapping[str, Any],
        location: Location,
        context: Mapping[str, Any],
    ) -> str | None:
        if element.get("type") == ITEM:
            own = element.get("id")
            return own if isinstance(own, str) else None
        return openrouter.server_tool_id(element, location, context, _output_index(event))

    def _note(
        self, item_id: object, location: Location, context: Mapping[str, Any], status: object
    ) -> _Pending | None:
        if not isinstance(item_id, str) or item_id in self._done:
            return None
        pending = self._pending.get(item_id)
        if pending is None:
            pending = self._pending[item_id] = _Pending(location, dict(context))
            self._images_in_response += 1
        pending.location = location
        if isinstance(status, str):
            pending.status = status
        return pending

    def _final(self, found: Found) -> Iterator[Found]:
        """A final item: yielded once per id, the first complete result winning."""
        item_id = found.id
        if item_id is not None and item_id in self._done:
            return
        if isinstance(found, Item) and not found.result and item_id is not None:
            pending = self._note(item_id, found.location or Location(""), found.context, None)
            if pending is not None:
                pending.status = str(found.status)
                pending.call = found
            return
        if item_id is not None:
            if self._pending.pop(item_id, None) is None:
                self._images_in_response += 1
            self._done.add(item_id)
        yield found

    def _image_event(
        self, event: Mapping[str, Any], what: str, location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        item_id = event.get("item_id")
        status = "in_progress" if what == "in_progress" else "generating"
        pending = self._note(item_id, location, context, status)
        if pending is None or what != "partial_image" or not isinstance(item_id, str):
            return
        index = _index(event.get("partial_image_index"), len(pending.partials))
        if index in pending.partials:
            return
        pending.partials.add(index)
        if self.walker.partials:
            yield synthetic(
                item_id,
                event.get("partial_image_b64"),
                location.child("partial_image_b64"),
                context,
                status="generating",
                extra={key: event.get(key) for key in _PARTIAL_FIELDS},
                partial_index=index,
            )

    def _terminal(
        self,
        kind: str,
        response: Mapping[str, Any],
        location: Location,
        context: Mapping[str, Any],
    ) -> Iterator[Found]:
        for found in openai.response_items(response, location, context, report_failure=False):
            yield from self._final(found)
        error = response.get("error")
        if isinstance(error, Mapping):
            reason = f"the response failed ({describe_error(error)})"
        elif kind == "response.incomplete" or response.get("status") == "incomplete":
            details = response.get("incomplete_details")
            why = details.get("reason") if isinstance(details, Mapping) else None
            reason = "the response ended incomplete" + (f" ({why})" if isinstance(why, str) else "")
        else:
            reason = None
        yield from self._resolve(reason, "the response ended without the final image")
        if isinstance(error, Mapping) and not self._images_in_response:
            failure = openai.response_failure(response, location, context)
            if failure is not None:
                yield failure

    def _resolve(self, reason: str | None, ending: str) -> Iterator[Found]:
        """Settle every pending item: its last final item, or a missing-final problem."""
        for item_id, pending in list(self._pending.items()):
            del self._pending[item_id]
            self._done.add(item_id)
            call = pending.call
            if call is not None and (reason is None or call.status == ImageGenerationStatus.FAILED):
                yield call
                continue
            got = received(pending.partials, self.walker.partials)
            error: ImgcallError
            if reason is not None:
                error = ImageGenerationFailedError(f"{reason} before the final image{got}")
            else:
                error = ImageNotReadyError(f"{ending} (response.output_item.done){got}")
            error.with_origin(id=item_id, location=pending.location)
            yield Problem(item_id, pending.location, pending.status, error, pending.context)


def _output_index(event: Mapping[str, Any]) -> int:
    return _index(event.get("output_index"), 0)


def _index(value: object, default: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9
    return value if ok else default  # type: ignore[return-value]


# -- Images API streams ------------------------------------------------------------------


class _ImagesStream(Slotted):
    """The image an Images API stream is sending (it has no item ids)."""

    __slots__ = ("count", "id", "location", "partials")
    __match_args__ = ("id", "location", "count", "partials")

    def __init__(self, count: int = 0) -> None:
        self.id: str | None = None
        self.location: Location | None = None
        self.count = count
        self.partials: set[int] = set()


class ImagesEvents(Reader):
    """Images API stream events (``image_generation.*``, ``image_edit.*``)."""

    prefixes = ("image_generation.", "image_edit.")

    def __init__(self, walker: Any) -> None:
        super().__init__(walker)
        self._stream = _ImagesStream()

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        what = value["type"].rsplit(".", 1)[-1]
        if what not in ("partial_image", "completed"):
            return
        stream = self._stream
        if stream.id is None:
            created = value.get("created_at", value.get("created"))
            base = base_id(context, Location(location.input), created)
            stream.id = f"{base}-{stream.count}"
        stream.location = location
        extra = {key: value.get(key) for key in (*_PARTIAL_FIELDS, "revised_prompt")}
        where = location.child("b64_json")
        if what == "completed":
            yield synthetic(stream.id, value.get("b64_json"), where, context, extra=extra)
            self._stream = _ImagesStream(count=stream.count + 1)
            return
        index = _index(value.get("partial_image_index"), len(stream.partials))
        stream.partials.add(index)
        if self.walker.partials:
            yield synthetic(
                stream.id,
                value.get("b64_json"),
                where,
                context,
                status="generating",
                extra=extra,
                partial_index=index,
            )

    def finish(self) -> Iterator[Found]:
        stream = self._stream
        if stream.id is not None and stream.location is not None:
            yield Problem(
                stream.id,
                stream.location,
                "generating",
                ImageNotReadyError(
                    "the stream ended before the final image (image_generation.completed)"
                    + received(stream.partials, self.walker.partials),
                    id=stream.id,
                    location=stream.location,
                ),
            )
            self._stream = _ImagesStream(count=stream.count + 1)

"""The walker: route each parsed record to its envelope reader, remembering stream state.

A stream repeats itself: the final image of an item arrives in
``response.output_item.done`` and again in ``response.completed``; partial images come
before it; a cut-off stream never sends it. `Scanner` keeps just enough state across
records to yield each image once (the first complete result wins), to yield partials
when asked, and to report an item whose final image never came. It holds item ids,
never image data, so its memory does not grow with the images.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import envelopes as env
from .envelopes import ITEM, SERVER_TOOL, Found
from .errors import ImageGenerationFailedError, ImageNotReadyError, ImgcallError, Problem
from .framing import to_json_value
from .items import ImageGenerationStatus, Item, Location

__all__ = ["Scanner"]

_TERMINAL = {"response.completed", "response.failed", "response.incomplete", "response.done"}
_STARTED = {"response.created", "response.queued"}
_IMAGE_EVENT = "response.image_generation_call."
_IMAGES_STREAM = ("image_generation.", "image_edit.")
_PARTIAL_FIELDS = ("output_format", "size", "quality", "background", "media_type")


@dataclass
class _Pending:
    """An item the stream announced whose final image has not arrived yet."""

    location: Location
    context: dict[str, Any]
    status: str = "in_progress"
    partials: set[int] = field(default_factory=set)
    call: Item | None = None
    """A final item that came without a result (failed, or empty), kept in case no
    complete one follows."""


@dataclass
class _ImagesStream:
    """The image an Images API stream is sending (it has no item ids)."""

    id: str | None = None
    location: Location | None = None
    count: int = 0
    partials: set[int] = field(default_factory=set)


class Scanner:
    """Walks the records of one input and yields every call and problem, in order.

    Feed it each record with `feed`, then call `finish` once at the end of the input to
    report the items a cut-off stream never completed.
    """

    def __init__(self, *, partials: bool = False) -> None:
        self._partials = partials
        self._done: set[str] = set()
        self._pending: dict[str, _Pending] = {}
        self._response: dict[str, Any] = {}
        self._images_in_response = 0
        self._chat_counts: dict[tuple[str, int], int] = {}
        self._images = _ImagesStream()

    def feed(self, value: Any, location: Location) -> Iterator[Found]:
        """Everything found in one record."""
        return self.walk(value, location, {})

    def finish(self) -> Iterator[Found]:
        """Problems for stream items whose final image never arrived."""
        yield from self._resolve(None, "the stream ended before the final image")
        stream = self._images
        if stream.id is not None and stream.location is not None:
            yield Problem(
                stream.id,
                stream.location,
                "generating",
                ImageNotReadyError(
                    "the stream ended before the final image (image_generation.completed)"
                    + self._received(stream.partials),
                    id=stream.id,
                    location=stream.location,
                ),
            )
            self._images = _ImagesStream(count=stream.count + 1)

    def walk(self, value: Any, location: Location, context: Mapping[str, Any]) -> Iterator[Found]:
        """Recognise ``value`` by its content and yield what it holds."""
        value = to_json_value(value, location)
        if isinstance(value, (list, tuple)):
            for index, element in enumerate(value):
                yield from self.walk(element, location.child(index), context)
            return
        if not isinstance(value, Mapping):
            return
        kind = value.get("type")
        kind = kind if isinstance(kind, str) else ""
        if kind == ITEM:
            yield env.item(value, location, context)
        elif kind == SERVER_TOOL:
            yield env.server_tool(value, location, context, 0)
        elif kind.startswith("response."):
            yield from self._response_event(value, location, context)
        elif kind.startswith(_IMAGES_STREAM):
            yield from self._images_event(value, kind, location, context)
        elif kind == "error":
            yield env.error_body(value, location, context)
        elif env.is_batch_line(value):
            yield from env.batch_line(value, location, context, self.walk)
        elif env.is_response(value):
            yield from env.response(value, location, context)
        elif isinstance(value.get("choices"), list):
            yield from env.chat(value, location, context, self._next_chat_index)
        elif env.is_images_body(value):
            yield from env.images_body(value, location, context)
        elif isinstance(value.get("error"), Mapping):
            yield env.error_body(value, location, context)

    def _next_chat_index(self, base: str, choice: int) -> int:
        key = (base, choice)
        index = self._chat_counts.get(key, 0)
        self._chat_counts[key] = index + 1
        return index

    # -- Responses API streams -----------------------------------------------------------

    def _response_event(
        self, event: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        kind = event["type"]
        response = to_json_value(event.get("response"), location)
        if isinstance(response, Mapping):
            self._response = env.response_context(response, {})
            if kind in _STARTED:
                self._images_in_response = 0
        ctx = {**context, **self._response}
        if kind in _TERMINAL and isinstance(response, Mapping):
            yield from self._terminal(kind, response, location.child("response"), ctx)
        elif kind in ("response.output_item.added", "response.output_item.done"):
            item = to_json_value(event.get("item"), location)
            if not isinstance(item, Mapping) or item.get("type") not in (ITEM, SERVER_TOOL):
                return
            where = location.child("item")
            if kind.endswith(".done"):
                yield from self._final(self._read_item(item, event, where, ctx))
            else:
                item_id = self._item_id(item, event, where, ctx)
                self._note(item_id, where, ctx, item.get("status"))
        elif kind.startswith(_IMAGE_EVENT):
            yield from self._image_event(event, kind[len(_IMAGE_EVENT) :], location, ctx)

    def _read_item(
        self,
        item: Mapping[str, Any],
        event: Mapping[str, Any],
        location: Location,
        context: Mapping[str, Any],
    ) -> Found:
        if item.get("type") == ITEM:
            return env.item(item, location, context)
        return env.server_tool(item, location, context, self._output_index(event))

    def _item_id(
        self,
        item: Mapping[str, Any],
        event: Mapping[str, Any],
        location: Location,
        context: Mapping[str, Any],
    ) -> str | None:
        if item.get("type") == ITEM:
            own = item.get("id")
            return own if isinstance(own, str) else None
        return env.server_tool_id(item, location, context, self._output_index(event))

    @staticmethod
    def _output_index(event: Mapping[str, Any]) -> int:
        index = event.get("output_index")
        return index if isinstance(index, int) else 0

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
        index = event.get("partial_image_index")
        index = index if isinstance(index, int) else len(pending.partials)
        if index in pending.partials:
            return
        pending.partials.add(index)
        if self._partials:
            yield env.synthetic(
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
        for found in env.response(response, location, context, report_failure=False):
            yield from self._final(found)
        error = response.get("error")
        if isinstance(error, Mapping):
            reason = f"the response failed ({env.describe_error(error)})"
        elif kind == "response.incomplete" or response.get("status") == "incomplete":
            details = response.get("incomplete_details")
            why = details.get("reason") if isinstance(details, Mapping) else None
            reason = "the response ended incomplete" + (f" ({why})" if why else "")
        else:
            reason = None
        yield from self._resolve(reason, "the response ended without the final image")
        if isinstance(error, Mapping) and not self._images_in_response:
            failure = env.response_failure(response, location, context)
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
            received = self._received(pending.partials)
            error: ImgcallError
            if reason is not None:
                error = ImageGenerationFailedError(f"{reason} before the final image{received}")
            else:
                error = ImageNotReadyError(f"{ending} (response.output_item.done){received}")
            error.with_origin(id=item_id, location=pending.location)
            yield Problem(item_id, pending.location, pending.status, error, pending.context)

    def _received(self, partials: set[int]) -> str:
        if not partials:
            return ""
        n = len(partials)
        text = f"; {n} partial image{'s' if n != 1 else ''} arrived"
        return (
            text
            if self._partials
            else text + " (ask for partials to get them: --partials, or partials=True)"
        )

    # -- Images API streams --------------------------------------------------------------

    def _images_event(
        self, event: Mapping[str, Any], kind: str, location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        what = kind.rsplit(".", 1)[-1]
        if what not in ("partial_image", "completed"):
            return
        stream = self._images
        if stream.id is None:
            created = event.get("created_at", event.get("created"))
            base = env.base_id(context, Location(location.input), created)
            stream.id = f"{base}-{stream.count}"
        stream.location = location
        extra = {key: event.get(key) for key in (*_PARTIAL_FIELDS, "revised_prompt")}
        where = location.child("b64_json")
        if what == "completed":
            yield env.synthetic(stream.id, event.get("b64_json"), where, context, extra=extra)
            self._images = _ImagesStream(count=stream.count + 1)
            return
        index = event.get("partial_image_index")
        index = index if isinstance(index, int) else len(stream.partials)
        stream.partials.add(index)
        if self._partials:
            yield env.synthetic(
                stream.id,
                event.get("b64_json"),
                where,
                context,
                status="generating",
                extra=extra,
                partial_index=index,
            )

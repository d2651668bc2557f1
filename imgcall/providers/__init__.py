"""The provider readers, and the one place that decides which reader claims a value.

One module per provider family; each holds `Reader` subclasses for its shapes:

- `imgcall.providers.openai`: ``image_generation_call`` items, Responses (with
  code-interpreter images), chat completions, Images API bodies, error
  bodies (OpenAI, Azure OpenAI, and every gateway that speaks OpenAI's shapes);
- `imgcall.providers.openai_batch`: the Batch API's output lines;
- `imgcall.providers.openai_streams`: the Responses and Images API stream events;
- `imgcall.providers.openrouter`: the ``openrouter:image_generation`` server tool;
- `imgcall.providers.google`: Gemini / Vertex AI ``generateContent`` (and its streams)
  and Imagen ``predict``; `imgcall.providers.google_batch`: the Gemini and Vertex batch
  outputs; `imgcall.providers.google_interactions`: the Interactions API;
- `imgcall.providers.bedrock`: Amazon Bedrock image bodies and batch records;
- `imgcall.providers.stability`: Stability AI's ``artifacts[]`` and ``image`` bodies;
- `imgcall.providers.others`: Automatic1111 / Forge, fal, Replicate;
- `imgcall.providers.discovery`: anything else, by content.

`READERS` lists them in the order they are asked; adding a provider means one module
and one line here. The `Walker` makes one instance of each per input (readers may keep
a stream's state), routes every parsed record to the first reader that claims it, and
hands whatever no reader claims to the search by content.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..framing import to_json_value
from ..items import Location
from . import (
    bedrock,
    google,
    google_batch,
    google_interactions,
    openai,
    openai_batch,
    openai_streams,
    openrouter,
    others,
    stability,
)
from ._base import Found, Reader
from .discovery import discover, image_string

__all__ = ["READERS", "Found", "Reader", "Walker"]

READERS: tuple[type[Reader], ...] = (
    # Claimed by their "type": items and stream events.
    openai.Items,
    openrouter.ServerTool,
    openai.CodeInterpreterCall,
    openai_streams.ResponseEvents,
    openai_streams.ImagesEvents,
    # Claimed by their shape, most specific first: batch lines wrap the bodies below.
    google_interactions.InteractionEvents,
    openai_batch.BatchLine,
    google_batch.BatchLine,
    google_batch.InlinedResponses,
    google_batch.VertexPrediction,
    bedrock.BatchRecord,
    others.Replicate,
    openai.Response,
    google.GenerateContent,
    google_interactions.Interaction,
    google.Imagen,
    openai.Chat,
    openai.ImagesBody,
    stability.Artifacts,
    stability.ImageBody,
    others.Automatic1111,
    others.Fal,
    bedrock.ImageBody,
    openai.ErrorBody,
)
"""Every reader, in the order the walker asks them to claim a value."""


class Walker:
    """Walks the records of one input and yields every image item and problem, in order.

    Feed it each record with `feed`, then call `finish` once at the end of the input to
    report what a cut-off stream never completed. ``partials`` also yields interim
    images (stream partials, Gemini thought images); ``discover=False`` turns off the
    search by content for values no reader claims.
    """

    def __init__(self, *, partials: bool = False, discover: bool = True) -> None:
        self.partials = partials
        self.discover = discover
        self._readers = [reader(self) for reader in READERS]
        # Readers claimed only by their "type" keep the base class's claims (always
        # False): asking them costs a call per record for nothing.
        self._claimers = [r for r in self._readers if type(r).claims is not Reader.claims]
        self._by_type: dict[str, Reader] = {}
        self._by_prefix: list[tuple[tuple[str, ...], Reader]] = []
        for reader in self._readers:
            for kind in reader.types:
                self._by_type.setdefault(kind, reader)
            if reader.prefixes:
                self._by_prefix.append((reader.prefixes, reader))

    def feed(self, value: Any, location: Location) -> Iterator[Found]:
        """Everything found in one record."""
        return self.walk(value, location, {})

    def finish(self) -> Iterator[Found]:
        """Problems for what the input left unfinished, reader by reader."""
        for reader in self._readers:
            yield from reader.finish()

    def reader_for(self, value: Mapping[str, Any]) -> Reader | None:
        """The reader that claims ``value``, or ``None``."""
        kind = value.get("type")
        if isinstance(kind, str) and kind:
            reader = self._by_type.get(kind)
            if reader is not None:
                return reader
            for prefixes, candidate in self._by_prefix:
                if kind.startswith(prefixes):
                    return candidate
        for reader in self._claimers:
            if reader.claims(value):
                return reader
        return None

    def walk(self, value: Any, location: Location, context: Mapping[str, Any]) -> Iterator[Found]:
        """Recognise ``value`` by its content and yield what it holds."""
        kind = type(value)
        if kind is not dict and kind is not list:  # parsed JSON: as it is
            value = to_json_value(value, location)
            kind = type(value)
        # Exact types first: the Mapping check against the ABC costs ~0.3 us a record.
        if kind is list or (kind is not dict and isinstance(value, (list, tuple))):
            for index, element in enumerate(value):
                yield from self.walk(element, location.child(index), context)
            return
        if kind is dict or isinstance(value, Mapping):
            reader = self.reader_for(value)
            if reader is not None:
                yield from reader.read(value, location, context)
                return
        yield from self.discover_in(value, location, context)

    def discover_in(
        self, value: Any, location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        """Images in ``value`` found by content (nothing when ``discover`` is off)."""
        if not self.discover:
            return iter(())
        if isinstance(value, (Mapping, list, tuple)) or image_string(value):
            return discover(value, location, context, self)
        return iter(())

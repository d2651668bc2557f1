"""Google: Gemini / Vertex AI ``generateContent``, its batch outputs, and Imagen.

- ``generateContent`` responses and ``streamGenerateContent`` chunks:
  ``candidates[].content.parts[].inlineData`` (``mimeType``, ``data``), and the
  snake_case ``inline_data`` (``mime_type``, ``data``, URL-safe base64) that the Python
  SDK dumps. Parts with ``thought: true`` are interim images (partials). Text parts are
  kept in the context. The ~1 MB ``thoughtSignature`` beside a part is never read.
- A blocked prompt (``promptFeedback.blockReason``) and a candidate that finished
  without an image (``finishReason`` ``IMAGE_SAFETY``, ``NO_IMAGE``, ... or ``STOP``
  with text only) are problems carrying the reason as their code.
- Gemini Batch API output, inline batch results and Vertex batch prediction lines, in
  `imgcall.providers.google_batch` (a batch ``key`` plays the part of ``custom_id``);
- Imagen ``predict`` (``predictions[].bytesBase64Encoded``, ``raiFilteredReason``) and
  the SDK's ``generated_images``.

Ids are ``<responseId>-<candidate>-<k>``, ``k`` counting the candidate's final images;
the images of a stream are numbered across its chunks, and a key that comes back on
several lines keeps counting, so names never clash. The Interactions API is in
`imgcall.providers.google_interactions`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .._lazyre import lazy_pattern
from ..errors import (
    EmptyResultError,
    ImageGenerationFailedError,
    UnsupportedResultError,
)
from ..items import Location
from ._base import Found, Reader, base_id, problem, synthetic, text_of

__all__ = [
    "GenerateContent",
    "Imagen",
    "field",
]

_NON_IMAGE_PARTS = frozenset(
    (
        "text",
        "functionCall",
        "function_call",
        "functionResponse",
        "function_response",
        "executableCode",
        "executable_code",
        "codeExecutionResult",
        "code_execution_result",
        "thought",
        "thoughtSignature",
        "thought_signature",
        "videoMetadata",
        "video_metadata",
        "partMetadata",
        "part_metadata",
    )
)
_MAX_TEXT = 2000


def field(value: Mapping[str, Any], camel: str, snake: str) -> Any:
    """``value[camel]``, or the snake_case spelling the Python SDK writes."""
    found = value.get(camel)
    return found if found is not None else value.get(snake)


def _candidate_index(candidate: Mapping[str, Any], position: int) -> int:
    index = candidate.get("index")
    ok = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 10**6
    return index if ok else position  # type: ignore[return-value]


def _is_image_mime(mime: object) -> bool:
    # No MIME type at all: let the bytes decide. A declared non-image (audio from a
    # speech model, a PDF) is not an image and is passed over.
    return (
        not isinstance(mime, str) or not mime.strip() or mime.strip().lower().startswith("image/")
    )


class GenerateContent(Reader):
    """A ``generateContent`` response or a ``streamGenerateContent`` chunk."""

    def __init__(self, walker: Any) -> None:
        super().__init__(walker)
        self._finals: dict[tuple[str, int], int] = {}
        self._thoughts: dict[tuple[str, int], int] = {}
        self._streams: dict[tuple[str, int], int] = {}

    def claims(self, value: Mapping[str, Any]) -> bool:
        if isinstance(value.get("candidates"), list):
            return True
        feedback = field(value, "promptFeedback", "prompt_feedback")
        return isinstance(feedback, Mapping)

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        ctx = dict(context)
        rid = field(value, "responseId", "response_id")
        if isinstance(rid, str) and rid:
            ctx["response_id"] = rid
        model = field(value, "modelVersion", "model_version")
        if isinstance(model, str):
            ctx["model"] = model
        base = base_id(ctx, location)
        candidates = value.get("candidates")
        if isinstance(candidates, list) and candidates:
            for position, candidate in enumerate(candidates):
                if isinstance(candidate, Mapping):
                    where = location.child("candidates", position)
                    number = _candidate_index(candidate, position)
                    stream = rid if isinstance(rid, str) and rid else None
                    yield from self._candidate(candidate, number, base, stream, where, ctx)
            return
        feedback = field(value, "promptFeedback", "prompt_feedback")
        reason = field(feedback, "blockReason", "block_reason") if feedback else None
        if isinstance(reason, str) and reason:
            message = text_of(field(feedback, "blockReasonMessage", "block_reason_message"))
            failure = ImageGenerationFailedError(
                f"the prompt was blocked ({reason})" + (f": {message}" if message else ""),
                location=location.child("promptFeedback"),
                code=reason,
            )
            yield problem(base, location, "failed", failure, ctx)

    def _candidate(
        self,
        candidate: Mapping[str, Any],
        number: int,
        base: str,
        stream: str | None,
        location: Location,
        context: Mapping[str, Any],
    ) -> Iterator[Found]:
        key = (base, number)
        images = 0
        thoughts = 0
        texts: list[str] = []
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, Mapping) else None
        ctx = dict(context)
        for j, part in enumerate(parts if isinstance(parts, list) else ()):
            if not isinstance(part, Mapping):
                continue
            where = location.child("content", "parts", j)
            inline = field(part, "inlineData", "inline_data")
            file_data = field(part, "fileData", "file_data")
            if isinstance(inline, Mapping):
                mime = field(inline, "mimeType", "mime_type")
                if not _is_image_mime(mime):
                    continue
                data = inline.get("data")
                spelled = "inlineData" if "inlineData" in part else "inline_data"
                where = where.child(spelled, "data")
                k = self._finals.get(key, 0)
                image_id = f"{base}-{number}-{k}"
                extra = {"media_type": mime}
                if part.get("thought") is True:
                    thoughts += 1
                    index = self._thoughts.get(key, 0)
                    self._thoughts[key] = index + 1
                    if self.walker.partials:
                        yield synthetic(
                            image_id,
                            data,
                            where,
                            ctx,
                            status="generating",
                            extra=extra,
                            partial_index=index,
                        )
                    continue
                self._finals[key] = k + 1
                self._thoughts[key] = 0
                images += 1
                if texts:
                    ctx["text"] = _joined(texts)
                yield synthetic(image_id, data, where, ctx, extra=extra)
            elif isinstance(file_data, Mapping):
                mime = field(file_data, "mimeType", "mime_type")
                uri = field(file_data, "fileUri", "file_uri")
                if not _is_image_mime(mime):
                    continue
                images += 1
                shown = text_of(uri, 120) or "an unnamed file"
                error = UnsupportedResultError(
                    f"the image is stored at {shown}, not inline; imgcall never fetches it",
                    location=where,
                )
                yield problem(f"{base}-{number}-file{j}", where, "completed", error, ctx)
            elif isinstance(part.get("text"), str):
                if part.get("thought") is not True and part["text"].strip():
                    texts.append(part["text"])
            elif not set(part) <= _NON_IMAGE_PARTS:
                yield from self.walker.discover_in(part, where, ctx)
        if stream is not None:
            self._streams[(stream, number)] = self._streams.get((stream, number), 0) + images
            images = self._streams[(stream, number)]
        finish = field(candidate, "finishReason", "finish_reason")
        if images or not isinstance(finish, str) or not finish:
            return
        yield _finished_without_image(
            candidate, finish, f"{base}-{number}", thoughts, texts, location, ctx, self.walker
        )


def _joined(texts: list[str]) -> str:
    text = "\n".join(t.strip() for t in texts)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _finished_without_image(
    candidate: Mapping[str, Any],
    finish: str,
    name: str,
    thoughts: int,
    texts: list[str],
    location: Location,
    context: Mapping[str, Any],
    walker: Any,
) -> Found:
    message = text_of(field(candidate, "finishMessage", "finish_message"))
    said = text_of(" ".join(texts), 160)
    interim = ""
    if thoughts:
        interim = f"; {thoughts} interim (thought) image{'s' if thoughts != 1 else ''} arrived"
        if not walker.partials:
            interim += " (ask for partials to get them: --partials, or partials=True)"
    ctx = dict(context)
    if texts:
        ctx["text"] = _joined(texts)
    where = location.child("finishReason")
    if finish == "STOP":
        detail = f": the model replied {said!r}" if said else ""
        empty = EmptyResultError(
            f"the candidate finished (STOP) without an image{detail}{interim}", location=where
        )
        return problem(name, location, "completed", empty, ctx)
    detail = f": {message}" if message else (f"; the model replied {said!r}" if said else "")
    failure = ImageGenerationFailedError(
        f"no image: the candidate finished with {finish}{detail}{interim}",
        location=where,
        code=finish,
    )
    return problem(name, location, "failed", failure, ctx)


# -- Imagen ------------------------------------------------------------------------------

_IMAGEN_KEYS = ("bytesBase64Encoded", "raiFilteredReason", "gcsUri")
_support_codes = lazy_pattern(r"[Ss]upport codes?:\s*([\d, ]+)")


class Imagen(Reader):
    """Imagen ``predict`` (``predictions[]``) and the SDK's ``generated_images``."""

    def claims(self, value: Mapping[str, Any]) -> bool:
        for key in ("predictions", "generatedImages", "generated_images"):
            entries = value.get(key)
            if isinstance(entries, list) and any(
                isinstance(e, Mapping) and (any(k in e for k in _IMAGEN_KEYS) or "image" in e)
                for e in entries
            ):
                return True
        return False

    def read(
        self, value: Mapping[str, Any], location: Location, context: Mapping[str, Any]
    ) -> Iterator[Found]:
        base = base_id(context, location)
        for key in ("predictions", "generatedImages", "generated_images"):
            entries = value.get(key)
            if not isinstance(entries, list):
                continue
            for index, entry in enumerate(entries):
                if isinstance(entry, Mapping):
                    where = location.child(key, index)
                    yield from _imagen_entry(entry, f"{base}-{index}", where, context)


def _imagen_entry(
    entry: Mapping[str, Any], image_id: str, location: Location, context: Mapping[str, Any]
) -> Iterator[Found]:
    image = entry.get("image")
    holder = image if isinstance(image, Mapping) else entry
    spelled = ("image",) if holder is image else ()
    ctx = dict(context)
    prompt = field(entry, "enhancedPrompt", "enhanced_prompt") or entry.get("prompt")
    if isinstance(prompt, str):
        ctx["revised_prompt"] = prompt
    reason = field(entry, "raiFilteredReason", "rai_filtered_reason")
    data = field(holder, "bytesBase64Encoded", "bytes_base64_encoded")
    name = "bytesBase64Encoded"
    if data is None:
        data = field(holder, "imageBytes", "image_bytes")
        name = "imageBytes" if "imageBytes" in holder else "image_bytes"
    uri = field(holder, "gcsUri", "gcs_uri")
    if not data and isinstance(reason, str) and reason:
        codes = _support_codes().search(reason)
        code = codes.group(1).strip().rstrip(",") if codes else None
        failure = ImageGenerationFailedError(
            f"Imagen filtered the image: {text_of(reason, 400)}",
            location=location.child("raiFilteredReason"),
            code=code,
        )
        yield problem(image_id, location, "failed", failure, ctx)
        return
    mime = field(holder, "mimeType", "mime_type")
    if not data and isinstance(uri, str) and uri:
        yield synthetic(image_id, uri, location.child(*spelled, "gcsUri"), ctx)
        return
    where = location.child(*spelled, name)
    yield synthetic(image_id, data, where, ctx, extra={"media_type": mime})

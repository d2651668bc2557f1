"""Every error imgcall raises, and the in-stream `Problem` record.

The hierarchy, all rooted at one class so callers can catch everything at once::

    ImgcallError
     ├── InvalidInputError            the input cannot be read or parsed (broken JSON, ...)
     ├── InvalidItemError             an item is not a valid image_generation_call
     ├── ImageNotReadyError           the item is still pending (no result yet)
     ├── ImageGenerationFailedError   the API reported status "failed"
     ├── EmptyResultError             status "completed" but the result is null or empty
     ├── InvalidBase64Error           the result is not base64 (names the offset)
     ├── UnsupportedResultError       the result is a URL, never fetched
     ├── UnsupportedImageError        the bytes are not PNG, JPEG, WebP, GIF or SVG
     ├── ImageTooLargeError           the image exceeds the per-call `Limits`
     ├── CorruptImageError            the image is truncated or damaged
     ├── OutputExistsError            a different file already has the target name
     ├── OutputError                  the file cannot be written
     │    └── OutputLockedError       another run is writing into the output folder
     └── EngineError                  the engine cannot run (no dask, no scheduler)

Each error carries the item ``id`` and its ``location`` where known, as attributes and
in its message, so a person reading one line of output knows which item failed and why.
Foreign errors (binascii, Pillow, pydantic, OSError) are always wrapped with
``raise ... from``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CorruptImageError",
    "EmptyResultError",
    "EngineError",
    "ImageGenerationFailedError",
    "ImageNotReadyError",
    "ImageTooLargeError",
    "ImgcallError",
    "ImgcallWarning",
    "InvalidBase64Error",
    "InvalidInputError",
    "InvalidItemError",
    "OutputError",
    "OutputExistsError",
    "OutputLockedError",
    "Problem",
    "UnsupportedImageError",
    "UnsupportedResultError",
]


class ImgcallError(Exception):
    """Base class of every error imgcall raises.

    ``reason`` is the bare explanation; ``str(error)`` prefixes it with the location and
    the item id, e.g. ``resp.json#/output/0: item 'ig_1': result is not valid base64 ...``.
    ``code`` is the provider's own word for a failure where it gave one
    (``moderation_blocked``, ``IMAGE_SAFETY``, a Bedrock ``errorCode``, ...), else ``None``.

    Catch this to handle any imgcall failure::

        try:
            image = imgcall.decode(item)
        except imgcall.ImgcallError as exc:
            print(exc.id, exc.reason)
    """

    def __init__(
        self,
        reason: str,
        *,
        id: str | None = None,
        location: object | None = None,
        code: str | None = None,
    ) -> None:
        self.reason = reason
        self.id = id
        self.location = location
        self.code = code
        super().__init__(self._compose())

    def _compose(self) -> str:
        # One style for every message, the command line's too: where, then which item,
        # then why ("resp.json#/output/3: item 'ig_7': the reason").
        parts = []
        if self.location is not None:
            parts.append(str(self.location))
        if self.id is not None:
            parts.append(f"item {self.id!r}")
        return ": ".join([*parts, self.reason])

    def with_origin(self, *, id: str | None, location: object | None) -> ImgcallError:
        """Fill in ``id`` and ``location`` where they are still unknown; returns ``self``."""
        if self.id is None:
            self.id = id
        if self.location is None:
            self.location = location
        self.args = (self._compose(),)
        return self

    def __str__(self) -> str:
        return self._compose()

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive the default pickling (needed for
        # multiprocessing workers), so rebuild from the parts.
        return (_rebuild, (type(self), self.reason, self.id, self.location, self.code))


def _rebuild(
    cls: type[ImgcallError],
    reason: str,
    id: str | None,
    location: object | None,
    code: str | None = None,
) -> ImgcallError:
    return cls(reason, id=id, location=location, code=code)


class InvalidInputError(ImgcallError):
    """The input as a whole cannot be read or parsed (broken JSON, unreadable file).

    ``location`` names the input and the line (and column where known).
    """


class InvalidItemError(ImgcallError):
    """An object is not a valid ``image_generation_call`` item (wrong type, missing field)."""


class ImageNotReadyError(ImgcallError):
    """The item has no image yet (``in_progress``/``generating`` without a result).

    Also raised for a pending status with a result when ``strict_status=True``.
    """


class ImageGenerationFailedError(ImgcallError):
    """The API reported ``status: "failed"`` for the item, or the request itself failed."""


class EmptyResultError(ImgcallError):
    """The item says ``completed`` but its ``result`` is null or empty."""


class InvalidBase64Error(ImgcallError):
    """The result is not valid base64; ``offset`` is the first bad character's position."""

    def __init__(
        self,
        reason: str,
        *,
        id: str | None = None,
        location: object | None = None,
        offset: int | None = None,
        code: str | None = None,
    ) -> None:
        self.offset = offset
        super().__init__(reason, id=id, location=location, code=code)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_b64, (self.reason, self.id, self.location, self.offset, self.code))


def _rebuild_b64(
    reason: str,
    id: str | None,
    location: object | None,
    offset: int | None,
    code: str | None = None,
) -> InvalidBase64Error:
    return InvalidBase64Error(reason, id=id, location=location, offset=offset, code=code)


class UnsupportedResultError(ImgcallError):
    """The result is not inline image data (an http(s) URL); imgcall never fetches it."""


class UnsupportedImageError(ImgcallError):
    """The decoded bytes are not a PNG, JPEG, WebP, GIF or SVG image."""


class ImageTooLargeError(ImgcallError):
    """The image exceeds the per-call `Limits` (bytes or pixels), found before decoding."""


class CorruptImageError(ImgcallError):
    """The image is truncated or damaged (bad CRC, missing end marker, undecodable)."""


class OutputExistsError(ImgcallError):
    """A different file already exists under the target name (``on_conflict="error"``)."""


class OutputError(ImgcallError):
    """The image could not be written (full disk, read-only folder, bad path)."""


class OutputLockedError(OutputError):
    """Another run holds the output folder (and its manifest); found before any work.

    A run waits a few seconds for the other to finish first; the message names it (pid,
    host, start time). The command line exits with 2 (the run could not start).
    """


class EngineError(ImgcallError):
    """The engine asked for cannot run: ``dask.distributed`` is not installed, or its
    scheduler cannot be reached. Found before any input is read; the command line
    exits with 2."""


class ImgcallWarning(UserWarning):
    """Something worth knowing that does not stop decoding.

    For example a ``generating`` status with a complete result, or an ``output_format``
    that disagrees with the bytes (the bytes win).
    """


@dataclass(frozen=True)
class Problem:
    """An item that could not be turned into an image, reported in-stream.

    ``iter_images(..., errors="collect")`` yields these between the images; the CLI and
    the manifest report them. ``error`` is the `ImgcallError` explaining why.
    """

    id: str | None
    location: object | None
    status: str | None
    error: ImgcallError
    context: Mapping[str, Any] = field(default_factory=dict)
    """Context of the item (``custom_id``, ``response_id``, ...) where known."""
    partial: bool = False
    partial_index: int | None = None

    @property
    def reason(self) -> str:
        """The error's explanation without the id/location prefix."""
        return self.error.reason

    @property
    def code(self) -> str | None:
        """The provider's error code (``moderation_blocked``, ``IMAGE_SAFETY``, ...), if any."""
        return self.error.code

    def __str__(self) -> str:
        return str(self.error)

"""The decoder: an item's base64 ``result`` to a checked `DecodedImage`, status-aware.

The base64 text itself is decoded by `imgcall.base64text`; this module applies the
status policy below, identifies the format from the bytes, and checks the image.

This is the only module that imports Pillow, and only inside the functions that need
pixels (``check="full"``, `to_pil`, conversion, thumbnails): the default path reads
headers with `imgcall.formats` and never touches Pillow. Pillow's process-wide settings
(``MAX_IMAGE_PIXELS``, ``LOAD_TRUNCATED_IMAGES``) are never changed; limits are per call.

The status policy (SPEC section 4):

=========================================  ====================  ==========================
status                                     result present        result null or empty
=========================================  ====================  ==========================
``completed``                              image                 `EmptyResultError`
``generating``, ``in_progress``, unknown   image + warning       `ImageNotReadyError`
``failed``                                 `ImageGenerationFailedError` (both columns)
=========================================  ====================  ==========================
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._warn import warn_caller
from .base64text import check_size, decode_base64
from .errors import (
    CorruptImageError,
    EmptyResultError,
    ImageGenerationFailedError,
    ImageNotReadyError,
    ImageTooLargeError,
    ImgcallError,
    ImgcallWarning,
    UnsupportedImageError,
)
from .formats import FORMATS, declared_format, fast_check, png_check, sniff
from .frames import check_frames, frames_problem
from .image import DecodedImage
from .items import ImageGenerationStatus, Item

if TYPE_CHECKING:
    from PIL import Image

# decode_base64 lives in imgcall.base64text; it is re-exported here, where it was first.
__all__ = [
    "Check",
    "Limits",
    "check_frames",
    "decode",
    "decode_base64",
    "decode_call",
    "frames_problem",
]

Check = Literal["none", "fast", "full"]
_CHECKS = ("none", "fast", "full")


@dataclass(frozen=True)
class Limits:
    """Per-call size limits, checked from the container before any pixel is decoded.

    ``max_bytes`` bounds the decoded file (default 64 MiB), ``max_pixels`` the image's
    width x height (default 64 megapixels): for an animation, the canvas its frames are
    composed onto, which a GIF frame reaching beyond its logical screen enlarges.

    Decoding every frame of an animation (``check="full"``) is held to a budget, because
    each frame is composed onto the whole canvas: ``max_total_pixels`` bounds frames x
    canvas pixels (default 64 million, what one still image at ``max_pixels`` costs),
    and ``max_frames`` the number of frames (default 5,000: each costs 0.1-0.2 ms
    however small). Within both, decoding every frame takes about a second (measured
    by ``python -m bench.animations``). A still image is bounded by ``max_pixels``
    alone. Pillow's global settings are never touched.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 64_000_000
    max_total_pixels: int = 64_000_000
    max_frames: int = 5_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_total_pixels", "max_frames"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")


DEFAULT_LIMITS = Limits()

Decoder = Callable[[str, int | None], tuple[bytes, str | None]]
"""Turns a result's text into ``(bytes, declared MIME)`` under a ``max_bytes`` limit."""


def _in_memory(text: str, max_bytes: int | None) -> tuple[bytes, str | None]:
    return decode_base64(text, max_bytes=max_bytes)


def decode(
    call: object,
    *,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
) -> DecodedImage:
    """Decode one item's base64 ``result`` into a `DecodedImage`.

    ``call`` is anything `parse_call` accepts: an `ImageGenerationCall`, a dict, JSON
    text, or an SDK object. ``check`` is ``"none"`` (format and header only), ``"fast"``
    (also a cheap truncation check: PNG CRCs and IEND, JPEG end marker, WebP RIFF length)
    or ``"full"`` (decode every pixel with Pillow; for an animation, every frame, within
    the ``limits`` budget of frames x pixels). ``limits`` (`Limits`) are checked from the
    header and the container's frames before any pixel is decoded.

    >>> image = imgcall.decode(response.output[0])           # doctest: +SKIP
    >>> image.save("out/")                                    # doctest: +SKIP
    PosixPath('out/ig_123.png')

    Raises an `ImgcallError` subclass naming the item for every failure; see the status
    table in the module docstring.
    """
    from .models import parse_call  # pydantic, only for this public entry point

    item = Item.from_call(parse_call(call))
    return decode_call(item, limits=limits, check=check, strict_status=strict_status)


def decode_call(
    call: Item,
    *,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    emit_warnings: bool = True,
    on_bytes: Callable[[bytes], object] | None = None,
    decoder: Decoder | None = None,
) -> DecodedImage:
    """`decode` for an already-parsed item; ``emit_warnings=False`` only records them.

    ``on_bytes`` is called with the decoded bytes before they are checked, so work on
    them (hashing on another thread) can overlap the checks. ``decoder`` replaces
    `decode_base64` (a saving run decodes into the output folder, `imgcall.staging`).
    """
    if check not in _CHECKS:
        raise ValueError(f"check must be one of {', '.join(_CHECKS)}; got {check!r}")
    limits = limits or DEFAULT_LIMITS
    try:
        return _decode(
            call, limits, check, strict_status, emit_warnings, on_bytes, decoder or _in_memory
        )
    except ImgcallError as exc:
        exc.with_origin(id=call.id, location=call.location)
        raise


def _decode(
    call: Item,
    limits: Limits,
    check: Check,
    strict_status: bool,
    emit_warnings: bool,
    on_bytes: Callable[[bytes], object] | None,
    decoder: Decoder,
) -> DecodedImage:
    status = call.status
    result = call.result
    has_result = bool(result and result.strip())
    notes: list[str] = list(call.notes)
    if status == ImageGenerationStatus.FAILED:
        detail, code = _api_error(call)
        raise ImageGenerationFailedError(
            "the API reported status 'failed'" + (f": {detail}" if detail else ""), code=code
        )
    if not has_result:
        if status == ImageGenerationStatus.COMPLETED:
            raise EmptyResultError("status is 'completed' but the result is empty or null")
        raise ImageNotReadyError(
            f"status is {str(status)!r} and there is no result yet; "
            "wait for the final item (response.output_item.done)"
        )
    if status != ImageGenerationStatus.COMPLETED and not call.partial:
        if strict_status:
            raise ImageNotReadyError(
                f"status is {str(status)!r}, not 'completed' (strict_status is set)"
            )
        notes.append(
            f"status is {str(status)!r} but a result is present; decoded it anyway "
            "(the API often leaves the final item at 'generating')"
        )
    assert result is not None
    data, url_mime = decoder(result, limits.max_bytes)
    if on_bytes is not None:
        on_bytes(data)
    fmt = sniff(data)
    if fmt is None:
        raise UnsupportedImageError(
            f"the decoded bytes are not a PNG, JPEG, WebP, GIF or SVG image "
            f"(they start with {data[:8]!r})"
        )
    declared = _declared(call, url_mime)
    if declared is not None and declared != fmt:
        notes.append(f"the API declared {declared} but the bytes are {fmt}; using {fmt}")
    elif declared is None and _not_an_image_type(url_mime or call.extra.get("media_type")):
        # Replicate once sent WebP as application/octet-stream: the bytes win, and say so.
        shown = str(url_mime or call.extra.get("media_type"))[:60]
        notes.append(f"the API declared {shown!r} but the bytes are {fmt}; using {fmt}")
    width, height, image_notes, c2pa = _check_image(data, fmt, limits, check)
    notes.extend(image_notes)
    if emit_warnings:
        for note in notes:
            warn_caller(f"item {call.id!r}: {note}", ImgcallWarning)
    image = DecodedImage(
        id=call.id,
        status=str(status),
        data=data,
        format=fmt,
        width=width,
        height=height,
        warnings=tuple(notes),
        partial_index=call.partial_index,
        location=call.location,
        context=_context(call),
        limits=limits,
    )
    if c2pa is not None:
        # The check's walk over the chunks already saw it: fill in the cached property
        # (`DecodedImage.c2pa`), which would walk them again (issue 15).
        image.__dict__["c2pa"] = c2pa
    return image


def _api_error(call: Item) -> tuple[str, str | None]:
    """The item's ``error`` as (message, code); the code is the API's own word."""
    error = call.extra.get("error")
    if isinstance(error, Mapping):
        code = error.get("code") or error.get("type")
        code = code if isinstance(code, str) and code else None
        message = error.get("message")
        text = message if isinstance(message, str) and message else (code or "")
        return (f"{text} ({code})" if code and text != code else text), code
    return (error if isinstance(error, str) else ""), None


def _declared(call: Item, url_mime: str | None) -> str | None:
    extra = call.extra
    for value in (url_mime, extra.get("output_format"), extra.get("media_type")):
        fmt = declared_format(value)
        if fmt is not None:
            return fmt
    return None


def _not_an_image_type(mime: object) -> bool:
    return isinstance(mime, str) and "/" in mime and not mime.strip().lower().startswith("image/")


def _context(call: Item) -> dict[str, Any]:
    ctx = dict(call.context)
    extra = call.extra
    for key in ("revised_prompt", "size", "quality", "background", "output_format"):
        if key in extra and key not in ctx and extra[key] is not None:
            ctx[key] = extra[key]
    return ctx


def _check_image(
    data: bytes, fmt: str, limits: Limits, check: Check
) -> tuple[int | None, int | None, list[str], bool | None]:
    """Width, height and notes of a whole image, and whether it carries C2PA (``None``
    when the checks did not find out); raises what is wrong with it."""
    check_size(len(data), limits.max_bytes)
    notes: list[str] = []
    if fmt == "SVG":
        width: int | None = None
        height: int | None = None
    else:
        frames = check_frames(data, fmt, limits, all_frames=check == "full")
        width, height = frames.width, frames.height
        if frames.beyond is not None:
            notes.append(f"GIF {frames.beyond}; the image is {width}x{height}, as decoders draw it")
    c2pa: bool | None = None
    if check in ("fast", "full"):
        try:
            if fmt == "PNG":
                problem, c2pa = png_check(data)
            else:
                problem = fast_check(data, fmt)
        except (struct.error, IndexError) as exc:
            problem = f"{fmt} structure is damaged: {exc}"
        if problem is not None:
            raise CorruptImageError(problem)
    if check == "full" and fmt != "SVG":
        open_pil(data, fmt, limits, load_all_frames=True)
    return width, height, notes, c2pa


# Exceptions Pillow raises for damaged data; PNG errors come as SyntaxError.
_PIL_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)


def open_pil(
    data: bytes,
    fmt: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    load_all_frames: bool = False,
    draft: tuple[int, int] | None = None,
) -> Image.Image:
    """Open ``data`` with Pillow (``fmt`` only), check its size, and load its pixels.

    Every way imgcall hands bytes to Pillow comes through here (``check="full"``,
    `DecodedImage.to_pil`, previews, thumbnails, conversion), so `check_frames` holds
    the frames to ``limits`` before Pillow reads anything. Only the first frame is
    loaded, unless ``load_all_frames``, which decodes every frame within the budget.

    ``draft`` lets a JPEG decode at a reduced scale no smaller than that size (much
    faster when only a thumbnail is wanted); other formats ignore it.

    Raises `UnsupportedImageError` for SVG, `ImageTooLargeError` over ``limits``, and
    `CorruptImageError` for anything Pillow cannot decode.
    """
    if fmt not in FORMATS or fmt == "SVG":
        raise UnsupportedImageError(
            f"{fmt} is kept as bytes and never rasterised; save it or read .data instead"
        )
    frames = check_frames(data, fmt, limits, all_frames=load_all_frames)
    from PIL import Image

    try:
        with warnings.catch_warnings():
            if limits.max_pixels > (Image.MAX_IMAGE_PIXELS or 0):
                # The caller raised our limit above Pillow's warning threshold on purpose.
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
            w, h = image.size
            if w * h > limits.max_pixels:
                raise ImageTooLargeError(
                    f"the image is {w}x{h} = {w * h:,} pixels, over the limit of "
                    f"{limits.max_pixels:,}"
                )
            if draft is not None and fmt == "JPEG":
                image.draft(None, draft)
            # The frame count is ours, read and budgeted above: Pillow's own n_frames
            # walks a whole GIF to count it.
            count = frames.count if load_all_frames else 1
            for index in range(count):
                if index:
                    image.seek(index)
                image.load()
            if count > 1:
                image.seek(0)
            return image
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"Pillow refused the image as too large: {exc}") from exc
    except _PIL_ERRORS as exc:
        raise CorruptImageError(f"{fmt} image cannot be decoded: {exc}") from exc


def thumbnail(
    data: bytes,
    fmt: str,
    max_side: int,
    limits: Limits = DEFAULT_LIMITS,
    *,
    max_bytes: int | None = None,
    lossless: bool = False,
) -> tuple[bytes, str]:
    """A copy of an image scaled down to fit ``max_side`` x ``max_side``; never upscaled.

    Returns ``(bytes, format)``. The format is PNG when ``lossless`` is set or the image
    has transparency, JPEG otherwise (far smaller for photographs). If the result is over
    ``max_bytes`` it is re-encoded as JPEG at lower quality, then at half the size, until
    it fits, so a caller embedding many previews can bound the total. Only the first
    frame of an animation is used. Raises like `open_pil`.
    """
    from PIL import Image

    image = open_pil(data, fmt, limits, draft=(max_side, max_side))
    try:
        alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        small = image.convert("RGBA" if alpha else "RGB")
        small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        attempts: list[tuple[str, dict[str, Any]]] = [("PNG", {})] if lossless or alpha else []
        attempts += [("JPEG", {"quality": q}) for q in (85, 70, 50)]
        while True:
            for out_fmt, options in attempts:
                encoded = encode_image(small, out_fmt, **options)
                if max_bytes is None or len(encoded) <= max_bytes:
                    return encoded, out_fmt
            if min(small.size) <= 16:
                return encoded, out_fmt
            small = small.resize((max(1, small.width // 2), max(1, small.height // 2)))
            attempts = [("JPEG", {"quality": 50})]
    except _PIL_ERRORS as exc:
        raise CorruptImageError(f"{fmt} image cannot be downscaled: {exc}") from exc


def encode_image(image: Image.Image, fmt: str, **options: Any) -> bytes:
    """Encode a Pillow image as ``fmt`` (PNG, JPEG or WEBP) and return the bytes."""
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = _flatten(image)
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    from PIL import Image as PILImage

    rgba = image.convert("RGBA")
    background = PILImage.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background

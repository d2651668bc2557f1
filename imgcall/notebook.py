"""Notebook display: how a `DecodedImage` shows itself, and `watch` for live streams.

IPython is never imported at module level (``import imgcall`` must not need it): the
display bundle is plain data, and `watch` imports ``IPython.display`` only when it is
called without a ``display`` function of its own.

What a `DecodedImage` puts in a notebook (`image_mimebundle`):

- PNG, JPEG and GIF up to `MAX_EMBED_BYTES`: the original bytes under their own MIME type,
  which every Jupyter front end renders; nothing is re-encoded or embedded twice.
- WebP (not rendered by every front end) and any image over `MAX_EMBED_BYTES`: a PNG
  preview at most `PREVIEW_SIDE` pixels on its longer side (JPEG if even that PNG would be
  over `MAX_EMBED_BYTES`), so one cell never carries tens of megabytes. Ask for
  ``include={"image/webp"}`` to get a WebP's own bytes instead.
- SVG as ``image/svg+xml`` only when everything in it is on the allow-list of
  `imgcall.svgsafe` (written out from the checked parse); otherwise it is shown
  inertly: a card with the reason (``text/html``) and a note in the text.
- An animation whose frames are over its `Limits` budget (every frame is decoded to
  animate it) is shown by a preview of its first frame instead of its own bytes.
- Always a ``text/plain`` line, the image's repr, which has no memory address, so
  re-running a notebook does not change its text output.
- A display width of at most `DISPLAY_SIDE` pixels (the image fits a `DISPLAY_SIDE`
  square), so a 4096-pixel image does not blow up the page.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from typing import TYPE_CHECKING, Any

from .errors import ImgcallError, Problem
from .formats import FORMATS
from .svgsafe import UnsafeSVG, live_svg, svg_problem

if TYPE_CHECKING:
    from .decoding import Limits
    from .image import DecodedImage

__all__ = [
    "DISPLAY_SIDE",
    "MAX_EMBED_BYTES",
    "PREVIEW_SIDE",
    "image_mimebundle",
    "svg_problem",
    "watch",
]

DISPLAY_SIDE = 512
"""Images are displayed to fit a square of this many CSS pixels (never enlarged)."""
MAX_EMBED_BYTES = 4_000_000
"""Originals larger than this are shown as a downscaled preview instead of embedded."""
PREVIEW_SIDE = 1536
"""Longer side of a re-encoded preview; 1536 keeps every gpt-image size at full size."""

# Front ends render these natively; anything else is shown as a PNG preview.
_NATIVE = {"PNG", "JPEG", "GIF"}

_NOTEBOOK_EXTRA = "pip install 'imgcall[notebook]'"


def image_mimebundle(
    image: DecodedImage,
    *,
    include: Container[str] | None = None,
    exclude: Container[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` bundle IPython displays for ``image``.

    Only the MIME types that ``include`` allows and ``exclude`` does not are computed,
    so a front end that declines images never pays for a re-encode. Never raises for a
    damaged image: the reason goes into the ``text/plain`` entry instead.
    """

    def wanted(mime: str) -> bool:
        return (include is None or mime in include) and (exclude is None or mime not in exclude)

    data: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    notes: list[str] = []
    heavy = None if image.format == "SVG" else _animation_problem(image)
    if image.format == "SVG":
        if wanted("image/svg+xml"):
            _add_svg(image, data, notes, wanted)
    elif image.format in _NATIVE and image.nbytes <= MAX_EMBED_BYTES and heavy is None:
        if wanted(image.mime):
            data[image.mime] = image.data
            metadata[image.mime] = _display_size(image.width, image.height)
    else:
        if heavy is not None:
            notes.append(f"showing its first frame only: {heavy}")
        # WebP's own bytes only when asked for (or PNG is refused): some front ends do
        # not render WebP, and sending both by default would store the image twice.
        native_webp = (
            image.format == "WEBP"
            and heavy is None
            and image.nbytes <= MAX_EMBED_BYTES
            and wanted("image/webp")
            and (include is not None or not wanted("image/png"))
        )
        if native_webp:
            data["image/webp"] = image.data
            metadata["image/webp"] = _display_size(image.width, image.height)
        if wanted("image/png") or (not native_webp and wanted("image/jpeg")):
            _add_preview(image, data, metadata, notes, wanted)
    if wanted("text/plain"):
        data["text/plain"] = "\n".join([repr(image), *notes])
    return data, metadata


def _animation_problem(image: DecodedImage) -> str | None:
    from .decoding import DEFAULT_LIMITS, frames_problem

    return frames_problem(image.data, image.format, image.limits or DEFAULT_LIMITS)


def _add_svg(
    image: DecodedImage,
    data: dict[str, Any],
    notes: list[str],
    wanted: Callable[[str], bool],
) -> None:
    try:
        if image.nbytes > MAX_EMBED_BYTES:
            size = f"{image.nbytes:,} bytes, over the {MAX_EMBED_BYTES:,}"
            raise UnsafeSVG(f"it is {size} shown inline")
        data["image/svg+xml"] = live_svg(image.data)
    except UnsafeSVG as exc:
        notes.append(f"SVG not shown live: {exc}; save it or read .data")
        if wanted("text/html"):
            from .gallery import Gallery

            data["text/html"] = Gallery.of([image])._repr_html_()


def _add_preview(
    image: DecodedImage,
    data: dict[str, Any],
    metadata: dict[str, Any],
    notes: list[str],
    wanted: Callable[[str], bool],
) -> None:
    from .decoding import DEFAULT_LIMITS, thumbnail

    try:
        preview, fmt = thumbnail(
            image.data,
            image.format,
            PREVIEW_SIDE,
            image.limits or DEFAULT_LIMITS,
            max_bytes=MAX_EMBED_BYTES,
            lossless=True,
        )
    except ImgcallError as exc:
        notes.append(f"no preview: {exc.reason}")
        return
    mime = FORMATS[fmt].mime
    if wanted(mime):
        data[mime] = preview
        metadata[mime] = _display_size(image.width, image.height)


def _display_size(width: int | None, height: int | None) -> dict[str, int]:
    if not width or not height:
        return {}
    scale = min(1.0, DISPLAY_SIDE / width, DISPLAY_SIDE / height)
    return {"width": max(1, round(width * scale))}


def watch(
    events: Iterable[Any],
    *,
    partials: bool = True,
    thumb: int | None = None,
    limits: Limits | None = None,
    display: Callable[..., Any] | None = None,
) -> list[DecodedImage]:
    """Show a stream's images in a notebook as they arrive; return the final images.

    ``events`` is an iterable of stream events: SDK event objects or JSON dicts, as from
    ``client.responses.create(..., stream=True)``, or anything else `iter_images` reads.
    Each image item gets one display slot: its partial images appear there as they
    arrive (``partials=True``) and the final image replaces them in place, with a
    caption under it (id, size, format, C2PA, prompt: `imgcall.caption.Captioned`). An
    item that cannot be decoded shows a card saying what happened. ``thumb`` shows captioned
    thumbnails of at most that many pixels instead of the images themselves.

    >>> stream = client.responses.create(..., stream=True)   # doctest: +SKIP
    >>> images = imgcall.watch(stream)                        # doctest: +SKIP

    ``display`` replaces ``IPython.display.display`` (it is called with
    ``display_id=True`` and must return a handle with ``update``); without it IPython
    is required (``pip install 'imgcall[notebook]'``).
    """
    from .caption import Captioned
    from .extract import iter_images
    from .gallery import Gallery

    show = display if display is not None else _ipython_display()
    handles: dict[str, Any] = {}
    final_shown: set[str] = set()
    finals: list[DecodedImage] = []
    found_items = iter_images(events, partials=partials, errors="collect", limits=limits)
    for index, found in enumerate(found_items):
        # An item without an id (an unreadable one) cannot be matched later: own slot.
        key = found.id if found.id is not None else f"#{index}"
        if found.partial and key in final_shown:
            continue  # a late preview must never replace the final image
        if not found.partial:
            final_shown.add(key)
            if not isinstance(found, Problem):
                finals.append(found)
        if isinstance(found, Problem) or thumb is not None:
            shown: object = Gallery.of([found], thumb=thumb)
        elif found.partial:
            shown = found
        else:
            shown = Captioned(found)  # the final image, with id, size and prompt under it
        handle = handles.get(key)
        if handle is not None:
            handle.update(shown)
            continue
        handle = show(shown, display_id=True)
        # Outside a kernel IPython prints instead and returns no handle to update.
        if handle is not None:
            handles[key] = handle
    return finals


def _ipython_display() -> Callable[..., Any]:
    try:
        from IPython.display import display as ipython_display
    except ImportError as exc:
        raise ImportError(
            f"imgcall.watch needs IPython to display images: {_NOTEBOOK_EXTRA}"
        ) from exc
    # A typed name, so mypy is content whether or not IPython's stubs are installed.
    display: Callable[..., Any] = ipython_display
    return display

"""`show`: a gallery of thumbnails for a notebook, from any source or list of images.

The gallery's HTML stays small however large or many the images are:

- every image is shown as a thumbnail of at most ``thumb`` pixels, encoded once when the
  gallery is made (JPEG, or PNG for transparent images) and held within a byte budget of
  ``thumb * thumb * 3 // 4`` bytes (about 27 kB at the default 192), so 50 cards stay
  under 2 MB of HTML;
- at most ``limit`` cards (50 by default) are made; the rest are counted and summed up as
  "and N more";
- every caption and tooltip is cut to a fixed length, and every user-controlled string
  (ids, prompts, reasons, locations) is HTML-escaped.

Memory: a card keeps its thumbnail and a few fields, never the original bytes, so a
gallery of a 50,000-image batch holds 50 thumbnails. Past the cap, images are decoded and
dropped one at a time only to count them; ``count_rest=False`` stops reading there.
"""

from __future__ import annotations

import base64
import html
import itertools
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .cards import Card, failure_words, render_card
from .errors import ImgcallError, ImgcallWarning, Problem
from .formats import FORMATS
from .image import DecodedImage, human_bytes

__all__ = ["Gallery", "show"]

DEFAULT_LIMIT = 50
DEFAULT_THUMB = 192
DEFAULT_COLUMNS = 4
# An SVG thumbnail is its checked markup (`imgcall.svgsafe`) in an <img>; an SVG that is
# not on the allow-list, or past this size, is a card saying why, never rendered.
_MAX_SVG_THUMB = 64_000
_REPR_LINES = 20
_ID_CHARS = 80
_CAPTION_CHARS = 140
_TOOLTIP_CHARS = 1000
_REASON_CHARS = 300
_LINE_CHARS = 200


# What the gallery keeps of one item: the shared card (text fields and a thumbnail).
_Card = Card


class Gallery:
    """A grid of thumbnails with captions, made by `show`; displays itself in Jupyter.

    ``_repr_html_`` is the grid; ``repr()`` is a plain-text list (one line per item,
    capped) for terminals. ``len(gallery)`` is the number of cards shown; ``total``
    counts every item found (``None`` when ``count_rest=False`` stopped early),
    ``images`` and ``problems`` split that count.
    """

    def __init__(
        self,
        cards: Sequence[tuple[Card, str]],
        *,
        total: int | None,
        images: int,
        problems: int,
        columns: int = DEFAULT_COLUMNS,
        thumb: int = DEFAULT_THUMB,
    ) -> None:
        self._cards = tuple(card for card, _ in cards)
        self._lines = tuple(line for _, line in cards)
        self.total = total
        """Items found in the source, shown or not; ``None`` if reading stopped early."""
        self.images = images
        """Items that decoded into an image (counted so far when ``total`` is ``None``)."""
        self.problems = problems
        """Items that did not decode (counted so far when ``total`` is ``None``)."""
        self.columns = columns
        """Cards per row."""
        self.thumb = thumb
        """Longest side of a thumbnail, in pixels."""
        self._html: str | None = None

    @classmethod
    def of(cls, entries: Iterable[DecodedImage | Problem], *, thumb: int | None = None) -> Gallery:
        """A one-row gallery of a few already-decoded images and problems, all shown."""
        size = thumb or DEFAULT_THUMB
        cards = [_card(entry, size) for entry in entries]
        problems = sum(card.failed for card, _ in cards)
        return cls(
            cards,
            total=len(cards),
            images=len(cards) - problems,
            problems=problems,
            columns=max(1, len(cards)),
            thumb=size,
        )

    def __len__(self) -> int:
        return len(self._cards)

    @property
    def omitted(self) -> int | None:
        """Items found but not shown (``None`` if unknown because reading stopped)."""
        return None if self.total is None else self.total - len(self._cards)

    def _repr_html_(self) -> str:
        if self._html is None:
            self._html = self._render()
        return self._html

    def _render(self) -> str:
        style = (
            "display:grid;gap:8px;font-family:sans-serif;font-size:12px;"
            f"grid-template-columns:repeat({self.columns},minmax(0,{self.thumb + 24}px))"
        )
        parts = [f'<div class="imgcall-gallery" style="{style}">']
        parts.extend(render_card(card, inline=True, box_px=self.thumb) for card in self._cards)
        parts.append("</div>")
        summary = self._summary()
        if summary:
            parts.append(f'<div style="font-size:12px;margin-top:6px">{_e(summary)}</div>')
        return "\n".join(parts)

    def _summary(self) -> str:
        if self.omitted is None:
            return f"… and more not shown (stopped reading after {len(self)} items)"
        if self.omitted <= 0:
            return ""
        shown_problems = sum(card.failed for card in self._cards)
        rest_images = self.images - (len(self) - shown_problems)
        rest_problems = self.problems - shown_problems
        split = f"{_count(rest_images, 'image')}, {_count(rest_problems, 'problem')}"
        return f"… and {self.omitted} more not shown ({split}); pass limit=None to see all"

    def __repr__(self) -> str:
        found = (
            f"{len(self)} items shown, more not read"
            if self.total is None
            else _count(self.total, "item")
        )
        split = f"{_count(self.images, 'image')}, {_count(self.problems, 'problem')}"
        head = f"<Gallery {found}: {split}>"
        lines = [head]
        lines.extend(f"  {line}" for line in self._lines[:_REPR_LINES])
        hidden = len(self) - _REPR_LINES
        if hidden > 0:
            lines.append(f"  … {hidden} more shown in the HTML view")
        summary = self._summary()
        if summary:
            lines.append(f"  {summary}")
        return "\n".join(lines)


def show(
    source_or_images: object,
    *,
    columns: int = DEFAULT_COLUMNS,
    thumb: int = DEFAULT_THUMB,
    limit: int | None = DEFAULT_LIMIT,
    count_rest: bool = True,
    partials: bool = False,
    discover: bool = True,
) -> Gallery:
    """A gallery of thumbnails for a notebook: ``imgcall.show("response.json")``.

    ``source_or_images`` is anything `iter_images` reads (a path, JSON, a response, a
    batch output file, stream events, ...), a `DecodedImage`, or a list or iterator of
    `DecodedImage` and `Problem` objects (e.g. from ``iter_images(...,
    errors="collect")``). Items that do not decode appear as cards with the reason.

    ``columns`` cards per row; ``thumb`` pixels for the longer side of a thumbnail (16 to
    1024); ``limit`` cards at most (``None`` for all: the HTML then grows with the
    input); ``count_rest=False`` stops reading the source at the cap instead of counting
    what is not shown; ``partials=True`` includes streamed partial images;
    ``discover=False`` leaves out images only the search by content finds. Decode
    warnings are not emitted: each card shows its own.

    Raises:
        InvalidInputError: the source as a whole cannot be read or parsed.
    """
    if not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    if not isinstance(thumb, int) or not 16 <= thumb <= 1024:
        raise ValueError(f"thumb must be an integer from 16 to 1024, got {thumb!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    cards: list[tuple[Card, str]] = []
    counts = {"images": 0, "problems": 0}
    complete = True
    with warnings.catch_warnings():
        # Each card shows its image's warnings; fifty stderr lines would say it again.
        warnings.simplefilter("ignore", ImgcallWarning)
        for entry in _entries(source_or_images, partials, discover):
            if limit is not None and len(cards) >= limit and not count_rest:
                complete = False
                break
            counts["problems" if isinstance(entry, Problem) else "images"] += 1
            if limit is None or len(cards) < limit:
                cards.append(_card(entry, thumb))
    return Gallery(
        cards,
        total=counts["images"] + counts["problems"] if complete else None,
        images=counts["images"],
        problems=counts["problems"],
        columns=columns,
        thumb=thumb,
    )


def _entries(
    source: object, partials: bool, discover: bool = True
) -> Iterator[DecodedImage | Problem]:
    from .extract import iter_images

    if isinstance(source, (DecodedImage, Problem)):
        yield source
        return
    if isinstance(source, (list, tuple)):
        if not any(isinstance(x, (DecodedImage, Problem)) for x in source):
            yield from iter_images(source, errors="collect", partials=partials, discover=discover)
            return
        elements: Iterable[Any] = source
    elif _plain_iterator(source):
        iterator = iter(source)  # type: ignore[call-overload]
        first = next(iterator, _END)
        if first is _END:
            return
        if not isinstance(first, (DecodedImage, Problem)):
            # Stream events or items: hand the whole, rebuilt, iterable to the scanner.
            chained = itertools.chain([first], iterator)
            yield from iter_images(chained, errors="collect", partials=partials, discover=discover)
            return
        elements = itertools.chain([first], iterator)
    else:
        yield from iter_images(source, errors="collect", partials=partials, discover=discover)
        return
    for element in elements:
        if isinstance(element, (DecodedImage, Problem)):
            yield element
        else:
            yield from iter_images(element, errors="collect", partials=partials, discover=discover)


_END = object()


def _plain_iterator(source: object) -> bool:
    """An iterable that is not itself a document (text, bytes, mapping, file, SDK model)."""
    if isinstance(source, (str, bytes, bytearray, memoryview, dict)):
        return False
    if any(hasattr(source, name) for name in ("read", "model_dump", "to_dict", "keys")):
        return False
    return isinstance(source, Iterable)


def _card(entry: DecodedImage | Problem, thumb: int) -> tuple[Card, str]:
    """The card of one entry, and its one-line text description for ``repr()``."""
    location = None if entry.location is None else str(entry.location)
    context = entry.context
    custom_id = context.get("custom_id") if hasattr(context, "get") else None
    custom_id = custom_id if isinstance(custom_id, str) and custom_id else None
    if isinstance(entry, Problem):
        reason = _cut(" ".join(entry.reason.split()), _REASON_CHARS)
        name = type(entry.error).__name__
        # A broken line has no id or status: name it by where it is, never "None ?".
        who = repr(entry.id) if entry.id is not None else (location or "(no id)")
        status = f" {entry.status}" if entry.status else ""
        line = _cut(f"{who}{status}: {name}: {reason}", _LINE_CHARS)
        card = Card(
            id=entry.id,
            status=entry.status,
            failed=True,
            prompt=_prompt(entry.context),
            custom_id=custom_id,
            location=location,
            partial_index=entry.partial_index,
            headline=failure_words(name, entry.code, entry.reason),
            reason=reason,
            error_code=entry.code,
            error_type=name,
        )
        return card, line
    uri, note = _thumbnail(entry, thumb)
    card = Card(
        id=entry.id,
        status=entry.status,
        format=entry.format,
        width=entry.width,
        height=entry.height,
        nbytes=entry.nbytes,
        prompt=_prompt(entry.context),
        custom_id=custom_id,
        location=location,
        warnings=entry.warnings,
        partial_index=entry.partial_index,
        c2pa=entry.c2pa,
        thumb=uri,
        note=note,
    )
    return card, _cut(entry._describe(), _LINE_CHARS)


def _thumbnail(image: DecodedImage, thumb: int) -> tuple[str | None, str | None]:
    from .decoding import DEFAULT_LIMITS, thumbnail

    if image.format == "SVG":
        if image.nbytes > _MAX_SVG_THUMB:
            return None, f"SVG of {human_bytes(image.nbytes)}: too large for a thumbnail"
        from .svgsafe import UnsafeSVG, live_svg

        try:
            markup = live_svg(image.data)
        except UnsafeSVG as exc:
            return None, f"SVG not shown: {exc}"
        return _data_uri(markup.encode("utf-8"), "SVG"), None
    try:
        data, fmt = thumbnail(
            image.data,
            image.format,
            thumb,
            image.limits or DEFAULT_LIMITS,
            max_bytes=thumb * thumb * 3 // 4,
        )
    except ImgcallError as exc:
        return None, f"no preview: {exc.reason}"
    return _data_uri(data, fmt), None


def _data_uri(data: bytes, fmt: str) -> str:
    return f"data:{FORMATS[fmt].mime};base64,{base64.b64encode(data).decode('ascii')}"


def _prompt(context: Any) -> str | None:
    for key in ("revised_prompt", "prompt"):
        value = context.get(key) if hasattr(context, "get") else None
        if isinstance(value, str) and value.strip():
            return value
    return None


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

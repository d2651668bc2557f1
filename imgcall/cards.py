"""One card design for every gallery: the notebook's `show` and the ``index.html`` page.

A `Card` is what a gallery shows of one item (id, status, format, size, prompt,
``custom_id``, C2PA, or for an item that did not become an image: what happened, in
words, the reason and the provider's code). `render_card` turns it into HTML, the same
markup for both outputs:

- ``inline=True`` (a notebook): every element carries its style in a ``style``
  attribute, since front ends differ in what they keep of a ``<style>`` block;
- ``inline=False`` (the page): the same elements carry class names only, and
  `stylesheet` is the page's CSS, built from the same declarations plus the few rules
  that need selectors (hover, focus, dark mode).

Every string from a payload (ids, prompts, reasons, codes, locations) goes through
``html.escape`` and is cut to a fixed length: data is never inserted as markup, and a
card stays small whatever the item holds.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

from .image import human_bytes

__all__ = [
    "CARD_CAPTION_PX",
    "Card",
    "failure_words",
    "render_card",
    "stylesheet",
]

ID_CHARS = 80
PROMPT_CHARS = 300
REASON_CHARS = 300
CODE_CHARS = 60
TOOLTIP_CHARS = 400

CARD_CAPTION_PX = 104
"""Height of a card's caption on the page, in CSS pixels (the page lays out fixed rows)."""


@dataclass(frozen=True)
class Card:
    """What a gallery shows of one item: text fields and where its thumbnail is."""

    id: str | None
    status: str | None
    failed: bool = False
    """The item did not become an image (a failed generation, a bad payload, ...)."""
    format: str | None = None
    width: int | None = None
    height: int | None = None
    nbytes: int | None = None
    prompt: str | None = None
    custom_id: str | None = None
    location: str | None = None
    warnings: tuple[str, ...] = ()
    partial_index: int | None = None
    c2pa: bool | None = None
    thumb: str | None = None
    """The thumbnail's URL: a ``data:`` URI (notebook) or a relative path (page)."""
    href: str | None = None
    """Where the card links: the image file (page only)."""
    note: str | None = None
    """Why there is no thumbnail."""
    headline: str | None = None
    """For a failed item: what happened, in words (`failure_words`)."""
    reason: str | None = None
    """For a failed item: the error's own explanation."""
    error_code: str | None = None
    """For a failed item: the provider's code (``moderation_blocked``, ``IMAGE_SAFETY``)."""
    error_type: str | None = None
    """For a failed item: the error class name (kept for the tooltip, not the face)."""

    @property
    def size_text(self) -> str:
        """``"1024x1024 · 1.9 MB"``, with whatever of it is known."""
        dims = f"{self.width}x{self.height}" if self.width and self.height else None
        size = human_bytes(self.nbytes) if self.nbytes is not None else None
        return " · ".join(x for x in (dims, size) if x)


_BLOCKED_HINTS = ("moderation", "safety", "filter", "blocked", "prohibited", "rai", "policy")

_WORDS = {
    "ImageGenerationFailedError": "Generation failed",
    "ImageNotReadyError": "Not finished yet",
    "EmptyResultError": "No image in the result",
    "InvalidBase64Error": "The image data is garbled",
    "UnsupportedResultError": "Not inline image data",
    "UnsupportedImageError": "Not an image imgcall can save",
    "ImageTooLargeError": "Too large to accept",
    "CorruptImageError": "The image is damaged",
    "InvalidItemError": "Not a valid image item",
    "InvalidInputError": "The input could not be read",
    "OutputExistsError": "Another file holds its name",
    "OutputError": "Could not be written",
}


def failure_words(error_type: str | None, code: str | None, reason: str | None = None) -> str:
    """What happened to an item that did not become an image, in a few plain words.

    A provider's content-filter code or message (``moderation_blocked``,
    ``IMAGE_SAFETY``, ``CONTENT_FILTERED``, ...) reads "Blocked by the provider's safety
    system"; otherwise the error class decides ("The image is damaged", ...).
    """
    hint = f"{code or ''} {reason or ''}".lower()
    if code and any(word in hint for word in _BLOCKED_HINTS):
        return "Blocked by the provider's safety system"
    if reason and "safety system" in reason.lower():
        return "Blocked by the provider's safety system"
    return _WORDS.get(error_type or "", "Not saved")


# Each element's look, written once: the notebook inlines these, the page gets classes.
_STYLE = {
    "card": (
        "margin:0;padding:0;border:1px solid rgba(128,128,128,.32);border-radius:10px;"
        "overflow:hidden;min-width:0;display:flex;flex-direction:column;"
        "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:12px;"
        "line-height:1.35;box-sizing:border-box"
    ),
    "failed": "border-color:rgba(217,83,79,.75)",
    "box": (
        "display:flex;align-items:center;justify-content:center;position:relative;"
        "background:rgba(128,128,128,.09);overflow:hidden;flex:none"
    ),
    "img": "width:100%;height:100%;object-fit:contain;display:block",
    "why": (
        "padding:10px;text-align:center;overflow:hidden;word-break:break-word;"
        "max-height:100%;box-sizing:border-box"
    ),
    "head": "font-weight:600;font-size:13px;margin-bottom:4px",
    "mark": "color:#d9534f",
    "reason": "opacity:.8;font-size:11.5px",
    "code": (
        "display:inline-block;margin-top:6px;padding:1px 6px;border-radius:4px;"
        "background:rgba(217,83,79,.14);font-family:ui-monospace,Menlo,Consolas,monospace;"
        "font-size:11px"
    ),
    "cap": "padding:7px 9px 8px;overflow:hidden;min-width:0",
    "id": (
        "display:block;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11.5px;"
        "font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis"
    ),
    "meta": "margin-top:3px;opacity:.85;overflow:hidden;text-overflow:ellipsis",
    "badge": (
        "display:inline-block;padding:0 5px;border-radius:4px;font-size:10.5px;"
        "font-weight:600;background:rgba(128,128,128,.16)"
    ),
    "warn": "background:rgba(210,153,34,.2);color:#a8730d",
    "bad": "background:rgba(217,83,79,.16);color:#c9413c",
    "c2pa": "background:rgba(56,132,255,.16);color:#2f6fd6",
    "cid": (
        "margin-top:2px;opacity:.7;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;"
        "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px"
    ),
    "prompt": (
        "margin-top:3px;opacity:.75;overflow:hidden;display:-webkit-box;"
        "-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow-wrap:anywhere"
    ),
}

# Only the page has selectors: its own colours, hover and focus, a dark scheme.
_PAGE_ONLY = """
.ic-card{background:var(--card);height:100%;color:inherit;text-decoration:none}
.ic-card:hover{box-shadow:0 4px 14px rgba(0,0,0,.12);border-color:rgba(128,128,128,.55)}
.ic-box{aspect-ratio:1/1;background:var(--well)}
a.ic-box{cursor:zoom-in}
a.ic-box:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
.ic-cap{height:var(--cap);box-sizing:border-box}
.ic-meta{white-space:nowrap}
.ic-failed .ic-box{background:var(--bad-well)}
"""


@functools.lru_cache(maxsize=128)
def _a(name: str, inline: bool, *more: str) -> str:
    """The attributes that give an element its look: classes, or inline styles."""
    names = (name, *more)
    if inline:
        return f'style="{";".join(_STYLE[n] for n in names)}"'
    return f'class="{" ".join(f"ic-{n}" for n in names)}"'


def stylesheet() -> str:
    """The page's CSS for cards: the same declarations the notebook inlines, as classes."""
    rules = [f".ic-{name}{{{decls}}}" for name, decls in _STYLE.items()]
    # Modifiers (ok, bad, c2pa, failed) come after the base rules, so they win.
    return "\n".join(rules) + _PAGE_ONLY


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split()) if len(text) < 4 * n else " ".join(text[: 4 * n].split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _status_kind(status: str | None, failed: bool) -> str:
    return "bad" if failed or status == "failed" else "warn"


def render_card(card: Card, *, inline: bool, box_px: int | None = None) -> str:
    """The HTML of one card: ``inline=True`` for a notebook, ``False`` for the page.

    ``box_px`` fixes the thumbnail box's height in a notebook (its ``thumb``); on the
    page the box is a square as wide as the card, and no element has a ``style``
    attribute (the page's Content-Security-Policy allows its own stylesheet only).
    """
    tooltip = _tooltip(card)
    box_attrs = _a("box", inline)
    if box_px and inline:
        box_attrs = box_attrs[:-1] + f';height:{int(box_px)}px"'
    if card.thumb is not None:
        alt = _e(_cut(card.id or "image", ID_CHARS))
        inner = f'<img {_a("img", inline)} src="{_e(card.thumb)}" alt="{alt}" loading="lazy">'
    elif card.failed:
        inner = (
            f"<div {_a('why', inline)}><div {_a('head', inline)}>"
            f"<span {_a('mark', inline)}>✗ </span>{_e(card.headline or 'Not saved')}</div>"
        )
        if card.reason:
            inner += f"<div {_a('reason', inline)}>{_e(_cut(card.reason, REASON_CHARS))}</div>"
        if card.error_code:
            inner += f"<code {_a('code', inline)}>{_e(_cut(card.error_code, CODE_CHARS))}</code>"
        inner += "</div>"
    else:
        inner = (
            f"<div {_a('why', inline)}>{_e(_cut(card.note or 'no preview', REASON_CHARS))}</div>"
        )
    if card.href is not None:
        # An SVG opened as a page of its own runs whatever script it holds; a link to one
        # saves it instead. Images are only ever shown through <img>, which runs nothing.
        save = " download" if card.format == "SVG" else ""
        box = f'<a {box_attrs} href="{_e(card.href)}"{save}>{inner}</a>'
    else:
        box = f"<div {box_attrs}>{inner}</div>"
    status = _e(_cut(card.status or "?", 24))
    if card.status == "completed" and not card.failed:
        # The usual case needs no badge; the word stays for the page's text filter.
        meta = [f"<span hidden>{status}</span>"]
    else:
        kind = _status_kind(card.status, card.failed)
        meta = [f"<span {_a('badge', inline, kind)}>{status}</span>"]
    if card.c2pa:
        meta.append(
            f'<span {_a("badge", inline, "c2pa")} title="carries C2PA provenance">C2PA</span>'
        )
    words = [x for x in (card.format, card.size_text) if x]
    if card.partial_index is not None:
        words.append(f"partial {card.partial_index}")
    if card.warnings:
        words.append(f"⚠ {len(card.warnings)}")
    if words:
        meta.append(_e(" · ".join(words)))
    shown_id = _cut(card.id if card.id is not None else "(no id)", ID_CHARS)
    caption = [
        f"<code {_a('id', inline)}>{_e(shown_id)}</code>",
        f"<div {_a('meta', inline)}>{' '.join(meta)}</div>",
    ]
    if card.custom_id:
        caption.append(f"<div {_a('cid', inline)}>{_e(_cut(card.custom_id, ID_CHARS))}</div>")
    if card.prompt:
        caption.append(f"<div {_a('prompt', inline)}>{_e(_cut(card.prompt, PROMPT_CHARS))}</div>")
    face = _a("card", inline, "failed") if card.failed else _a("card", inline)
    return (
        f'<figure {face} title="{tooltip}">{box}'
        f"<figcaption {_a('cap', inline)}>{''.join(caption)}</figcaption></figure>"
    )


def _tooltip(card: Card) -> str:
    lines = [f"id: {card.id}" if card.id is not None else "id: (none)"]
    if card.custom_id:
        lines.append(f"custom_id: {card.custom_id}")
    if card.location:
        lines.append(f"at: {card.location}")
    if card.c2pa:
        lines.append("carries C2PA provenance (a signed manifest)")
    lines.extend(f"warning: {w}" for w in card.warnings)
    if card.failed:
        detail = card.error_type or "error"
        if card.error_code:
            detail += f", code {card.error_code}"
        lines.append(f"not saved: {detail}")
    # Prompt and reason are on the card's face; the tooltip adds the rest, kept short
    # so that a page of 50,000 cards stays near 1 KB per item.
    text = "\n".join(lines)
    return _e(text if len(text) <= TOOLTIP_CHARS else text[: TOOLTIP_CHARS - 1] + "…")

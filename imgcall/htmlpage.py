"""``index.html``: a static, self-contained gallery of a run's folder, from its manifest.

`write_gallery` reads ``imgcall-manifest.jsonl`` in a folder (written by
``imgcall extract`` or `save_images`), makes thumbnails where images are larger than a
thumbnail (`imgcall.thumbs`), and writes ``index.html`` beside the images: a card per
manifest line, drawn by the same renderer as the notebook's `show` (`imgcall.cards`),
with a text filter, kind buttons (images, failed, C2PA), counts, and a viewer.

What the page promises:

- nothing is loaded from the network: no fonts, no CDN, images only from the folder
  itself, and a Content-Security-Policy that allows nothing else (its one script and
  stylesheet are pinned by hash), so it works opened from disk and from any static
  server;
- every string from a payload is escaped where the card is made, and the cards travel
  in a JSON block whose ``<``, ``>`` and ``&`` are escaped, so no data becomes markup;
- it stays fast with 50,000 items: about 1 KB of HTML/JSON per item (prompts are cut to
  300 characters), and only the cards near the viewport are in the document.

``index.html`` is imgcall's own file: a rebuild replaces it, but a file of that name
that imgcall did not write (or anything that is not a regular file) is never replaced.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import _version
from ._pageassets import PAGE_CSS, PAGE_JS
from .cards import CARD_CAPTION_PX, Card, failure_words, render_card, stylesheet
from .errors import InvalidInputError, OutputError, OutputExistsError
from .manifest import MANIFEST_NAME
from .pagefolder import PageFolder, page_folder
from .thumbs import THUMB_SIDE, make_thumbnails
from .writing import describe_os_error

if TYPE_CHECKING:
    from .objectstore import ObjectPath

__all__ = ["GALLERY_NAME", "GalleryReport", "write_gallery"]

GALLERY_NAME = "index.html"
_GENERATOR = '<meta name="generator" content="imgcall gallery">'
# Images at most this large (and this many bytes) are shown from their own file.
_SMALL_BYTES = 1_000_000
_MAX_SVG_BYTES = 4_000_000
# Cards written into the page as plain HTML too: seen before the script runs, or without it.
_STATIC_CARDS = 48
_IMAGE_OUTCOMES = ("saved", "exists", "overwritten")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FLAG_IMAGE, _FLAG_FAILED, _FLAG_C2PA, _FLAG_PARTIAL = 1, 2, 4, 8


@dataclass(frozen=True)
class GalleryReport:
    """What `write_gallery` wrote: the page, and what it shows."""

    path: Path | ObjectPath
    """The ``index.html`` written (its URL, an `imgcall.ObjectPath`, in object storage)."""
    items: int
    """Cards on the page (one per manifest line)."""
    images: int
    """Cards of images whose file is there."""
    failed: int
    """Cards of items that did not become an image (or whose file is gone)."""
    c2pa: int
    """Images that carry C2PA provenance."""
    thumbnails_made: int
    thumbnails_reused: int
    warnings: tuple[str, ...] = ()
    """Things worth knowing: broken manifest lines, a thumbnail folder not usable, ..."""


def write_gallery(
    folder: str | os.PathLike[str] | ObjectPath,
    *,
    workers: int | None = None,
    title: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> GalleryReport:
    """Write ``index.html`` into ``folder``, the output folder of an earlier run.

    Built from the folder's ``imgcall-manifest.jsonl`` and its image files; thumbnails
    go into ``.imgcall-thumbs/``, made on ``workers`` threads (default: one per CPU).
    ``title`` is the page's heading (default: the folder's name). Never prints.

    ``folder`` may be a URL in object storage (``"s3://bucket/out/"``, as written by
    ``save_images(..., "s3://bucket/out/")``; ``pip install 'imgcall[remote]'``),
    reached with ``storage_options`` (see `imgcall.objectstore`): the page and the
    thumbnails are objects beside the images, with their content types, so a bucket
    served as a static website (or the prefix downloaded) shows the gallery.

    Raises:
        InvalidInputError: the folder has no manifest (or it cannot be read).
        OutputExistsError: an ``index.html`` that imgcall did not write is there.
        OutputError: the page cannot be written.
    """
    files = page_folder(folder, storage_options)
    warnings: list[str] = []
    records = list(_read_manifest(files, warnings))
    target = files.location(GALLERY_NAME)
    _check_target(files)
    plan = [_plan(files, record) for record in records]
    jobs = [(p.name, p.sha256) for p in plan if p.needs_thumb and p.name and p.sha256]
    thumbs = make_thumbnails(files, jobs, workers=workers)
    if thumbs.warning:
        warnings.append(thumbs.warning)
    entries: list[tuple[int, str]] = []
    images = failed = c2pa = 0
    for record, planned in zip(records, plan, strict=True):
        card = _card(record, planned, thumbs.paths, thumbs.notes)
        flags = (
            (_FLAG_FAILED if card.failed else _FLAG_IMAGE)
            | (_FLAG_C2PA if card.c2pa else 0)
            | (_FLAG_PARTIAL if card.partial_index is not None else 0)
        )
        images += not card.failed
        failed += card.failed
        c2pa += bool(card.c2pa)
        entries.append((flags, render_card(card, inline=False)))
    page = _page(
        entries,
        title=title or files.title,
        counts=(len(entries), images, failed, c2pa),
        warnings=warnings,
    )
    try:
        files.write(GALLERY_NAME, page.encode("utf-8"))
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {describe_os_error(exc)}") from exc
    return GalleryReport(
        path=target,
        items=len(entries),
        images=images,
        failed=failed,
        c2pa=c2pa,
        thumbnails_made=thumbs.made,
        thumbnails_reused=thumbs.reused,
        warnings=tuple(warnings),
    )


def _read_manifest(files: PageFolder, warnings: list[str]) -> Iterator[dict[str, Any]]:
    where = files.location(MANIFEST_NAME)
    try:
        fh = files.open(MANIFEST_NAME)
    except FileNotFoundError as exc:
        raise InvalidInputError(
            f"{str(files.location('')).rstrip('/')} has no {MANIFEST_NAME}: build a gallery "
            "from the output "
            "folder of 'imgcall extract' (without --no-manifest)",
            location=str(where),
        ) from exc
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {where}: {describe_os_error(exc)}", location=str(where)
        ) from exc
    broken = 0
    try:
        with fh:
            for raw in fh:
                try:
                    value = json.loads(raw)
                except ValueError:
                    broken += int(bool(raw.strip()))
                    continue
                if isinstance(value, dict):
                    yield value
                else:
                    broken += 1
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {where}: {describe_os_error(exc)}", location=str(where)
        ) from exc
    if broken:
        warnings.append(f"{broken} line{'s' if broken != 1 else ''} of {MANIFEST_NAME} unreadable")


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value if isinstance(value, str) and value else None


def _int(record: dict[str, Any], key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class _Planned:
    name: str | None
    """The image's file name in the folder, when the record has one that is there."""
    sha256: str | None
    needs_thumb: bool
    missing: bool


def _plan(files: PageFolder, record: dict[str, Any]) -> _Planned:
    """Where a record's image is, and whether it needs a thumbnail."""
    path = _text(record, "path")
    if record.get("outcome") not in _IMAGE_OUTCOMES or path is None:
        return _Planned(None, None, False, False)
    # Images sit directly in the folder: go by the file name, so a moved folder works.
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", "..") or name.startswith(".") or name == GALLERY_NAME:
        return _Planned(None, None, False, True)
    size = files.size(name)
    if size is None:  # gone, or not a regular file: never opened
        return _Planned(name, None, False, True)
    sha = _text(record, "sha256")
    sha = sha if sha and _SHA256.fullmatch(sha) else None
    if sha is None:
        sha = hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()
    width, height = _int(record, "width"), _int(record, "height")
    small = (
        width is not None
        and height is not None
        and max(width, height) <= THUMB_SIDE
        and size <= _SMALL_BYTES
    )
    needs = record.get("format") != "SVG" and not small
    return _Planned(name, sha, needs, False)


def _card(
    record: dict[str, Any],
    planned: _Planned,
    thumbs: dict[str, str | None],
    notes: dict[str, str],
) -> Card:
    common: dict[str, Any] = {
        "id": _text(record, "id"),
        "status": _text(record, "status"),
        "prompt": _text(record, "revised_prompt"),
        "custom_id": _text(record, "custom_id"),
        "location": _text(record, "location") or _text(record, "input"),
        "warnings": tuple(w for w in record.get("warnings") or () if isinstance(w, str)),
        "partial_index": _int(record, "partial_index"),
    }
    outcome = record.get("outcome")
    if outcome == "failed" or (outcome not in _IMAGE_OUTCOMES and outcome != "found"):
        error_type, code, reason = (
            _text(record, "error_type"),
            _text(record, "error_code"),
            _text(record, "error"),
        )
        if outcome == "skipped":
            headline = "Skipped: another file holds its name"
            reason = reason or "a different image already had the name (--on-conflict skip)"
        else:
            headline = failure_words(error_type, code, reason)
        return Card(
            **common,
            failed=True,
            headline=headline,
            reason=reason,
            error_code=code,
            error_type=error_type,
        )
    fmt = _text(record, "format")
    details: dict[str, Any] = {
        "format": fmt,
        "width": _int(record, "width"),
        "height": _int(record, "height"),
        "nbytes": _int(record, "bytes"),
        "c2pa": record.get("c2pa") is True,
    }
    if planned.missing or planned.name is None:
        return Card(
            **common,
            **details,
            failed=True,
            headline="The file is missing",
            reason=f"{planned.name or 'its file'} is not in the folder (moved or deleted?)",
        )
    href = quote(planned.name)
    if planned.needs_thumb:
        thumb = thumbs.get(planned.name)
        note = notes.get(planned.name, "no preview")
        return Card(**common, **details, href=href, thumb=thumb, note=None if thumb else note)
    return Card(**common, **details, href=href, thumb=href)


def _json_for_script(value: object) -> str:
    """JSON that cannot end its ``<script>`` block or open a comment inside it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _sha(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _page(
    entries: list[tuple[int, str]],
    *,
    title: str,
    counts: tuple[int, int, int, int],
    warnings: list[str],
) -> str:
    total, images, failed, c2pa = counts
    css = stylesheet() + PAGE_CSS % {"cap": CARD_CAPTION_PX}
    policy = (
        "default-src 'none'; img-src 'self' data: file:; "
        f"style-src '{_sha(css)}'; script-src '{_sha(PAGE_JS)}'; "
        "base-uri 'none'; form-action 'none'"
    )
    data = _json_for_script({"caption": CARD_CAPTION_PX, "cards": [list(e) for e in entries]})
    heading = html.escape(title)
    summary = [f"{images:,} image{'s' if images != 1 else ''}"]
    summary.append(f"{failed:,} not saved")
    if c2pa:
        summary.append(f"{c2pa:,} with C2PA provenance")
    static = "".join(f'<div class="ic-slot-static">{h}</div>' for _, h in entries[:_STATIC_CARDS])
    notes = "".join(f"<p>{html.escape(w)}</p>" for w in warnings)

    def kind(name: str, label: str, n: int, pressed: bool = False) -> str:
        disabled = "" if n or pressed else " disabled"
        return (
            f'<button type="button" data-kind="{name}" aria-pressed="{str(pressed).lower()}"'
            f"{disabled}>{label} <span>{n:,}</span></button>"
        )

    kinds = (
        kind("all", "All", total, True)
        + kind("images", "Images", images)
        + kind("failed", "Not saved", failed)
        + kind("c2pa", "C2PA", c2pa)
    )
    plural = "s" if total != 1 else ""
    viewer_bar = (
        '<button type="button" data-act="prev">← Previous</button>'
        '<a href="#" target="_blank" rel="noopener">Open file</a>'
        '<button type="button" data-act="next">Next →</button>'
        '<button type="button" data-act="close">Close (Esc)</button>'
    )
    where = html.escape(" · ".join(summary))
    made_by = (
        f"Made by imgcall {_version.__version__} from {MANIFEST_NAME}; "
        "nothing on this page comes from the network."
    )
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        _GENERATOR,
        f"<title>{heading} · imgcall gallery</title>",
        '<link rel="icon" href="data:,">',
        f"<style>{css}</style>",
        "</head>",
        "<body>",
        "<header>",
        f'<div class="ic-title"><h1>{heading}</h1><span class="ic-where">{where}</span></div>',
        '<div class="ic-tools">',
        '<input id="ic-q" type="search" aria-label="Filter" autocomplete="off" '
        'placeholder="Filter by id, custom_id, prompt, status…  ( / )">',
        f'<div class="ic-kinds" role="group" aria-label="Show">{kinds}</div>',
        f'<span id="ic-count">{total:,} item{plural}</span>',
        "</div>",
        "</header>",
        "<main>",
        f'<div id="ic-grid" class="ic-static">{static}</div>',
        "</main>",
        f"<footer>{made_by}{notes}</footer>",
        '<div id="ic-view" role="dialog" aria-label="Image viewer"><img alt="">',
        f'<div class="ic-vcap"></div><div class="ic-vbar">{viewer_bar}</div></div>',
        f'<script id="ic-data" type="application/json">{data}</script>',
        f"<script>{PAGE_JS}</script>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _check_target(files: PageFolder) -> None:
    target = files.location(GALLERY_NAME)
    try:
        there = files.exists(GALLERY_NAME)
    except OSError as exc:
        raise OutputError(f"cannot check {target}: {describe_os_error(exc)}") from exc
    if not there:
        return
    if files.size(GALLERY_NAME) is not None:  # a regular file: ours if it says so
        with contextlib.suppress(OSError):
            if _GENERATOR.encode() in files.head(GALLERY_NAME, 4096):
                return
    raise OutputExistsError(
        f"{target} exists and is not a gallery imgcall wrote; move it away to build one here"
    )

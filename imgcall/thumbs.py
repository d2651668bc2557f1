"""Thumbnails for the gallery page, in a hidden folder beside the images.

``imgcall gallery`` (and ``extract --html``) shows each image through a small file in
``.imgcall-thumbs/``: a JPEG (PNG where the image has transparency) of at most
`THUMB_SIDE` pixels, made only where the image is larger than that; a smaller image is
shown from its own file. Thumbnails are made on worker threads (Pillow releases the GIL
while it decodes and scales) and named from the image's SHA-256, so a rebuild reuses
every thumbnail already there and identical images share one; thumbnails no image uses
any more are removed.

The folder is hidden, so scans of the output folder skip it; it is never followed if it
is a symlink or anything but a folder (the page then shows the originals instead). In
object storage it is the prefix ``.imgcall-thumbs/`` beside the images.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import ImgcallError
from .formats import FORMATS, sniff
from .pagefolder import LocalFolder, PageFolder
from .writing import describe_os_error

__all__ = ["THUMBS_DIR", "THUMB_SIDE", "Thumbnails", "make_thumbnails"]

THUMBS_DIR = ".imgcall-thumbs"
THUMB_SIDE = 320
"""Longer side of a thumbnail, in pixels: sharp on a 2x screen at the page's card size."""
_THUMB_NAME = re.compile(r"^[0-9a-f]{32}-\d+\.(?:jpg|png)$")


@dataclass(frozen=True)
class Thumbnails:
    """What `make_thumbnails` did: each image's thumbnail, and how many were made."""

    paths: dict[str, str | None]
    """Image file name -> thumbnail path relative to the folder (``None``: no thumbnail)."""
    notes: dict[str, str]
    """Image file name -> why it has no thumbnail (unreadable, damaged, ...)."""
    made: int
    reused: int
    removed: int
    warning: str | None = None
    """Set when the thumbnail folder could not be used (the page shows originals)."""


def make_thumbnails(
    folder: Path | PageFolder,
    images: Iterable[tuple[str, str]],
    *,
    side: int = THUMB_SIDE,
    workers: int | None = None,
) -> Thumbnails:
    """Make (or reuse) a thumbnail for each ``(file name, sha256)`` of ``folder``.

    ``folder`` is a local folder or any `imgcall.pagefolder.PageFolder` (a prefix in
    object storage). Only the images that need one are given: the caller shows smaller
    ones as they are. ``workers`` threads (default: one per CPU) do the decoding and
    scaling (and, in object storage, the downloads and uploads).
    """
    files = LocalFolder(folder) if isinstance(folder, Path) else folder
    by_key: dict[str, list[str]] = {}  # thumbnail key -> the images that share it
    for name, sha256 in images:
        by_key.setdefault(f"{sha256[:32]}-{side}", []).append(name)
    problem = files.subfolder(THUMBS_DIR)
    if problem is not None:
        return Thumbnails({}, {}, 0, 0, 0, f"thumbnails not made: {THUMBS_DIR} {problem}")
    existing = _existing(files)
    paths: dict[str, str | None] = {}
    notes: dict[str, str] = {}
    todo: list[str] = []
    reused = 0
    for key, names in by_key.items():
        found = existing.get(key)
        if found is None:
            todo.append(key)
            continue
        reused += 1
        for name in names:
            paths[name] = f"{THUMBS_DIR}/{found}"
    made = 0
    if todo:
        with ThreadPoolExecutor(workers or os.cpu_count() or 1, "imgcall-thumb") as pool:
            results = pool.map(lambda key: _make(files, by_key[key][0], key, side), todo)
            for key, (made_name, note) in zip(todo, results, strict=True):
                if made_name is not None:
                    existing[key] = made_name
                    made += 1
                for name in by_key[key]:
                    paths[name] = None if made_name is None else f"{THUMBS_DIR}/{made_name}"
                    if made_name is None:
                        notes[name] = note or "no preview"
    removed = _remove_unused(files, {existing[k] for k in by_key if k in existing})
    return Thumbnails(paths, notes, made, reused, removed)


def _existing(files: PageFolder) -> dict[str, str]:
    found: dict[str, str] = {}
    try:
        names = files.listing(THUMBS_DIR)
    except OSError:
        return found  # unlisted: every thumbnail is made again
    for name in names:
        if _THUMB_NAME.match(name):
            found[name.rsplit(".", 1)[0]] = name
    return found


def _remove_unused(files: PageFolder, used: set[str]) -> int:
    removed = 0
    with contextlib.suppress(OSError):
        for name in files.listing(THUMBS_DIR):
            if _THUMB_NAME.match(name) and name not in used:
                with contextlib.suppress(OSError):
                    files.remove(f"{THUMBS_DIR}/{name}")
                    removed += 1
    return removed


def _make(files: PageFolder, name: str, key: str, side: int) -> tuple[str | None, str | None]:
    """Make one thumbnail; ``(its file name, None)`` or ``(None, why not)``."""
    from .decoding import DEFAULT_LIMITS, thumbnail

    try:
        data = files.read(name, DEFAULT_LIMITS.max_bytes)
        fmt = sniff(data)
        if fmt is None or fmt == "SVG":
            return None, "no preview: not a raster image"
        small, out_fmt = thumbnail(data, fmt, side, DEFAULT_LIMITS, max_bytes=side * side // 2)
        del data
        final = f"{key}.{FORMATS[out_fmt].extension}"
        files.write(f"{THUMBS_DIR}/{final}", small)
    except ImgcallError as exc:
        return None, f"no preview: {exc.reason}"
    except OSError as exc:
        return None, f"no preview: {describe_os_error(exc)}"
    return final, None

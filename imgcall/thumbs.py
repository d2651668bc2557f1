"""Thumbnails for the gallery page, in a hidden folder beside the images.

``imgcall gallery`` (and ``extract --html``) shows each image through a small file in
``.imgcall-thumbs/``: a JPEG (PNG where the image has transparency) of at most
`THUMB_SIDE` pixels, made only where the image is larger than that; a smaller image is
shown from its own file. Thumbnails are made on worker threads (Pillow releases the GIL
while it decodes and scales) and named from the image's SHA-256, so a rebuild reuses
every thumbnail already there and identical images share one; thumbnails no image uses
any more are removed.

The folder is hidden, so scans of the output folder skip it; it is never followed if it
is a symlink or anything but a folder (the page then shows the originals instead).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import ImgcallError
from .formats import FORMATS, sniff
from .writing import describe_os_error, temp_path

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
    folder: Path,
    images: Iterable[tuple[str, str]],
    *,
    side: int = THUMB_SIDE,
    workers: int | None = None,
) -> Thumbnails:
    """Make (or reuse) a thumbnail for each ``(file name, sha256)`` of ``folder``.

    Only the images that need one are given: the caller shows smaller ones as they are.
    ``workers`` threads (default: one per CPU) do the decoding and scaling.
    """
    by_key: dict[str, list[str]] = {}  # thumbnail key -> the images that share it
    for name, sha256 in images:
        by_key.setdefault(f"{sha256[:32]}-{side}", []).append(name)
    thumbs = folder / THUMBS_DIR
    problem = _usable_folder(thumbs)
    if problem is not None:
        return Thumbnails({}, {}, 0, 0, 0, f"thumbnails not made: {THUMBS_DIR} {problem}")
    existing = _existing(thumbs)
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
            results = pool.map(lambda key: _make(folder, thumbs, by_key[key][0], key, side), todo)
            for key, (made_name, note) in zip(todo, results, strict=True):
                if made_name is not None:
                    existing[key] = made_name
                    made += 1
                for name in by_key[key]:
                    paths[name] = None if made_name is None else f"{THUMBS_DIR}/{made_name}"
                    if made_name is None:
                        notes[name] = note or "no preview"
    removed = _remove_unused(thumbs, {existing[k] for k in by_key if k in existing})
    return Thumbnails(paths, notes, made, reused, removed)


def _usable_folder(thumbs: Path) -> str | None:
    try:
        info = os.lstat(thumbs)
    except FileNotFoundError:
        try:
            thumbs.mkdir()
        except OSError as exc:
            return f"cannot be created: {describe_os_error(exc)}"
        return None
    except OSError as exc:
        return f"cannot be read: {describe_os_error(exc)}"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder (a symlink or a file is there)"
    return None


def _existing(thumbs: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    with contextlib.suppress(OSError), os.scandir(thumbs) as entries:
        for entry in entries:
            if _THUMB_NAME.match(entry.name) and entry.is_file(follow_symlinks=False):
                found[entry.name.rsplit(".", 1)[0]] = entry.name
    return found


def _remove_unused(thumbs: Path, used: set[str]) -> int:
    removed = 0
    with contextlib.suppress(OSError), os.scandir(thumbs) as entries:
        for entry in list(entries):
            if _THUMB_NAME.match(entry.name) and entry.name not in used:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def _make(
    folder: Path, thumbs: Path, name: str, key: str, side: int
) -> tuple[str | None, str | None]:
    """Make one thumbnail; ``(its file name, None)`` or ``(None, why not)``."""
    from .decoding import DEFAULT_LIMITS, thumbnail

    try:
        data = _read_image(folder / name, DEFAULT_LIMITS.max_bytes)
        fmt = sniff(data)
        if fmt is None or fmt == "SVG":
            return None, "no preview: not a raster image"
        small, out_fmt = thumbnail(data, fmt, side, DEFAULT_LIMITS, max_bytes=side * side // 2)
        del data
        final = f"{key}.{FORMATS[out_fmt].extension}"
        tmp = temp_path(thumbs)
        try:
            with open(tmp, "xb") as fh:
                fh.write(small)
            os.replace(tmp, thumbs / final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except ImgcallError as exc:
        return None, f"no preview: {exc.reason}"
    except OSError as exc:
        return None, f"no preview: {describe_os_error(exc)}"
    return final, None


def _read_image(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, never through a symlink, at most ``max_bytes``."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if info.st_size > max_bytes:
            raise OSError(f"{path.name} is over {max_bytes:,} bytes")
        return fh.read(max_bytes + 1)

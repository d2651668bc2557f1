"""A local folder: every regular file in it, recursively, in sorted order.

Skipped, each with one `ImgcallWarning` naming it and why: hidden files and folders (a
name starting with ``.``: ``.git``, ``.DS_Store``; a hidden folder is one note, not one per
file in it), the run's own output folder, anything that is not a regular file (a FIFO
would block the run, a socket or device cannot be a payload), and files that are plainly
not payloads: images and archives, by their name (``.png``, ``.zip``, ...) or by their
first bytes (an image saved without an extension). Compressed files (``.jsonl.gz``) are
payloads: they are read decompressed.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..errors import ImgcallWarning, InvalidInputError
from . import Member

__all__ = ["expand_folder", "note", "skipped"]

_IMAGES = frozenset(
    (
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".svg",
        ".avif",
        ".heic",
        ".heif",
        ".bmp",
        ".tif",
        ".tiff",
        ".ico",
        ".jxl",
    )
)
_ARCHIVES = frozenset((".zip", ".tar", ".tgz", ".7z", ".rar", ".jar", ".whl", ".iso", ".dmg"))
_MANIFEST = "imgcall-manifest.jsonl"


def expand_folder(folder: Path, exclude: Path | None = None) -> Iterator[Member]:
    """Every file of ``folder`` to read, in sorted order (by path, as ``sorted`` sorts)."""
    found: list[tuple[tuple[str, ...], Path]] = []
    skip = exclude.resolve() if exclude is not None else None
    pending: list[tuple[Path, tuple[str, ...]]] = [(folder, ())]  # and its parts below
    while pending:
        current, parts = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError as exc:
            raise InvalidInputError(
                f"cannot list {current}: {exc.strerror or exc}", location=str(current)
            ) from exc
        for entry in entries:
            path = Path(entry.path)
            key = (*parts, entry.name)
            if entry.name.startswith("."):
                note(path, "a hidden " + ("folder" if entry.is_dir() else "file"))
                continue
            if entry.is_dir(follow_symlinks=False):
                if skip is not None and path.resolve() == skip:
                    note(path, "the run's own output folder")
                else:
                    pending.append((path, key))
                continue
            found.append((key, path))
    for _, path in sorted(found):
        if not skipped(path.name, str(path), path):
            yield Member(str(path), str(path))


def skipped(name: str, display: str, local: Path | None = None) -> bool:
    """True (and one note) for a file of a folder or glob that is plainly not a payload."""
    if name.startswith("."):
        note(display, "a hidden file")
        return True
    lower = name.lower()
    suffix = os.path.splitext(lower)[1]
    if suffix in _IMAGES or lower.endswith((".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")):
        note(display, "an image" if suffix in _IMAGES else "an archive")
        return True
    if suffix in _ARCHIVES:
        note(display, "an archive")
        return True
    if local is None:
        return False
    if name == _MANIFEST:
        note(display, "an imgcall manifest")
        return True
    try:
        info = local.stat()
        if not stat.S_ISREG(info.st_mode):
            note(display, "not a regular file")
            return True
        with open(local, "rb") as file:
            head = file.read(64)
    except OSError:
        return False  # reading it reports the error, as for any other input
    from ..formats import sniff

    if head[:4] == b"PK\x03\x04":
        note(display, "an archive (zip)")
        return True
    kind = sniff(head)
    if kind is not None and kind != "SVG":
        note(display, f"an image ({kind})")
        return True
    return False


def note(where: object, what: str) -> None:
    """Say that ``where`` was skipped, and why (an `ImgcallWarning`)."""
    warnings.warn(f"{where}: skipped, {what}", ImgcallWarning, stacklevel=3)

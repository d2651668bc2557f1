"""Sidecars: a ``NAME.json`` beside each saved image, holding its manifest record.

For tools that look only at a folder of files: ``ig_1.png`` gets ``ig_1.json`` with the
same fields as its ``imgcall-manifest.jsonl`` line (id, prompt, ``custom_id``, sha256,
size, ``c2pa``, ...). The facts stay outside the image, so a signed (C2PA) file is never
touched.

A sidecar is imgcall's own file, so a re-run replaces it; anything else under that name
is left alone and reported as a warning on the record, never overwritten or followed:
the user's own ``ig_1.json`` (say, the very payload being read), a symlink, a FIFO, a
folder. Two images of one run that share a name up to the extension (``x.png``,
``x.jpg``) get ``x.json`` and ``x.jpg.json``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import stat
from pathlib import Path

from .records import ItemRecord
from .writing import describe_os_error, temp_path

__all__ = ["SIDECAR_SUFFIX", "Sidecars", "is_sidecar"]

SIDECAR_SUFFIX = ".json"
# An imgcall sidecar is one short JSON object; anything longer is someone else's file.
_MAX_SIDECAR_BYTES = 1 << 20
# The keys that make a JSON object one of imgcall's records.
_RECORD_KEYS = frozenset({"id", "status", "outcome", "path", "sha256", "bytes"})


def is_sidecar(path: Path) -> bool:
    """True when ``path`` is a regular file holding an imgcall manifest record.

    Read without following a symlink and only up to 1 MiB, so a hostile name costs
    nothing.
    """
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_SIDECAR_BYTES:
            return False
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            value = json.loads(fh.read(_MAX_SIDECAR_BYTES + 1))
    except (OSError, ValueError):
        return False
    return isinstance(value, dict) and value.keys() >= _RECORD_KEYS


class Sidecars:
    """The sidecars of one run: the names claimed so far, and how each is written."""

    def __init__(self) -> None:
        self._claimed: set[str] = set()

    def write(self, record: ItemRecord) -> ItemRecord:
        """Write the sidecar of a saved (or present) image; return the record to report.

        The record comes back unchanged, or with a warning saying why no sidecar was
        written (the sidecar is then missing, the image is still saved).
        """
        if not isinstance(record.path, Path) or record.outcome not in (
            "saved",
            "overwritten",
            "exists",
        ):
            return record  # nothing saved (or saved in object storage: no sidecars there)
        path = self._name(record.path)
        try:
            problem = _write(path, (record.to_json() + "\n").encode("utf-8"))
        except OSError as exc:
            problem = f"cannot write it: {describe_os_error(exc)}"
        if problem is None:
            return record
        note = f"sidecar {path.name} not written: {problem}"
        return dataclasses.replace(record, warnings=(*record.warnings, note))

    def _name(self, image: Path) -> Path:
        for candidate in (image.with_suffix(SIDECAR_SUFFIX), image.with_name(image.name + ".json")):
            key = candidate.name.casefold()
            if key not in self._claimed:
                self._claimed.add(key)
                return candidate
        return image.with_name(image.name + ".json")  # the same image twice: same file


def _write(path: Path, data: bytes) -> str | None:
    """Put ``data`` at ``path`` atomically; the reason when something else is there."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            return "something that is not a regular file is there"
        if not is_sidecar(path):
            return "a file that is not an imgcall sidecar is there"
        with open(path, "rb") as fh:
            if fh.read(len(data) + 1) == data:
                return None  # a re-run: already up to date
    tmp = temp_path(path.parent)
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return None

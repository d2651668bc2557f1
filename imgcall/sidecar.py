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

In an output folder in object storage (`imgcall.objectstore`) a sidecar is an object
beside its image, checked the same way (looked up, and read only when it is at most
1 MiB) and put whole with one PUT.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import OutputError
from .records import ItemRecord
from .tempfiles import temp_path
from .writing import describe_os_error

if TYPE_CHECKING:
    from .objectstore import RemoteFolder

__all__ = ["SIDECAR_SUFFIX", "Sidecars", "is_sidecar"]

SIDECAR_SUFFIX = ".json"
# An imgcall sidecar is one short JSON object; anything longer is someone else's file.
_MAX_SIDECAR_BYTES = 1 << 20
# Not through a symlink, and never waiting on a FIFO.
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)
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
        fd = os.open(path, _READ_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return False  # swapped for a FIFO after the check: never read
            value = json.loads(fh.read(_MAX_SIDECAR_BYTES + 1))
    except (OSError, ValueError):
        return False
    return _is_record(value)


def _is_record(value: object) -> bool:
    return isinstance(value, dict) and value.keys() >= _RECORD_KEYS


class Sidecars:
    """The sidecars of one run: the names claimed so far, and how each is written.

    ``remote`` is the run's output folder in object storage, if that is where it is.
    """

    def __init__(self, remote: RemoteFolder | None = None) -> None:
        self._claimed: set[str] = set()
        self._done: set[str] = set()  # images given a sidecar in this run
        self._remote = remote

    def write(self, record: ItemRecord) -> ItemRecord:
        """Write the sidecar of a saved (or present) image; return the record to report.

        The record comes back unchanged, or with a warning saying why no sidecar was
        written (the sidecar is then missing, the image is still saved).
        """
        if record.path is None or record.outcome not in ("saved", "overwritten", "exists"):
            return record  # nothing saved
        if record.path.name.casefold() in self._done:
            return record  # a second item with the same bytes: the first one's sidecar stays
        self._done.add(record.path.name.casefold())
        name = self._name(record.path.name)
        data = (record.to_json() + "\n").encode("utf-8")
        if isinstance(record.path, Path):
            try:
                problem = _write(record.path.with_name(name), data)
            except OSError as exc:
                problem = f"cannot write it: {describe_os_error(exc)}"
        elif self._remote is not None:
            try:
                problem = _put(self._remote, name, data)
            except OutputError as exc:
                problem = f"cannot write it: {exc.reason}"
        else:
            return record  # an object path without its folder: not one of this run's
        if problem is None:
            return record
        note = f"sidecar {name} not written: {problem}"
        return dataclasses.replace(record, warnings=(*record.warnings, note))

    def _name(self, image: str) -> str:
        plain = PurePosixPath(image).with_suffix(SIDECAR_SUFFIX).name
        name = plain if plain.casefold() not in self._claimed else image + SIDECAR_SUFFIX
        self._claimed.add(name.casefold())
        return name


def _put(remote: RemoteFolder, name: str, data: bytes) -> str | None:
    """`_write` for an object: the reason when something else has the name."""
    info = remote.info(name)
    if info is not None:
        if info.get("type") == "directory":
            return "something that is not an object is there (a folder)"
        if int(info.get("size") or 0) > _MAX_SIDECAR_BYTES:
            return "an object that is not an imgcall sidecar is there"
        there = remote.read(name)
        if there == data:
            return None  # a re-run: already up to date
        try:
            ours = _is_record(json.loads(there))
        except ValueError:
            ours = False
        if not ours:
            return "an object that is not an imgcall sidecar is there"
    remote.put(name, data)
    return None


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

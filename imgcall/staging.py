"""Decoding straight into the output folder: an image's base64 to a temporary file.

Saving through memory costs a fresh buffer for every image (3 MB for a 1024x1024 PNG),
and on the virtual machines this project runs on, fresh memory is what a save costs
most: a run that decoded whole images spent more time faulting in new pages than
decoding (bench/README.md, change 15). A `Stager` instead decodes a `LazyText` result
(base64, bare or in a ``data:`` URL, still in the input buffer, see `imgcall.jsonparse`)
a slice at a time into a temporary file in the output folder, reusing one small
buffer, and maps the file for reading: the format checks and the hash read the page
cache, and `imgcall.writing` links the finished file to its final name, so the bytes
are never written twice.

Anything that is not plain base64 (escapes, whitespace, padding inside, the URL-safe
alphabet, a bad character) or a folder that cannot be written takes the in-memory way,
`decode_base64`, which also words every error exactly as without staging; so does a
result under `STAGE_FROM` characters, for which a file costs more than it saves. On
Linux the temporary file has no name at all (``O_TMPFILE``, see `imgcall.writing`) and
vanishes with the process; elsewhere it carries the pid, like every imgcall temporary
file, so a killed run's leftovers are cleared by the next run
(`imgcall.writing.remove_stale_temp_files`).
"""

from __future__ import annotations

import contextlib
import mmap
import os
from pathlib import Path
from typing import cast

from . import _accel
from .base64text import base64_view, decode_base64, refuse_oversize
from .lazytext import LazyText
from .tempfiles import ANONYMOUS_PREFIX, open_anonymous, temp_path

__all__ = ["CAN_STAGE", "STAGE_FROM", "StagedFile", "Stager", "worth_staging"]

# Hard links and renames of a mapped file are POSIX behaviour; elsewhere, decode in memory.
CAN_STAGE = os.name == "posix"
# Base64 characters per slice (a multiple of 4): 96 KiB decoded, under glibc's threshold
# for giving freed memory back at once, so one buffer is reused from slice to slice. With
# 1 MiB slices every image still took ~350 fresh pages; with these, none.
CHUNK = 128 * 1024
_PAD = ord("=")
STAGE_FROM = 64 * 1024
"""Results with fewer base64 characters than this are decoded in memory: a buffer of
under 48 KiB is reused by the allocator, and creating, mapping and unmapping a file
costs more than it saves (issue 15)."""


def worth_staging(result: object) -> bool:
    """True for a result still in the input buffer and large enough to stage."""
    return CAN_STAGE and isinstance(result, LazyText) and result.size >= STAGE_FROM


class StagedFile:
    """An image's bytes in a temporary file of the output folder, mapped read-only.

    ``data`` is the map (a bytes-like object) and stays valid until `release`, which
    unmaps it and removes the temporary name (the final name, if it was linked, stays).
    ``path`` is what `imgcall.writing.try_write` links into place: the temporary name,
    or, for an anonymous file (Linux ``O_TMPFILE``, which has no name until it is
    linked and vanishes with the process), ``/proc/self/fd/N`` of its descriptor
    ``fd``, held open until `release`.
    """

    __slots__ = ("data", "fd", "path")

    def __init__(self, path: Path, data: mmap.mmap, fd: int | None = None) -> None:
        self.path = path
        self.data = data
        self.fd = fd

    def release(self) -> None:
        """Unmap the bytes and remove the temporary file; safe to call twice."""
        self.data.close()
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)  # an anonymous file not linked is gone with it
            return
        if str(self.path).startswith(ANONYMOUS_PREFIX):
            return  # released before
        # Gone already if os.replace moved it into place or it was released before; if it
        # cannot be removed, the next run into the folder clears it (it carries our pid).
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class Stager:
    """Decodes one item's result into a temporary file in ``folder`` (see the module).

    Use `decode` as `decode_call`'s decoder; `staged` is then the file, or ``None`` if
    the result was decoded in memory. The caller owns the file: it must `release` it.
    """

    __slots__ = ("folder", "staged")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.staged: StagedFile | None = None

    def decode(self, text: str, max_bytes: int | None) -> tuple[bytes, str | None]:
        """``(data, declared MIME)`` as `decode_base64` gives, staged where possible."""
        if CAN_STAGE and isinstance(text, LazyText):
            payload, declared = base64_view(text)
            refuse_oversize(len(payload), max_bytes)
            staged = _stage(self.folder, payload)
            if staged is not None:
                self.staged = staged
                # A memory map reads like bytes for every check and for hashlib; it
                # never leaves the run (the caller releases it after writing).
                return cast(bytes, staged.data), declared
        return decode_base64(text, max_bytes=max_bytes)

    def release(self) -> None:
        """Release the staged file, if any."""
        if self.staged is not None:
            self.staged.release()
            self.staged = None


def _stage(folder: Path, raw: memoryview) -> StagedFile | None:
    """Decode plain base64 into a new temporary file; ``None`` if that is not possible."""
    try:
        try:
            fd, path = _create(folder)
        except FileNotFoundError:
            # The run's first image: make the folder it is about to be saved in.
            folder.mkdir(parents=True, exist_ok=True)
            fd, path = _create(folder)
    except OSError:
        return None  # the write, in memory, will report why the folder is unusable
    anonymous = path is None
    data: mmap.mmap | None = None
    try:
        if _decode_into(fd, raw):
            populate = getattr(mmap, "MAP_POPULATE", 0)
            data = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED | populate, prot=mmap.PROT_READ)
    except OSError:
        data = None  # a full disk, say: decoded in memory, the write then says why
    finally:
        if not anonymous or data is None:
            os.close(fd)  # an anonymous file stays open until it is linked
        if data is None and path is not None:  # also when interrupted
            with contextlib.suppress(OSError):  # a leftover is cleared by the next run
                os.unlink(path)
    if data is None:
        return None
    if path is None:
        return StagedFile(Path(f"{ANONYMOUS_PREFIX}{fd}"), data, fd)
    return StagedFile(path, data)


def _create(folder: Path) -> tuple[int, Path | None]:
    """A new file to decode into: anonymous where the system allows it, else named."""
    fd = open_anonymous(folder, os.O_RDWR)
    if fd is not None:
        return fd, None
    path = temp_path(folder)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), path


def _decode_into(fd: int, raw: memoryview) -> bool:
    """Decode ``raw`` slice by slice into ``fd``; False if it is not plain base64."""
    total = len(raw)
    if total == 0 or total % 4:
        return False  # missing padding: the careful path
    for start in range(0, total, CHUNK):
        end = min(start + CHUNK, total)
        if end < total and raw[end - 1] == _PAD:
            return False  # padding before the end: the careful path says where
        try:
            piece = _accel.b64decode(raw[start:end])
        except ValueError:  # binascii.Error
            return False
        _write_all(fd, piece)
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]

"""Compressed input, recognised by its magic bytes and decompressed as it is read.

gzip (through zlib-ng, several times faster than the standard library's zlib, and
multi-member files such as ``cat a.gz b.gz`` included), bzip2 and xz (the standard
library) and zstd (``compression.zstd`` from Python 3.14, or the ``backports.zstd``
package: ``pip install 'imgcall[zstd]'``). Only a window of the data is held at a time,
whatever its size. A file name never decides: ``out.jsonl`` holding gzip data is read as
gzip, and ``out.jsonl.gz`` holding plain JSON as plain JSON.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, cast

from ..errors import InvalidInputError
from . import CHUNK_SIZE, ByteSource

__all__ = ["MAGIC", "decompressing", "sniff"]

MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
"""The first bytes of each compressed format (RFC 1952, bzip2, xz, RFC 8878)."""
_LONGEST = max(len(magic) for magic, _ in MAGIC)


def sniff(head: bytes) -> str | None:
    """The compression whose magic bytes ``head`` starts with, or ``None``."""
    return next((kind for magic, kind in MAGIC if head.startswith(magic)), None)


def decompressing(opened: ByteSource, label: str) -> ByteSource:
    """``opened`` itself, or a source of its decompressed bytes if it is compressed."""
    first = b""
    while len(first) < _LONGEST:
        chunk = _read(opened, label)
        if not chunk:
            break
        first += chunk
    kind = sniff(first)
    if kind is None:
        return ByteSource(
            read=_chained(first, lambda: _read(opened, label)),
            close=opened.close,
            file=opened.file,
        )
    raw = _ReadFile(_chained(first, lambda: _read(opened, label)))
    try:
        stream = _open(kind, raw, label)
    except BaseException:
        opened.close()
        raise

    def read() -> bytes:
        try:
            data: bytes = stream.read(CHUNK_SIZE)
            return data
        except InvalidInputError:
            raise
        except Exception as exc:  # each library's own error (EOFError, LZMAError, ...)
            raise InvalidInputError(
                f"the {kind} data is damaged or cut off: {exc}", location=label
            ) from exc

    def close() -> None:
        try:
            stream.close()
        finally:
            opened.close()

    return ByteSource(read=read, close=close, compression=kind)


def _read(opened: ByteSource, label: str) -> bytes:
    try:
        return opened.read()
    except (OSError, ValueError, TypeError) as exc:  # TypeError: read() gave no bytes
        raise InvalidInputError(f"cannot read the input: {exc}", location=label) from exc


def _open(kind: str, raw: io.RawIOBase, label: str) -> Any:
    if kind == "gzip":
        from zlib_ng import gzip_ng

        return gzip_ng.GzipNGFile(fileobj=raw, mode="rb")  # type: ignore[no-untyped-call]
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File(cast(IO[bytes], raw))
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(cast(IO[bytes], raw))
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found,import-untyped,no-redef,unused-ignore]
        except ImportError as exc:
            raise InvalidInputError(
                "the input is zstd-compressed; reading it needs Python 3.14 or the "
                "backports.zstd package: pip install 'imgcall[zstd]'",
                location=label,
            ) from exc
    return zstd.ZstdFile(raw)


def _chained(first: bytes, read: Callable[[], bytes]) -> Callable[[], bytes]:
    pending = [first] if first else []
    return lambda: pending.pop() if pending else read()


class _ReadFile(io.RawIOBase):
    """A read-only file over a ``read()`` function, for the decompressors."""

    def __init__(self, read: Callable[[], bytes]) -> None:
        super().__init__()
        self._read = read
        self._chunk = memoryview(b"")
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._at >= len(self._chunk):
            self._chunk, self._at = memoryview(self._read()), 0
        size = min(len(buffer), len(self._chunk) - self._at)
        buffer[:size] = self._chunk[self._at : self._at + size]
        self._at += size
        return size

"""Where input comes from: one module per kind of source, registered here in one place.

Each member opens one kind of source as a `ByteSource`, a ``read()`` of raw bytes that
`imgcall.framing` turns into records, or expands a source that stands for several inputs
into their names (`expand`):

- `imgcall.sources.local`: a path to a local file (large plain files keep the memory-map
  fast path of `imgcall.mapped`);
- `imgcall.sources.stream`: a binary or text file object (standard input, a socket's
  file), and JSON text or bytes already in memory;
- `imgcall.sources.compressed`: gzip, bzip2, xz and zstd data, recognised by its magic
  bytes whatever the source, and decompressed as it is read, in bounded memory;
- `imgcall.sources.folder`: a local folder, expanded into the files in it;
- `imgcall.sources.remote`: a URL that fsspec opens (``s3://``, ``gs://``, ``memory://``,
  ...), globs included, streamed and never downloaded whole; ``http(s)://`` is refused.

`open_bytes` and `expand` pick the member for a source; nothing else needs to know which
members exist.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .._slotted import Frozen, Slotted

__all__ = ["CHUNK_SIZE", "ByteSource", "Member", "expand", "is_url", "open_bytes"]

CHUNK_SIZE = 1 << 20
"""Bytes read at a time; large reads keep multi-MB lines cheap."""


class ByteSource(Slotted):
    """An opened input: its bytes, a ``read()`` at a time, and how to close it.

    ``read`` returns the next bytes (at most about `CHUNK_SIZE`), ``b""`` at the end;
    ``file`` is the open local file when it is plain (not compressed), which may be
    memory-mapped; ``compression`` is ``"gzip"``, ``"bzip2"``, ``"xz"`` or ``"zstd"``
    when the bytes were decompressed.
    """

    __slots__ = ("close", "compression", "file", "read")
    __match_args__ = ("read", "close", "file", "compression")

    def __init__(
        self,
        read: Callable[[], bytes],
        close: Callable[[], None],
        file: Any = None,
        compression: str | None = None,
    ) -> None:
        self.read = read
        self.close = close
        self.file = file
        self.compression = compression


class Member(Frozen):
    """One input of several that a source stands for (a file of a folder, a glob's match):
    ``source`` is what to open (a local path or a URL), ``name`` the name to report it
    under (its path or URL)."""

    __slots__ = ("name", "source")
    __match_args__ = ("source", "name")

    def __init__(self, source: object, name: str) -> None:
        self.source = source
        self.name = name


def is_url(text: str) -> bool:
    """True for ``scheme://...`` (``s3://``, ``https://``, ``file://``): not a local path."""
    from .remote import URL

    return URL.match(text) is not None


def open_bytes(
    source: object,
    label: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    content: bool = False,
) -> ByteSource:
    """Open a path, URL or file object, or (``content=True``) ``bytes``/``str`` of data.

    Raises:
        InvalidInputError: it cannot be opened (missing, not allowed, an http URL, ...).
    """
    from . import compressed, local, remote, stream

    if content:
        assert isinstance(source, (bytes, bytearray, memoryview, str))
        opened = stream.open_data(source)
    elif isinstance(source, str) and is_url(source):
        opened = remote.open_url(source, label, storage_options)
    elif isinstance(source, (str, os.PathLike)):
        opened = local.open_path(Path(source), label)
    else:
        opened = stream.open_file(source, label)
    return compressed.decompressing(opened, label)


def expand(
    source: object,
    storage_options: Mapping[str, Any] | None = None,
    exclude: Path | None = None,
) -> Iterator[Member] | None:
    """The inputs a folder or a glob stands for, in sorted order; ``None`` for one input.

    ``exclude`` is a folder to leave out (a run's own output folder). Files skipped as
    plainly not payloads (images, archives) are each named in an `ImgcallWarning`.
    """
    from . import folder, remote

    if isinstance(source, str) and is_url(source):
        return remote.expand_url(source, storage_options, exclude)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return folder.expand_folder(path, exclude)
    return None

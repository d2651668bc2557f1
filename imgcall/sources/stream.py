"""File objects and data in memory as byte sources.

A binary file object is read with ``read1`` where it has one, which returns whatever is
available, so a live pipe is not held back a chunk at a time; a text one a line at a time
(its ``read(n)`` would wait for ``n`` characters). Neither is closed: the caller owns it.
"""

from __future__ import annotations

from typing import Any

from ..linereader import from_bytes, from_file
from . import CHUNK_SIZE, ByteSource

__all__ = ["open_data", "open_file"]


def open_file(file: Any, label: str) -> ByteSource:
    """A byte source over a binary or text file object (left open)."""
    return ByteSource(read=from_file(file, CHUNK_SIZE), close=_nothing, file=None)


def open_data(data: bytes | bytearray | memoryview | str) -> ByteSource:
    """A byte source over JSON, JSON Lines or SSE text (or compressed bytes) in memory."""
    # A lone surrogate character (from a bad decode) cannot be UTF-8: kept as the bytes
    # Python would write for it, the parser replaces it by U+FFFD, with a warning.
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    return ByteSource(read=from_bytes(raw), close=_nothing)


def _nothing() -> None:
    return None

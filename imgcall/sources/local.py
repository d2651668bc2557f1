"""A path to a local file as a byte source.

The file is opened unbuffered and read a chunk at a time; `imgcall.framing` may also map a
large plain one (`ByteSource.file`) and parse it where it lies (`imgcall.mapped`).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInputError
from . import CHUNK_SIZE, ByteSource

__all__ = ["open_path"]


def open_path(path: Path, label: str) -> ByteSource:
    """Open ``path`` for reading; `InvalidInputError` if it cannot be."""
    try:
        file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by ByteSource.close
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {path}: {exc.strerror or exc}", location=label
        ) from exc
    except ValueError as exc:  # a NUL, or a character the file system cannot encode
        raise InvalidInputError(
            f"cannot read {label!r}: not a possible file name ({exc})", location=label
        ) from exc
    return ByteSource(read=lambda: file.read(CHUNK_SIZE), close=file.close, file=file)

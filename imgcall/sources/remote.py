"""URLs: object storage and other file systems through fsspec; http(s) refused.

``s3://``, ``gs://``, ``az://``, ``hf://``, ``memory://``, ``file://`` and any other
protocol fsspec knows (``pip install 'imgcall[remote]'``, plus the file system's own
package: s3fs, gcsfs, adlfs, ...). They are configured the fsspec way (its config files
and ``FSSPEC_<PROTOCOL>_<OPTION>`` environment variables) plus ``storage_options``. An
object is streamed a block at a time, never downloaded whole; a URL with a glob
(``s3://bucket/out/*.jsonl.gz``) or one naming a folder stands for every object it
matches, in sorted order. imgcall never downloads over ``http(s)://``: such a URL is
refused with a message, so a result URL or a mistyped input never makes a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .._lazyre import lazy_pattern
from ..errors import InvalidInputError
from . import CHUNK_SIZE, ByteSource, Member

__all__ = ["BLOCK_SIZE", "URL", "expand_url", "open_url"]

URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
BLOCK_SIZE = 8 * CHUNK_SIZE
"""Bytes fsspec fetches per request while streaming an object (unless configured)."""
_glob = lazy_pattern(r"[*?\[]")


def _refuse_http(url: str, label: str) -> None:
    match = URL.match(url)
    if match is not None and match.group(1).lower() in ("http", "https"):
        raise InvalidInputError(
            f"{url} is an http(s) URL: imgcall never downloads over http(s); download "
            "it first (for example with curl -O) and pass the file, or pipe it in",
            location=label,
        )


def _filesystem(url: str, label: str, options: Mapping[str, Any] | None) -> tuple[Any, str]:
    _refuse_http(url, label)
    try:
        import fsspec.core
    except ImportError as exc:
        raise InvalidInputError(
            f"reading {url} needs fsspec: pip install 'imgcall[remote]' (and the file "
            "system's package, such as s3fs for s3://)",
            location=label,
        ) from exc
    try:
        found: tuple[Any, str] = fsspec.core.url_to_fs(url, **dict(options or {}))
        return found
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its package missing
        raise InvalidInputError(f"cannot open {url}: {exc}", location=label) from exc


def _forget(fs: Any, path: str) -> None:
    # fsspec keeps file systems and their listings for the life of the process: a
    # notebook that reads a batch folder again after it changed would otherwise open
    # an object by a stale size and ETag (S3 answers 412).
    invalidate = getattr(fs, "invalidate_cache", None)
    if callable(invalidate):
        invalidate(path)


def open_url(url: str, label: str, options: Mapping[str, Any] | None = None) -> ByteSource:
    """Open one object for streaming; `InvalidInputError` if it cannot be."""
    fs, path = _filesystem(url, label, options)
    if _is_local(fs):
        from .local import open_path

        return open_path(Path(path), label)  # a local file: the memory-map path applies
    try:
        _forget(fs, path)
        file = fs.open(path, "rb", block_size=BLOCK_SIZE)
    except Exception as exc:  # each file system's own errors (FileNotFoundError, botocore)
        raise InvalidInputError(f"cannot read {url}: {_reason(exc)}", location=label) from exc

    def read() -> bytes:
        try:
            data: bytes = file.read(CHUNK_SIZE)
        except Exception as exc:  # a dropped connection, expired credentials, ...
            raise InvalidInputError(f"cannot read {url}: {_reason(exc)}", location=label) from exc
        return data

    return ByteSource(read=read, close=file.close)


def expand_url(
    url: str, options: Mapping[str, Any] | None = None, exclude: Path | None = None
) -> Iterator[Member] | None:
    """The objects a glob or a folder URL stands for; ``None`` for one object."""
    fs, path = _filesystem(url, url, options)
    protocol = URL.match(url)
    assert protocol is not None
    prefix = protocol.group(0)
    rooted = url[len(prefix) :].startswith("/")
    try:
        match = _glob().search(path)
        _forget(fs, path[: match.start()].rsplit("/", 1)[0] if match else path)
        if _glob().search(path):
            root = path[: _glob().search(path).start()].rsplit("/", 1)[0] + "/"  # type: ignore[union-attr]
            paths = sorted(p for p in fs.glob(path) if not fs.isdir(p))
        elif path.endswith("/") or fs.isdir(path):
            root = path.rstrip("/") + "/"
            paths = sorted(fs.find(path))
        else:
            return None
    except Exception as exc:  # each file system's own errors
        raise InvalidInputError(f"cannot list {url}: {_reason(exc)}", location=url) from exc
    from .folder import note, skipped

    def members() -> Iterator[Member]:
        noted: set[str] = set()
        for found_path in paths:
            # Named as the user wrote the URL: memory://x/y, not memory:///x/y.
            name = prefix + (found_path if rooted else found_path.lstrip("/"))
            if _is_local(fs) and exclude is not None and _under(Path(found_path), exclude):
                continue
            below = found_path[len(root) :] if found_path.startswith(root) else found_path
            hidden = next((p for p in below.split("/")[:-1] if p.startswith(".")), None)
            if hidden is not None:
                folder_name = name[: name.index("/" + hidden + "/") + len(hidden) + 1]
                if folder_name not in noted:
                    noted.add(folder_name)
                    note(folder_name, "a hidden folder")
                continue
            if skipped(found_path.rsplit("/", 1)[-1], name):
                continue
            yield Member(name, name)

    return members()


def _is_local(fs: Any) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "..."

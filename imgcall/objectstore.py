"""An output folder in object storage: ``out_dir="s3://bucket/images/"`` (SPEC §6).

Any URL that fsspec can write (``pip install 'imgcall[remote]'`` plus the file
system's package: s3fs, gcsfs, adlfs, ...), configured the fsspec way (its config
files, ``FSSPEC_<PROTOCOL>_<OPTION>`` variables) plus ``storage_options``. What holds
and what changes against a local folder:

- each image is one object, written whole with one PUT (``pipe_file``): a store's PUT
  is atomic per object, so no reader ever sees half an image and there is no
  temporary name to rename (object stores have no atomic rename, and none is needed);
- several images are written at once (`imgcall.putahead`: up to 16 in flight, names
  still decided in input order, so the records are those of writes one at a time;
  ``on_conflict="rename"`` writes one at a time);
- the conflict policy holds: before writing, the name is looked up (one HEAD); the
  same bytes there count as ``exists``, compared by size and then by hash, from the
  store's own MD5 (an S3 ETag of a single-part upload, a GCS ``md5Hash``) where it has
  one, downloading the object only where it has none;
- ``imgcall-manifest.jsonl`` is one object, written at the end of the run (and when a
  run is interrupted): objects cannot be appended to. The shard records
  (`imgcall.shardlog`) are objects under ``.imgcall-shards/``, each written when its
  shard is done, so a killed run resumes from them;
- there is no lock: object stores cannot hold one, so two runs into one prefix at once
  are not stopped (each object is still whole; the manifest is the last run's);
- each object gets the content type its extension says where the store keeps one (S3,
  GCS: `content_options`), so a bucket served as a website shows images and the
  gallery page (`imgcall.htmlpage`, thumbnails under ``.imgcall-thumbs/``) instead of
  offering them as downloads; sidecars (`imgcall.sidecar`) are objects beside the
  images.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._lazyre import lazy_pattern
from .errors import OutputError, OutputExistsError

if TYPE_CHECKING:
    from tempfile import SpooledTemporaryFile

    from .records import ItemRecord
    from .writing import Written

__all__ = ["ObjectPath", "RemoteFolder", "RemoteManifest", "RemoteStore", "is_output_url"]

_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_md5 = lazy_pattern(r"[0-9a-f]{32}")


_MAX_NAME_BYTES = 255


_CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/jsonl",
}


def content_options(fs: Any, file_name: str) -> dict[str, Any]:
    """The keyword that gives an object its content type on this store, if it has one.

    fsspec has no common way to say it: s3fs passes ``ContentType`` to ``PutObject``,
    gcsfs takes ``content_type``; other stores keep their own default.
    """
    mime = _CONTENT_TYPES.get(file_name.rsplit(".", 1)[-1].lower()) if "." in file_name else None
    if mime is None:
        return {}
    protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
    if "s3" in protocols:
        return {"ContentType": mime}
    if "gs" in protocols or "gcs" in protocols:
        return {"content_type": mime}
    return {}


def is_output_url(out_dir: object) -> bool:
    """True for an output folder given as a URL other than ``file://`` (object storage)."""
    if isinstance(out_dir, ObjectPath):
        return True
    if not isinstance(out_dir, str):
        return False
    match = _URL.match(out_dir)
    return match is not None and match.group(1).lower() != "file"


class ObjectPath:
    """Where an image is in object storage: its URL (``str()``) and its ``name``.

    What `ItemRecord.path` holds for an output folder in object storage, in the place of
    a `pathlib.Path`.
    """

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def name(self) -> str:
        """The last part of the URL (the file name)."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def __truediv__(self, name: str) -> ObjectPath:
        return ObjectPath(self.url.rstrip("/") + "/" + name)

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"ObjectPath({self.url!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "..."


class RemoteFolder:
    """An output folder in object storage (see the module); `OutputError` on failures."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        try:
            import fsspec.core
        except ImportError as exc:
            raise OutputError(
                f"writing to {url} needs fsspec: pip install 'imgcall[remote]' (and the "
                "file system's package, such as s3fs for s3://)"
            ) from exc
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        except (ImportError, ValueError, TypeError) as exc:
            raise OutputError(f"cannot write to {url}: {_reason(exc)}") from exc
        self.root = root.rstrip("/")
        self.url = url.rstrip("/")
        self.where = ObjectPath(self.url)

    def path(self, file_name: str) -> ObjectPath:
        """The object for ``file_name``, after checking it is one plain name."""
        if (
            file_name in ("", ".", "..")
            or "/" in file_name
            or "\\" in file_name
            or "\x00" in file_name
            or len(file_name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES
        ):
            raise OutputError(f"refusing to write {file_name!r}: not a plain name in {self.url}")
        return self.where / file_name

    def key(self, file_name: str) -> str:
        """The file system's path of ``file_name`` (bucket and key)."""
        return f"{self.root}/{file_name}"

    def probe(self) -> None:
        """`OutputError` unless an object can be written here (and removed again)."""
        import secrets  # here, not at import: `is_output_url` is on every run's start-up

        name = f".imgcall-probe-{secrets.token_hex(6)}"
        try:
            self.fs.pipe_file(self.key(name), b"")
            self.fs.rm_file(self.key(name))
        except Exception as exc:  # each store's own errors (botocore, aiohttp, ...)
            raise OutputError(
                f"cannot write in the output folder {self.url}: {_reason(exc)}"
            ) from exc

    def info(self, file_name: str) -> dict[str, Any] | None:
        """The store's facts of an object (size, ETag, type), ``None`` if there is none."""
        return self._info(file_name)

    def read(self, file_name: str) -> bytes:
        """An object's bytes; `OutputError` if it cannot be read."""
        try:
            data: bytes = self.fs.cat_file(self.key(file_name))
        except Exception as exc:
            raise OutputError(f"cannot read {self.where / file_name}: {_reason(exc)}") from exc
        return data

    def _info(self, file_name: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self.fs.info(self.key(file_name))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise OutputError(f"cannot look up {self.where / file_name}: {_reason(exc)}") from exc
        return info

    def try_write(self, file_name: str, data: bytes, on_conflict: str) -> Written | None:
        """Put ``data`` under the policy; `imgcall.writing.try_write` for objects."""
        info = self._info(file_name)
        if info is not None and info.get("type") == "directory":
            if on_conflict == "skip":
                return "skipped"
            if on_conflict == "rename":
                return None
            raise OutputExistsError(f"{self.where / file_name} already exists and is a folder")
        if info is None:
            self._put(file_name, data)
            return "saved"
        if self._same(file_name, info, data):
            return "exists"
        if on_conflict == "overwrite":
            self._put(file_name, data)
            return "overwritten"
        if on_conflict == "skip":
            return "skipped"
        if on_conflict == "error":
            raise OutputExistsError(
                f"{self.where / file_name} already exists with different content; choose "
                "what to do with on_conflict 'rename', 'skip' or 'overwrite' (--on-conflict "
                "on the command line)"
            )
        return None

    def _same(self, file_name: str, info: Mapping[str, Any], data: bytes) -> bool:
        """Same bytes: by size, then by the store's MD5 if it keeps one, else by reading."""
        if int(info.get("size") or 0) != len(data):
            return False
        digest = _md5_of(info)
        if digest is not None:
            import hashlib  # OpenSSL's libcrypto: ~3 ms to load, not at every start

            return digest == hashlib.md5(data, usedforsecurity=False).hexdigest()
        return self.read(file_name) == bytes(data)

    def put(self, file_name: str, data: bytes) -> None:
        """Put one object whole (one PUT), with its content type; `OutputError` if not."""
        self._put(file_name, data)

    def _put(self, file_name: str, data: bytes) -> None:
        try:
            self.fs.pipe_file(
                self.key(file_name), bytes(data), **content_options(self.fs, file_name)
            )
        except Exception as exc:
            raise OutputError(f"cannot write {self.where / file_name}: {_reason(exc)}") from exc

    def put_text(self, file_name: str, text: str) -> None:
        """Put a small text object (a shard record)."""
        self._put(file_name, text.encode("utf-8"))

    def exists(self, file_name: str) -> bool:
        """True if something has that name."""
        return self._info(file_name) is not None


def _md5_of(info: Mapping[str, Any]) -> str | None:
    """The hex MD5 of an object's bytes if the store says it (not for multipart ETags)."""
    etag = info.get("ETag") or info.get("etag")
    if isinstance(etag, str):
        etag = etag.strip('"').lower()
        if _md5().fullmatch(etag):
            return etag
    md5 = info.get("md5Hash") or info.get("content_md5")
    if isinstance(md5, str):
        import base64  # only for GCS and Azure checksums: not at every start (~1 ms)

        try:
            return base64.b64decode(md5).hex()
        except ValueError:
            return None
    if isinstance(md5, (bytes, bytearray)):
        return bytes(md5).hex()
    return None


class RemoteManifest:
    """``imgcall-manifest.jsonl`` in object storage: kept here, put whole at `close`."""

    def __init__(self, folder: RemoteFolder, name: str) -> None:
        self.folder = folder
        self.name = name
        self.path = folder.path(name)
        self._lines: SpooledTemporaryFile[bytes] | None = None

    def write(self, record: ItemRecord) -> None:
        """Add ``record``'s line."""
        self.write_line(record.to_json())

    def write_line(self, text: str) -> None:
        """Add one line (written out at `close`)."""
        try:
            if self._lines is None:
                from tempfile import SpooledTemporaryFile

                self._lines = SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
            self._lines.write(text.encode("utf-8") + b"\n")
        except OSError as exc:
            raise OutputError(
                f"cannot keep the manifest lines: {exc.strerror or exc}", location=str(self.path)
            ) from exc

    def close(self) -> None:
        """Put the manifest (if any line was written); errors are ignored, as locally."""
        lines, self._lines = self._lines, None
        if lines is None:
            return
        with lines:
            lines.seek(0)
            try:
                with self.folder.fs.open(self.folder.key(self.name), "wb") as out:
                    while chunk := lines.read(1 << 20):
                        out.write(chunk)
            except Exception:
                pass


class RemoteStore:
    """Done records under ``.imgcall-shards/`` of an output folder in object storage."""

    def __init__(self, folder: RemoteFolder, subfolder: str) -> None:
        self.folder = folder
        self.sub = subfolder

    def keys(self) -> set[str]:
        """The keys of every record there."""
        try:
            names = self.folder.fs.ls(self.folder.key(self.sub), detail=False)
        except FileNotFoundError:
            return set()
        except Exception as exc:
            raise OutputError(
                f"cannot list {self.folder.where / self.sub}: {_reason(exc)}"
            ) from exc
        found = (os.path.basename(str(n).rstrip("/")) for n in names)
        return {n[: -len(".jsonl")] for n in found if n.endswith(".jsonl")}

    def read(self, key: str) -> list[str] | None:
        """The lines of one record, or ``None``."""
        try:
            data: bytes = self.folder.fs.cat_file(self.folder.key(f"{self.sub}/{key}.jsonl"))
            return data.decode("utf-8").splitlines()
        except Exception:  # unreadable: the shard is read again
            return None

    def write(self, key: str, text: str) -> None:
        """Put one record whole."""
        self.folder.put_text(f"{self.sub}/{key}.jsonl", text)

"""The folder a gallery page is made from: a local folder, or a prefix in object storage.

`imgcall.htmlpage` and `imgcall.thumbs` read a run's manifest and images, and write the
page and its thumbnails, only through a `PageFolder`, so ``imgcall gallery out/`` and
``imgcall gallery s3://bucket/out/`` are one code path. What each kind promises:

- `LocalFolder`: nothing at a name is opened unless it is a regular file, and never
  through a symlink (a planted link or FIFO is "not there"); files are written under a
  temporary name and renamed into place;
- `StoreFolder`: the prefix is listed once (one LIST per 1,000 objects, not a HEAD per
  image); each object is read whole only when it is within the size asked for, and
  written whole with one PUT (each PUT is atomic), with its content type where the store
  keeps one (S3, GCS), so that a bucket served as a website shows the page instead of
  offering it as a download.

Every failure is an `OSError` carrying the store's reason, as it would be for a disk.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from .tempfiles import temp_path

if TYPE_CHECKING:
    from .objectstore import ObjectPath

__all__ = ["LocalFolder", "PageFolder", "StoreFolder", "page_folder"]


class PageFolder(Protocol):
    """What the gallery needs of a folder; names are relative (``sub/name`` at most)."""

    title: str
    """The folder's own name: the page's heading by default."""

    def location(self, name: str) -> Path | ObjectPath:
        """Where ``name`` is, for messages and reports."""
        ...

    def open(self, name: str) -> IO[bytes]:
        """Open a file to stream it (`FileNotFoundError` if it is not there)."""
        ...

    def exists(self, name: str) -> bool:
        """True if anything at all has that name (a file, a folder, a link, ...)."""
        ...

    def size(self, name: str) -> int | None:
        """The size of a regular file, ``None`` if it is missing or anything else."""
        ...

    def read(self, name: str, max_bytes: int) -> bytes:
        """The bytes of a regular file of at most ``max_bytes`` (`OSError` otherwise)."""
        ...

    def head(self, name: str, nbytes: int) -> bytes:
        """The first ``nbytes`` of a regular file."""
        ...

    def write(self, name: str, data: bytes) -> None:
        """Put ``data`` at ``name`` whole: no reader ever sees part of it."""
        ...

    def remove(self, name: str) -> None:
        """Remove a file (nothing if it is gone)."""
        ...

    def subfolder(self, name: str) -> str | None:
        """Make a subfolder usable; why it is not (``None``: it is)."""
        ...

    def listing(self, name: str) -> list[str]:
        """The names of the regular files in a subfolder."""
        ...


def page_folder(
    folder: str | os.PathLike[str] | ObjectPath, storage_options: Mapping[str, Any] | None
) -> PageFolder:
    """The `PageFolder` for a local path or a URL in object storage."""
    from .objectstore import ObjectPath, is_output_url

    if is_output_url(folder):
        url = folder.url if isinstance(folder, ObjectPath) else str(folder)
        return StoreFolder(url, storage_options)
    text = os.fspath(folder) if not isinstance(folder, ObjectPath) else folder.url
    if isinstance(text, str) and text.startswith("file://"):
        text = text[7:]
    return LocalFolder(Path(text))


# Never through a symlink, and never waiting: opening a FIFO for reading blocks until a
# writer comes, so a FIFO planted after the size check is refused by fstat, not waited on.
_NOFOLLOW = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


class LocalFolder:
    """A folder on this machine (see the module)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.title = root.resolve().name or str(root)

    def location(self, name: str) -> Path:
        """The path of ``name``."""
        return self.root / name

    def open(self, name: str) -> IO[bytes]:
        """Open a file to stream it."""
        return open(self.root / name, "rb")  # the caller closes it

    def exists(self, name: str) -> bool:
        """Anything at the name, a dangling symlink included."""
        try:
            os.lstat(self.root / name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int | None:
        """A regular file's size (never through a symlink), else ``None``."""
        try:
            info = os.lstat(self.root / name)
        except OSError:
            return None
        return info.st_size if stat.S_ISREG(info.st_mode) else None

    def read(self, name: str, max_bytes: int) -> bytes:
        """A regular file's bytes, opened without following a symlink."""
        path = self.root / name
        with os.fdopen(os.open(path, _NOFOLLOW), "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{path.name} is not a regular file")
            if info.st_size > max_bytes:
                raise OSError(f"{path.name} is over {max_bytes:,} bytes")
            return fh.read(max_bytes + 1)

    def head(self, name: str, nbytes: int) -> bytes:
        """The first bytes of a regular file."""
        path = self.root / name
        with os.fdopen(os.open(path, _NOFOLLOW), "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise OSError(f"{path.name} is not a regular file")
            return fh.read(nbytes)

    def write(self, name: str, data: bytes) -> None:
        """Write under a temporary name beside it, then rename into place."""
        target = self.root / name
        tmp = temp_path(target.parent)
        try:
            with open(tmp, "xb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def remove(self, name: str) -> None:
        """Unlink a file."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root / name)

    def subfolder(self, name: str) -> str | None:
        """Make the subfolder if it is missing; never use a symlink or a file there."""
        path = self.root / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            try:
                path.mkdir()
            except OSError as exc:
                from .writing import describe_os_error

                return f"cannot be created: {describe_os_error(exc)}"
            return None
        except OSError as exc:
            from .writing import describe_os_error

            return f"cannot be read: {describe_os_error(exc)}"
        if not stat.S_ISDIR(info.st_mode):
            return "is not a folder (a symlink or a file is there)"
        return None

    def listing(self, name: str) -> list[str]:
        """The regular files in a subfolder (an unreadable one lists nothing)."""
        found: list[str] = []
        with contextlib.suppress(OSError), os.scandir(self.root / name) as entries:
            found = [e.name for e in entries if e.is_file(follow_symlinks=False)]
        return found


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "..."


class StoreFolder:
    """A prefix in object storage, through fsspec (see the module)."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None) -> None:
        from .objectstore import RemoteFolder

        self.store = RemoteFolder(url, storage_options)  # OutputError if it cannot be
        self.fs = self.store.fs
        self.title = self.store.where.name or url
        self._sizes: dict[str, int] | None = None

    def location(self, name: str) -> ObjectPath:
        """The URL of ``name``."""
        return self.store.where / name

    def _key(self, name: str) -> str:
        return self.store.key(name)

    def _list(self, key: str) -> dict[str, int]:
        """Name -> size of the objects right under ``key`` (one listing, no cache)."""
        # fsspec keeps listings for the life of the process: a gallery made after a run
        # in the same process must see the objects that run wrote.
        invalidate = getattr(self.fs, "invalidate_cache", None)
        if callable(invalidate):
            invalidate(key)
        try:
            entries = self.fs.ls(key, detail=True, refresh=True)
        except FileNotFoundError:
            return {}
        except Exception as exc:
            raise OSError(f"cannot list {self.store.url}: {_reason(exc)}") from exc
        sizes: dict[str, int] = {}
        for entry in entries:
            if entry.get("type") == "file":
                base = str(entry.get("name", "")).rstrip("/").rsplit("/", 1)[-1]
                sizes[base] = int(entry.get("size") or 0)
        return sizes

    def _sizes_here(self) -> dict[str, int]:
        if self._sizes is None:
            self._sizes = self._list(self.store.root)
        return self._sizes

    def open(self, name: str) -> IO[bytes]:
        """Open an object to stream it."""
        if name not in self._sizes_here():
            raise FileNotFoundError(name)
        try:
            fh: IO[bytes] = self.fs.open(self._key(name), "rb")
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise OSError(f"cannot read {self.location(name)}: {_reason(exc)}") from exc
        return fh

    def exists(self, name: str) -> bool:
        """An object of that name (a prefix of that name is not one)."""
        return self.size(name) is not None

    def size(self, name: str) -> int | None:
        """The object's size from the listing, ``None`` if there is none."""
        if "/" in name:
            sub, _, base = name.rpartition("/")
            return self._list(self._key(sub)).get(base)
        return self._sizes_here().get(name)

    def read(self, name: str, max_bytes: int) -> bytes:
        """The object's bytes; refused before any download when it is too large."""
        size = self.size(name)
        if size is None:
            raise FileNotFoundError(name)
        if size > max_bytes:
            raise OSError(f"{name} is over {max_bytes:,} bytes")
        return self._cat(name, None)

    def head(self, name: str, nbytes: int) -> bytes:
        """The object's first bytes (one ranged GET)."""
        return self._cat(name, nbytes)

    def _cat(self, name: str, end: int | None) -> bytes:
        try:
            data: bytes = self.fs.cat_file(self._key(name), start=0 if end else None, end=end)
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise OSError(f"cannot read {self.location(name)}: {_reason(exc)}") from exc
        return data

    def write(self, name: str, data: bytes) -> None:
        """One PUT, with the content type that its extension says."""
        from .objectstore import content_options

        try:
            self.fs.pipe_file(self._key(name), data, **content_options(self.fs, name))
        except Exception as exc:
            raise OSError(f"cannot write {self.location(name)}: {_reason(exc)}") from exc
        if "/" not in name and self._sizes is not None:
            self._sizes[name] = len(data)

    def remove(self, name: str) -> None:
        """Delete an object."""
        try:
            self.fs.rm_file(self._key(name))
        except FileNotFoundError:
            return
        except Exception as exc:
            raise OSError(f"cannot remove {self.location(name)}: {_reason(exc)}") from exc

    def subfolder(self, name: str) -> str | None:
        """Prefixes need no making; an object of that very name is not a folder."""
        if name in self._sizes_here():
            return "is not a folder (an object has its name)"
        return None

    def listing(self, name: str) -> list[str]:
        """The objects right under the subfolder's prefix."""
        return list(self._list(self._key(name)))

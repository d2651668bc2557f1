"""Writing one image file: atomic writes, conflict policies, conversion.

Every file is written complete before it gets its final name, so an interrupted write
never leaves a half-written image under a final name. On Linux a new file is written
without any name (``O_TMPFILE``) and linked into place (``linkat``): one metadata
operation per image, and a crash leaves nothing behind. Elsewhere, or where the file
system refuses that, it is written to a temporary name in the target folder and moved
into place (``os.link`` for the no-clobber policies, ``os.replace`` for ``overwrite``);
both kinds of temporary file, and the clearing of a dead run's leftovers, are
`imgcall.tempfiles`'. Whatever is at a final name and is not a regular file (a FIFO,
device, socket, folder or symlink) is never opened, read or followed: it is a conflict
like a file with different bytes, and ``overwrite`` replaces the name itself (never
writing through it; a folder is never replaced). `save_image` (behind
`DecodedImage.save`) writes one image; whole runs build on `try_write` in
`imgcall.saverun`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from ._warn import warn_caller
from .errors import ImgcallError, OutputError, OutputExistsError, UnsupportedImageError
from .formats import FORMATS
from .naming import IMAGE_SUFFIX, candidate_names, no_free_name, partial_stem, safe_stem
from .tempfiles import ANONYMOUS_PREFIX, link_anonymous, open_anonymous, temp_path

if TYPE_CHECKING:
    from .image import DecodedImage

__all__ = [
    "OnConflict",
    "SaveResult",
    "Written",
    "check_convert",
    "check_policy",
    "converted",
    "describe_os_error",
    "make_folder",
    "missing_folders",
    "probe_folder",
    "save_image",
    "svg_not_converted",
    "try_write",
    "write_file",
]

OnConflict = Literal["error", "skip", "rename", "overwrite"]
Written = Literal["saved", "exists", "skipped", "overwritten"]
_POLICIES = ("error", "skip", "rename", "overwrite")
_CONVERT = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}

_COMPARE_CHUNK = 1 << 20


class SaveResult(NamedTuple):
    """Where an image went and what happened.

    ``outcome`` is ``"saved"`` (a new file), ``"exists"`` (identical bytes were already
    there: done), ``"skipped"`` (different bytes there, ``on_conflict="skip"``) or
    ``"overwritten"``.
    """

    path: Path
    outcome: str


def save_image(
    image: DecodedImage,
    path_or_dir: str | os.PathLike[str],
    *,
    on_conflict: str = "error",
    convert: str | None = None,
) -> SaveResult:
    """Save one image to a file or into a folder; see `DecodedImage.save`."""
    data, fmt = converted(image, convert)
    if convert is not None and image.format == "SVG":
        warn_caller(f"item {image.id!r}: {svg_not_converted(convert)}")
    ext = FORMATS[fmt].extension
    target = Path(path_or_dir)
    raw = os.fspath(path_or_dir)
    if target.is_dir() or raw.endswith((os.sep, "/")):
        stem = partial_stem(safe_stem(image.id), image.partial_index)
        directory = target
    else:
        directory = target.parent
        stem = target.name
        if IMAGE_SUFFIX.search(target.name):
            stem = target.stem
    try:
        return write_file(directory, stem, ext, data, on_conflict=on_conflict)
    except ImgcallError as exc:
        exc.with_origin(id=image.id, location=image.location)
        raise


def converted(image: DecodedImage, convert: str | None) -> tuple[bytes, str]:
    """The bytes and format to write: the original, or re-encoded when asked."""
    if convert is None:
        return image.data, image.format
    fmt = check_convert(convert)
    if fmt == image.format:
        return image.data, image.format
    if image.format == "SVG":
        # Never rasterised: the SVG is kept as it is, and the caller warns
        # (svg_not_converted), so one SVG never fails a run that converts the rest.
        return image.data, image.format
    # Imported on use: Pillow (in decoding) is only needed to convert.
    from .decoding import encode_image

    picture = image.to_pil()
    try:
        return encode_image(picture, fmt), fmt
    except (OSError, ValueError, KeyError) as exc:
        raise UnsupportedImageError(
            f"cannot convert the {image.format} image to {fmt}: {exc}",
            id=image.id,
            location=image.location,
        ) from exc


def svg_not_converted(convert: str | None) -> str:
    """The warning for an SVG image kept as it is although ``convert`` was asked for."""
    target = _CONVERT.get(str(convert).lower(), str(convert))
    return f"an SVG image is never rasterised: saved as .svg, not converted to {target}"


def check_convert(convert: str) -> str:
    """The Pillow format name for a ``convert`` value; ``ValueError`` if unknown."""
    fmt = _CONVERT.get(convert.lower()) if isinstance(convert, str) else None
    if fmt is None:
        raise ValueError(f"convert must be one of png, jpeg, webp; got {convert!r}")
    return fmt


def check_policy(on_conflict: str) -> None:
    """Raise ``ValueError`` unless ``on_conflict`` is one of the `OnConflict` policies."""
    if on_conflict not in _POLICIES:
        raise ValueError(f"on_conflict must be one of {', '.join(_POLICIES)}; got {on_conflict!r}")


def write_file(
    directory: str | os.PathLike[str],
    stem: str,
    ext: str,
    data: bytes,
    *,
    on_conflict: str = "error",
) -> SaveResult:
    """Atomically write ``data`` to ``directory/stem.ext`` under a conflict policy."""
    check_policy(on_conflict)
    folder = Path(directory)
    make_folder(folder)
    for file_name in candidate_names(stem, ext):
        path = folder / file_name
        outcome = try_write(path, data, on_conflict)
        if outcome is not None:
            return SaveResult(path, outcome)
    raise no_free_name(stem, ext)


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if needed; `OutputError` if that fails."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {describe_os_error(exc)}") from exc


def missing_folders(folder: Path) -> list[Path]:
    """The folders that creating ``folder`` would create, deepest first."""
    missing: list[Path] = []
    current = folder
    while not os.path.lexists(current) and current.parent != current:
        missing.append(current)
        current = current.parent
    return missing


_PROBE_ATTEMPTS = 5


def probe_folder(folder: Path) -> None:
    """Raise `OutputError` unless ``folder`` can be created (or exists) and be written.

    Checked by doing it: the missing folders are made, a temporary file is created in
    the folder and removed, and the folders made are removed again, so a run that then
    saves nothing leaves nothing (`os.access` cannot tell, e.g. for root under ``/proc``).
    """
    missing = missing_folders(folder)
    try:
        try:
            for attempt in range(_PROBE_ATTEMPTS):
                folder.mkdir(parents=True, exist_ok=True)
                probe = temp_path(folder)
                try:
                    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                except FileNotFoundError:
                    # Another run started at the same moment made the folder too, probed
                    # it and removed it again: make it once more.
                    if attempt == _PROBE_ATTEMPTS - 1:
                        raise
                    continue
                os.unlink(probe)
                break
        except FileExistsError as exc:
            raise OutputError(f"cannot use {folder} as the output folder: it is a file") from exc
        except OSError as exc:
            what = "create" if missing else "write in"
            raise OutputError(
                f"cannot {what} the output folder {folder}: {describe_os_error(exc)}"
            ) from exc
    finally:
        for made in missing:
            try:
                made.rmdir()
            except OSError:
                break


def try_write(
    path: Path, data: bytes, on_conflict: str, *, staged: Path | None = None
) -> Written | None:
    """Write under the policy; the outcome, or None when ``rename`` must try another name.

    ``staged`` is a temporary file in the same folder that already holds ``data``
    (`imgcall.staging`): it is linked into place instead of writing ``data`` again, and
    left for its owner to remove.

    Raises `OutputExistsError` (policy ``"error"``, different bytes there) or
    `OutputError` (the file cannot be written).
    """
    if on_conflict == "overwrite":
        if _same_content(path, data):
            return "exists"
        existed = os.path.lexists(path)
        _write_atomic(path, data, replace=True, staged=staged)
        return "overwritten" if existed else "saved"
    if _write_atomic(path, data, replace=False, staged=staged):
        return "saved"
    if _same_content(path, data):
        return "exists"
    if on_conflict == "skip":
        return "skipped"
    if on_conflict == "error":
        kind = _special_kind(path)
        there = f"and is {kind}, not an image file" if kind else "with different content"
        raise OutputExistsError(
            f"{path} already exists {there}; choose what to do with "
            "on_conflict 'rename', 'skip' or 'overwrite' (--on-conflict on the command line)"
        )
    return None


def _write_anonymous(path: Path, data: bytes) -> bool | None:
    """Write ``data`` to a new file named ``path`` in one step; None if not possible."""
    name = os.fspath(path)
    fd = open_anonymous(os.path.dirname(name))
    if fd is None:
        return None
    try:
        _write_fd(fd, data)
        return link_anonymous(fd, name)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes, *, replace: bool, staged: Path | None) -> bool:
    """Write via a temporary file; return False (writing nothing) if ``path`` exists.

    ``staged`` (a file that already holds ``data``) is linked into place; otherwise a
    new file is written anonymously and linked (Linux), or written under a temporary
    name and moved. Either way the final name appears only once the file is complete.
    """
    try:
        if staged is not None and str(staged).startswith(ANONYMOUS_PREFIX):
            done = _place_anonymous(path, staged, replace=replace)
            if done is not None:
                return done
            staged = None  # it cannot be named here: write its bytes the other way
        elif staged is None and not replace:
            done = _write_anonymous(path, data)
            if done is not None:
                return done
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    if not replace and os.path.lexists(path):
        return False
    if staged is not None:
        try:
            return _move_into_place(staged, path, replace=replace)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    tmp = temp_path(path.parent)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            _write_fd(fd, data)
        finally:
            os.close(fd)
        return _move_into_place(tmp, path, replace=replace)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        except OSError:  # the write error above is the one worth reporting
            pass


def _place_anonymous(path: Path, staged: Path, *, replace: bool) -> bool | None:
    """Name a staged anonymous file ``path``; None if this file system cannot."""
    if not replace:
        return link_anonymous(int(str(staged)[len(ANONYMOUS_PREFIX) :]), path)
    # os.replace cannot move a descriptor's file: link it to a temporary name first.
    tmp = temp_path(path.parent)
    if not link_anonymous(int(str(staged)[len(ANONYMOUS_PREFIX) :]), tmp):
        return None
    try:
        return _move_into_place(tmp, path, replace=True)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _move_into_place(tmp: Path, path: Path, *, replace: bool) -> bool:
    """Give the complete file ``tmp`` the name ``path``; False if that name is taken."""
    if replace:
        os.replace(tmp, path)
        return True
    try:
        # link() never replaces an existing file, unlike rename(): no clobbering race.
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if os.path.lexists(path):  # a filesystem without hard links
            return False
        os.replace(tmp, path)
    return True


def _write_fd(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):  # a short write: a signal, or a full disk that then raises
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


# Opening what is at a final name must never block (a FIFO with no writer waits forever)
# nor follow a symlink; the fstat after opening catches a name swapped since the lstat.
_OPEN_EXISTING = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)
_KINDS = (
    (stat.S_ISLNK, "a symlink"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def _special_kind(path: Path) -> str | None:
    """What is at ``path`` when it is not a regular file ("a FIFO", ...); else None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _same_content(path: Path, data: bytes) -> bool:
    """True if ``path`` is a regular file (not a symlink) holding exactly ``data``.

    Anything else at the name (a FIFO, device, socket, folder or symlink, wherever it
    points) is never opened, read or followed: it counts as different content.
    """
    try:
        before = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(before.st_mode) or before.st_size != len(data):
        return False
    try:
        fd = os.open(path, _OPEN_EXISTING)
    except OSError:
        return False
    # Compared a slice at a time: a re-run over large files reads none of them whole.
    try:
        with os.fdopen(fd, "rb") as fh, memoryview(data) as expected:
            now = os.fstat(fh.fileno())
            same_file = (now.st_dev, now.st_ino) == (before.st_dev, before.st_ino)
            if not (same_file and stat.S_ISREG(now.st_mode)) or now.st_size != len(expected):
                return False
            pos = 0
            while chunk := fh.read(_COMPARE_CHUNK):
                if expected[pos : pos + len(chunk)] != chunk:
                    return False
                pos += len(chunk)
            return pos == len(expected)
    except OSError:
        return False


def describe_os_error(exc: OSError) -> str:
    """A short, plain reason for a failed file operation (full disk, read-only, ...)."""
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EFBIG:
        return "the file is larger than allowed (file-size limit)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (the folder is read-only or not yours)"
    if exc.errno in (errno.EISDIR, errno.ENOTEMPTY):
        return "a folder has that name"
    return exc.strerror or str(exc)

"""Writing images to disk: safe names, atomic writes, conflict policies.

Every file is written to a temporary name in the target folder and then moved into
place (``os.link`` for the no-clobber policies, ``os.replace`` for ``overwrite``), so an
interrupted run never leaves a half-written image under a final name. Names derived from
item ids are sanitised so that no input can reach outside the output folder.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import ImgcallError, OutputError, OutputExistsError, UnsupportedImageError
from .formats import FORMATS

if TYPE_CHECKING:
    from .image import DecodedImage

__all__ = ["OnConflict", "SaveResult", "safe_stem", "save_image", "write_file"]

OnConflict = Literal["error", "skip", "rename", "overwrite"]
_POLICIES = ("error", "skip", "rename", "overwrite")
_CONVERT = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}

TEMP_SUFFIX = ".imgcall-tmp"
_MAX_NAME_BYTES = 255
# Room kept for ".partialN", "-NNNN" (rename) and the extension.
_MAX_STEM_BYTES = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{i}" for p in ("COM", "LPT") for i in "0123456789¹²³"]
)


@dataclass(frozen=True)
class SaveResult:
    """Where an image went and what happened.

    ``outcome`` is ``"saved"`` (a new file), ``"exists"`` (identical bytes were already
    there: done), ``"skipped"`` (different bytes there, ``on_conflict="skip"``) or
    ``"overwritten"``.
    """

    path: Path
    outcome: str


def safe_stem(text: str, *, fallback: str = "image") -> str:
    """Turn an id (or any text) into a file-name stem that stays inside its folder.

    Separators, NUL, control and shell-hostile characters become ``_``; leading dots
    (hidden files, ``.``/``..``) and trailing dots or spaces are removed; Windows
    reserved names get a ``_`` prefix; an over-long name is cut and given a short hash of
    the original so that different long ids stay different.
    """
    stem = unicodedata.normalize("NFC", text)
    stem = _UNSAFE.sub("_", stem)
    stem = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch
        for ch in stem
    )
    stem = stem.strip(" ").lstrip(".").rstrip(". ")
    if not stem:
        return fallback
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    encoded = stem.encode("utf-8")
    if len(encoded) > _MAX_STEM_BYTES:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        cut = encoded[: _MAX_STEM_BYTES - 13].decode("utf-8", "ignore").rstrip(". ")
        stem = f"{cut}-{digest}"
    return stem


def save_image(
    image: DecodedImage,
    path_or_dir: str | os.PathLike[str],
    *,
    on_conflict: str = "error",
    convert: str | None = None,
) -> SaveResult:
    """Save one image to a file or into a folder; see `DecodedImage.save`."""
    data, fmt = converted(image, convert)
    ext = FORMATS[fmt].extension
    target = Path(path_or_dir)
    raw = os.fspath(path_or_dir)
    if target.is_dir() or raw.endswith((os.sep, "/")):
        stem = safe_stem(image.id)
        if image.partial_index is not None:
            stem += f".partial{image.partial_index}"
        directory = target
    else:
        directory = target.parent
        stem = target.name
        suffix = target.suffix.lower().lstrip(".")
        if suffix in {"png", "jpg", "jpeg", "webp", "gif", "svg"}:
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
    fmt = _CONVERT.get(convert.lower())
    if fmt is None:
        raise ValueError(f"convert must be one of png, jpeg, webp; got {convert!r}")
    if fmt == image.format:
        return image.data, image.format
    if image.format == "SVG":
        raise UnsupportedImageError(
            "an SVG image cannot be converted: it is never rasterised",
            id=image.id,
            location=image.location,
        )
    from .decoding import encode_image

    return encode_image(image.to_pil(), fmt), fmt


def write_file(
    directory: str | os.PathLike[str],
    stem: str,
    ext: str,
    data: bytes,
    *,
    on_conflict: str = "error",
) -> SaveResult:
    """Atomically write ``data`` to ``directory/stem.ext`` under a conflict policy."""
    if on_conflict not in _POLICIES:
        raise ValueError(f"on_conflict must be one of {', '.join(_POLICIES)}; got {on_conflict!r}")
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {_why(exc)}") from exc
    path = folder / f"{stem}.{ext}"
    counter = 0
    while True:
        if on_conflict == "overwrite":
            if _same_content(path, data):
                return SaveResult(path, "exists")
            existed = path.exists()
            _write_atomic(path, data, replace=True)
            return SaveResult(path, "overwritten" if existed else "saved")
        if _write_atomic(path, data, replace=False):
            return SaveResult(path, "saved")
        if _same_content(path, data):
            return SaveResult(path, "exists")
        if on_conflict == "skip":
            return SaveResult(path, "skipped")
        if on_conflict == "error":
            raise OutputExistsError(
                f"{path} already exists with different content "
                "(use on_conflict 'rename', 'skip' or 'overwrite')"
            )
        counter += 1
        if counter > 10_000:
            raise OutputError(f"no free name for {stem}.{ext} after 10,000 attempts")
        path = folder / f"{stem}-{counter}.{ext}"


def _write_atomic(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write via a temporary file; return False (writing nothing) if ``path`` exists."""
    if not replace and os.path.lexists(path):
        return False
    tmp = path.with_name(f".{secrets.token_hex(6)}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)
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
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {_why(exc)}") from exc
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        except OSError:  # the write error above is the one worth reporting
            pass


def _same_content(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    if exc.errno == errno.EFBIG:
        return "the file is larger than allowed (file-size limit)"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (the folder is read-only or not yours)"
    return exc.strerror or str(exc)

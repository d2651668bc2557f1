"""Writing images to disk: safe names, atomic writes, conflict policies, whole runs.

Every file is written to a temporary name in the target folder and then moved into
place (``os.link`` for the no-clobber policies, ``os.replace`` for ``overwrite``), so an
interrupted run never leaves a half-written image under a final name. Names derived from
item ids are sanitised so that no input can reach outside the output folder.

`save_images` / `iter_save` save every image of one or more inputs in one *run*:

- names come from a template (``{id}``, ``{index}``, ...), are made safe with
  `safe_stem`, and the final path is checked to sit directly inside ``out_dir``;
- two items of one run never write the same file: a second item with the same name and
  different bytes gets ``-1``, ``-2``, ... whatever ``on_conflict`` says; the same bytes
  under the same name are counted as done (``exists``). Names are compared
  case-insensitively so that a run gives the same files on every file system;
- ``{index}`` is the 0-based position of the item in the run, across all inputs,
  counting images and problems alike (an input that cannot be read has no index);
- the manifest ``imgcall-manifest.jsonl`` describes the latest run into the folder: it
  is replaced when a run writes its first line, then one JSON line per item is appended
  and flushed as the run goes. A re-run lists already-present files with outcome
  ``exists``, so the manifest always covers every image of the inputs given, never a
  confusing mix of runs;
- decoding, checking, hashing and conversion run on ``workers`` threads (base64
  decoding, hashing, CRCs and Pillow release the GIL); names are chosen and files written
  in input order on the calling thread, so a run's result never depends on timing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import string
import sys
import time
import unicodedata
from collections import deque
from collections.abc import Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Union

from .errors import (
    ImgcallError,
    InvalidInputError,
    OutputError,
    OutputExistsError,
    Problem,
    UnsupportedImageError,
)
from .formats import FORMATS

if TYPE_CHECKING:
    from .decoding import Check, Limits
    from .image import DecodedImage
    from .models import ImageGenerationCall

__all__ = [
    "MANIFEST_NAME",
    "Input",
    "ItemRecord",
    "OnConflict",
    "SaveReport",
    "SaveResult",
    "iter_save",
    "list_images",
    "safe_stem",
    "save_image",
    "save_images",
    "write_file",
]

OnConflict = Literal["error", "skip", "rename", "overwrite"]
_Written = Literal["saved", "exists", "skipped", "overwritten"]
_POLICIES = ("error", "skip", "rename", "overwrite")
_CONVERT = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}

MANIFEST_NAME = "imgcall-manifest.jsonl"
TEMP_SUFFIX = ".imgcall-tmp"
_TEMP_NAME = re.compile(r"^\.[0-9a-f]+\.(\d+)" + re.escape(TEMP_SUFFIX) + "$")
# Where the pid of a temporary file's writer cannot be probed (Windows), only files this
# old are taken for leftovers.
_STALE_AGE = 24 * 3600
_MAX_NAME_BYTES = 255
# Room kept for ".partialN", "-NNNN" (rename) and the extension.
_MAX_STEM_BYTES = 200
_MAX_RENAMES = 10_000
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{i}" for p in ("COM", "LPT") for i in "0123456789¹²³"]
)
_IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|webp|gif|svg)$", re.I)
TEMPLATE_FIELDS = ("id", "index", "custom_id", "response_id", "status", "sha8", "stem")
"""The fields a name template may use."""


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
    # Windows ignores trailing spaces before the dot: "CON .png" is the console too.
    if stem.split(".")[0].rstrip(" ").upper() in _RESERVED:
        stem = "_" + stem
    encoded = stem.encode("utf-8", "surrogatepass")
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
    fmt = _convert_format(convert)
    if fmt == image.format:
        return image.data, image.format
    if image.format == "SVG":
        raise UnsupportedImageError(
            "an SVG image cannot be converted: it is never rasterised (save it without conversion)",
            id=image.id,
            location=image.location,
        )
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


def _convert_format(convert: str) -> str:
    fmt = _CONVERT.get(convert.lower()) if isinstance(convert, str) else None
    if fmt is None:
        raise ValueError(f"convert must be one of png, jpeg, webp; got {convert!r}")
    return fmt


def write_file(
    directory: str | os.PathLike[str],
    stem: str,
    ext: str,
    data: bytes,
    *,
    on_conflict: str = "error",
) -> SaveResult:
    """Atomically write ``data`` to ``directory/stem.ext`` under a conflict policy."""
    _check_policy(on_conflict)
    folder = Path(directory)
    _make_folder(folder)
    for counter in range(_MAX_RENAMES + 1):
        path = folder / (f"{stem}.{ext}" if counter == 0 else f"{stem}-{counter}.{ext}")
        outcome = _try_write(path, data, on_conflict)
        if outcome is not None:
            return SaveResult(path, outcome)
    raise OutputError(f"no free name for {stem}.{ext} after {_MAX_RENAMES:,} attempts")


def _check_policy(on_conflict: str) -> None:
    if on_conflict not in _POLICIES:
        raise ValueError(f"on_conflict must be one of {', '.join(_POLICIES)}; got {on_conflict!r}")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {_why(exc)}") from exc


def _try_write(path: Path, data: bytes, on_conflict: str) -> _Written | None:
    """Write under the policy; the outcome, or None when ``rename`` must try another name."""
    if on_conflict == "overwrite":
        if _same_content(path, data):
            return "exists"
        existed = os.path.lexists(path)
        _write_atomic(path, data, replace=True)
        return "overwritten" if existed else "saved"
    if _write_atomic(path, data, replace=False):
        return "saved"
    if _same_content(path, data):
        return "exists"
    if on_conflict == "skip":
        return "skipped"
    if on_conflict == "error":
        raise OutputExistsError(
            f"{path} already exists with different content; choose what to do with "
            "on_conflict 'rename', 'skip' or 'overwrite' (--on-conflict on the command line)"
        )
    return None


def _write_atomic(path: Path, data: bytes, *, replace: bool) -> bool:
    """Write via a temporary file; return False (writing nothing) if ``path`` exists."""
    if not replace and os.path.lexists(path):
        return False
    tmp = path.with_name(f".{secrets.token_hex(6)}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            _write_fd(fd, data)
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


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


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


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete imgcall temporary files in ``folder`` left by processes that have died.

    The writer's pid is part of each temporary name; a file whose process is still
    running is left alone. Returns the files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            if pid == os.getpid() or not _stale(pid, entry.stat().st_mtime, now):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _stale(pid: int, mtime: float, now: float) -> bool:
    if sys.platform == "win32":
        # os.kill(pid, 0) would terminate the process on Windows: go by age instead.
        return now - mtime > _STALE_AGE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: alive, owned by someone else
        return False
    return False


# ---------------------------------------------------------------------------------------
# Runs: save_images / iter_save / list_images
# ---------------------------------------------------------------------------------------

Outcome = Literal["saved", "exists", "skipped", "overwritten", "failed", "found"]


@dataclass(frozen=True)
class Input:
    """A source with the name to report it under, e.g. standard input as ``<stdin>``.

    ``stem`` is the ``{stem}`` name-template field; by default the name's file stem, or
    the name without its angle brackets (``<stdin>`` gives ``stdin``).
    """

    source: object
    name: str
    stem: str | None = None


@dataclass(frozen=True)
class ItemRecord:
    """What happened to one item of a run: one manifest line, one ``--json`` object.

    ``outcome`` is ``"saved"`` (a new file), ``"exists"`` (the same bytes were already
    there, so it is done), ``"skipped"`` (another file holds the name, ``on_conflict``
    ``"skip"``), ``"overwritten"`` or ``"failed"`` (``error`` says why); `list_images`
    reports ``"found"`` instead of writing. An input that cannot be read at all is one
    ``"failed"`` record with ``id`` and ``index`` set to ``None``.
    """

    index: int | None
    """0-based position of the item in the run (all inputs, images and problems)."""
    input: str | None
    """The input's name: its path, ``<stdin>``, ``<object>``, ..."""
    id: str | None
    status: str | None
    outcome: Outcome
    path: Path | None = None
    """The absolute path of the file holding the image (``None`` when nothing was saved)."""
    format: str | None = None
    width: int | None = None
    height: int | None = None
    nbytes: int | None = None
    """Size of the file in bytes (``bytes`` in the manifest)."""
    sha256: str | None = None
    location: str | None = None
    custom_id: str | None = None
    response_id: str | None = None
    revised_prompt: str | None = None
    partial: bool = False
    partial_index: int | None = None
    converted_from: str | None = None
    """The original format when the image was re-encoded (``convert``)."""
    note: str | None = None
    """Why a re-encoded file lacks the original's provenance metadata (C2PA)."""
    warnings: tuple[str, ...] = ()
    """Things worth knowing that did not stop the item (e.g. a ``generating`` status)."""
    error: ImgcallError | None = field(default=None, compare=False)
    """The error for a ``"failed"`` item."""

    @property
    def failed(self) -> bool:
        """True for an item (or input) that could not be saved."""
        return self.outcome == "failed"

    @property
    def input_failed(self) -> bool:
        """True when a whole input could not be read or parsed (not just one line of it)."""
        return self.index is None and isinstance(self.error, InvalidInputError)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict with the manifest's field names."""
        return {
            "index": self.index,
            "input": self.input,
            "id": self.id,
            "status": self.status,
            "outcome": self.outcome,
            "path": str(self.path) if self.path is not None else None,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": self.nbytes,
            "sha256": self.sha256,
            "location": self.location,
            "custom_id": self.custom_id,
            "response_id": self.response_id,
            "revised_prompt": self.revised_prompt,
            "partial": self.partial,
            "partial_index": self.partial_index,
            "converted_from": self.converted_from,
            "note": self.note,
            "warnings": list(self.warnings),
            "error": self.error.reason if self.error is not None else None,
            "error_type": type(self.error).__name__ if self.error is not None else None,
        }

    def to_json(self) -> str:
        """One line of JSON (the manifest line), always encodable as UTF-8."""
        data = self.to_dict()
        text = json.dumps(data, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a Python str: escape it
            text = json.dumps(data)
        return text


@dataclass
class SaveReport:
    """The result of `save_images`: every `ItemRecord` of the run, and counts.

    >>> report = imgcall.save_images("response.json", "out/")   # doctest: +SKIP
    >>> report.counts()
    {'saved': 2, 'overwritten': 0, 'exists': 0, 'skipped': 0, 'failed': 0}
    >>> [str(p) for p in report.paths]
    ['/home/me/out/ig_1.png', '/home/me/out/ig_2.jpg']
    """

    out_dir: Path
    manifest: Path | None
    """The manifest's path, or ``None`` when ``manifest=False``."""
    records: list[ItemRecord] = field(default_factory=list)

    def add(self, record: ItemRecord) -> None:
        """Append one record (used while a run is being consumed item by item)."""
        self.records.append(record)

    def _with(self, *outcomes: str) -> list[ItemRecord]:
        return [r for r in self.records if r.outcome in outcomes]

    @property
    def saved(self) -> list[ItemRecord]:
        """Items written by this run (new files and overwritten ones)."""
        return self._with("saved", "overwritten")

    @property
    def existing(self) -> list[ItemRecord]:
        """Items whose identical file was already there (done, nothing written)."""
        return self._with("exists")

    @property
    def skipped(self) -> list[ItemRecord]:
        """Items not written because another file holds the name (``on_conflict="skip"``)."""
        return self._with("skipped")

    @property
    def failed(self) -> list[ItemRecord]:
        """Items (and inputs) that could not be saved, each with its ``error``."""
        return self._with("failed")

    @property
    def paths(self) -> list[Path]:
        """The files that now hold this run's images (saved, overwritten or present)."""
        return [r.path for r in self._with("saved", "overwritten", "exists") if r.path is not None]

    @property
    def ok(self) -> bool:
        """True when every item found was saved or already present."""
        return not self.failed

    def counts(self) -> dict[str, int]:
        """How many records have each outcome."""
        keys = ("saved", "overwritten", "exists", "skipped", "failed")
        return {key: len(self._with(key)) for key in keys}

    def __iter__(self) -> Iterator[ItemRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


def save_images(
    source: object,
    out_dir: str | os.PathLike[str],
    *,
    name: str = "{id}",
    on_conflict: OnConflict = "error",
    convert: str | None = None,
    partials: bool = False,
    manifest: bool = True,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    workers: int = 1,
) -> SaveReport:
    """Save every image found in ``source`` into ``out_dir``; return a `SaveReport`.

    ``source`` is anything `iter_calls` accepts, or a list of paths (several inputs in
    one run, with one manifest). The original bytes are written unchanged (provenance
    metadata such as C2PA intact) with the extension of their real format; ``convert``
    (``"png"``, ``"jpeg"``, ``"webp"``) re-encodes, which drops that metadata.

    ``name`` is a template with the fields ``{id}``, ``{index}`` (0-based position in the
    run), ``{custom_id}`` and ``{response_id}`` (the id when absent), ``{status}``,
    ``{sha8}`` (first 8 hex digits of the file's SHA-256) and ``{stem}`` (the input's
    file stem, ``stdin`` for standard input); format specs work (``{index:04d}``). The
    result is made safe with `safe_stem`; partial images get ``.partial<k>``.

    ``on_conflict`` decides what happens when a file with different bytes already has
    the name: ``"error"`` (the item fails with `OutputExistsError`), ``"skip"``,
    ``"rename"`` (``name-1.png``, ...) or ``"overwrite"``. The same bytes already there
    count as done under every policy, so a re-run is idempotent.

    ``manifest=True`` writes ``imgcall-manifest.jsonl`` in ``out_dir`` (see the module
    docstring). ``limits``, ``check`` and ``strict_status`` go to `decode`; ``workers``
    threads decode in parallel. Decoding notes (a ``generating`` status, a declared
    format that disagrees with the bytes) are recorded in each record's ``warnings``
    rather than emitted as Python warnings.

    Items that cannot be decoded or written are ``"failed"`` records in the report; they
    never raise.

    Raises:
        InvalidInputError: an input cannot be read or parsed (images saved before that
            stay on disk and in the manifest).
        ValueError: a bad argument (unknown template field, policy, format, ...).
    """
    sources = _sources(source)
    records = iter_save(
        sources,
        out_dir,
        name=name,
        on_conflict=on_conflict,
        convert=convert,
        partials=partials,
        manifest=manifest,
        limits=limits,
        check=check,
        strict_status=strict_status,
        workers=workers,
    )
    report = SaveReport(
        out_dir=Path(out_dir), manifest=Path(out_dir) / MANIFEST_NAME if manifest else None
    )
    for record in records:
        if record.input_failed and record.error is not None:
            records.close()
            raise record.error
        report.add(record)
    return report


def _sources(source: object) -> list[object]:
    # A parsed JSON list of strings holds no images, so reading one as paths is safe.
    if (
        isinstance(source, (list, tuple))
        and source
        and all(
            isinstance(s, (os.PathLike, Input)) or (isinstance(s, str) and not _looks_like_json(s))
            for s in source
        )
    ):
        return list(source)
    return [source]


def iter_save(
    sources: Iterable[object],
    out_dir: str | os.PathLike[str],
    *,
    name: str = "{id}",
    on_conflict: OnConflict = "error",
    convert: str | None = None,
    partials: bool = False,
    manifest: bool = True,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    workers: int = 1,
) -> Generator[ItemRecord, None, None]:
    """Save the images of several inputs in one run, yielding an `ItemRecord` per item.

    The engine of `save_images` and ``imgcall extract``: records come out in input
    order as soon as each file is written (and its manifest line flushed). Each of
    ``sources`` is anything `iter_calls` accepts, or an `Input` to give it a name. An
    input that cannot be read is one ``"failed"`` record holding an `InvalidInputError`,
    and the run goes on with the next input. See `save_images` for the options.

    Arguments are checked at once (``ValueError``), not on the first ``next()``.
    """
    _check_policy(on_conflict)
    if convert is not None:
        _convert_format(convert)
    check_template(name)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    options = _Options(limits, check, strict_status, convert)
    run = _Run(Path(out_dir), name, on_conflict, manifest)
    units = _units(list(sources), partials)
    return run.records(_prepared(units, options, workers))


def list_images(
    sources: Iterable[object],
    *,
    partials: bool = False,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
) -> Iterator[ItemRecord]:
    """Decode and describe every item of ``sources`` without writing anything.

    The engine of ``imgcall ls``: each record has outcome ``"found"`` (with format, size
    and hash from the image) or ``"failed"`` (with the error), and no ``path``.
    """
    options = _Options(limits, check, strict_status, None)
    for unit, ready in _prepared(_units(list(sources), partials), options, 1):
        if isinstance(ready, _Ready):
            yield _image_record(unit, ready, "found", None)
        else:
            yield _problem_record(unit, ready)


def check_template(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` is a valid name template.

    Only the fields in `TEMPLATE_FIELDS` are allowed, without attribute or index access;
    format specs (``{index:04d}``) are checked against sample values.
    """
    if not isinstance(template, str):
        raise ValueError(f"the name template must be a string, got {type(template).__name__}")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"invalid name template {template!r}: {exc}") from exc
    for _, field_name, _, _ in parsed:
        if field_name is not None and field_name not in TEMPLATE_FIELDS:
            shown = field_name or "{}"
            raise ValueError(
                f"unknown field {shown!r} in the name template {template!r}; use "
                + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            )
    sample = {f: "x" for f in TEMPLATE_FIELDS} | {"index": 0}
    try:
        template.format_map(sample)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"invalid name template {template!r}: {exc}") from exc


# --- internals --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    limits: Limits | None
    check: Check
    strict_status: bool
    convert: str | None


@dataclass(frozen=True)
class _Unit:
    """One thing found: a call to decode, a problem from the scan, or a broken input."""

    index: int | None
    input: str
    stem: str
    found: ImageGenerationCall | Problem | ImgcallError


@dataclass(frozen=True)
class _Ready:
    image: DecodedImage
    data: bytes
    format: str
    sha256: str


_Prepared = Union[_Ready, Problem, ImgcallError]


def _units(sources: list[object], partials: bool) -> Iterator[_Unit]:
    from .scan import scan

    index = 0
    for raw in sources:
        source, label, stem = _describe_source(raw)
        found_iter = scan(source, partials=partials, name=label)
        while True:
            try:
                found = next(found_iter)
            except StopIteration:
                break
            except ImgcallError as exc:
                yield _Unit(None, label, stem, exc)
                break
            except OSError as exc:  # a stream (stdin) that fails while being read
                error = InvalidInputError(f"cannot read {label}: {_why(exc)}", location=label)
                error.__cause__ = exc
                yield _Unit(None, label, stem, error)
                break
            yield _Unit(index, label, stem, found)
            index += 1


def _describe_source(raw: object) -> tuple[object, str, str]:
    """The source to scan, the name to report it under, and its ``{stem}``."""
    if isinstance(raw, Input):
        return raw.source, raw.name, raw.stem or _stem_of(raw.name)
    if isinstance(raw, os.PathLike) or (isinstance(raw, str) and not _looks_like_json(raw)):
        label = os.fspath(raw)
        return raw, str(label), Path(str(label)).stem or "input"
    if isinstance(raw, (str, bytes, bytearray, memoryview)):
        return raw, "<input>", "input"
    if hasattr(raw, "read"):
        label = str(getattr(raw, "name", "<stream>"))
        return raw, label, _stem_of(label)
    if isinstance(raw, (Mapping, list, tuple)):
        return raw, "<object>", "object"
    return raw, f"<{type(raw).__name__}>", type(raw).__name__


def _stem_of(name: str) -> str:
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1] or "input"
    return Path(name).stem or "input"


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[") or "\n" in text


def _prepare(call: ImageGenerationCall, options: _Options) -> _Ready | ImgcallError:
    """Decode, check, convert and hash one call (runs on a worker thread)."""
    from .decoding import decode_call

    try:
        image = decode_call(
            call,
            limits=options.limits,
            check=options.check,
            strict_status=options.strict_status,
            emit_warnings=False,
        )
        data, fmt = converted(image, options.convert)
    except ImgcallError as exc:
        return exc.with_origin(id=call.id, location=call.location)
    return _Ready(image, data, fmt, hashlib.sha256(data).hexdigest())


def _prepared(
    units: Iterator[_Unit], options: _Options, workers: int
) -> Generator[tuple[_Unit, _Prepared], None, None]:
    """Pair each unit with its decoded image or error, in order, on ``workers`` threads."""
    from .models import ImageGenerationCall

    if workers == 1:
        for unit in units:
            found = unit.found
            yield (
                unit,
                _prepare(found, options) if isinstance(found, ImageGenerationCall) else found,
            )
        return
    # At most 2 x workers images in flight: enough to keep every worker busy while the
    # calling thread writes, never the whole input in memory.
    window: deque[tuple[_Unit, Future[_Ready | ImgcallError] | _Prepared]] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="imgcall") as pool:
        try:
            for unit in units:
                found = unit.found
                if isinstance(found, ImageGenerationCall):
                    window.append((unit, pool.submit(_prepare, found, options)))
                else:
                    window.append((unit, found))
                while len(window) >= 2 * workers:
                    yield _settle(window.popleft())
            while window:
                yield _settle(window.popleft())
        finally:
            for _, pending in window:
                if isinstance(pending, Future):
                    pending.cancel()


def _settle(
    entry: tuple[_Unit, Future[_Ready | ImgcallError] | _Prepared],
) -> tuple[_Unit, _Prepared]:
    unit, pending = entry
    return unit, pending.result() if isinstance(pending, Future) else pending


class _Run:
    """One run into one folder: names claimed so far, and the manifest."""

    def __init__(self, out_dir: Path, template: str, on_conflict: str, manifest: bool) -> None:
        self.out_dir = out_dir
        self.folder = out_dir.resolve()
        self.template = template
        self.on_conflict = on_conflict
        self.manifest: _Manifest | None = (
            _Manifest(self.folder / MANIFEST_NAME) if manifest else None
        )
        # Lower-cased file name -> sha256 of the bytes this run put (or found) there.
        self.claims: dict[str, str] = {}
        self.folder_ready = False

    def records(
        self, prepared: Generator[tuple[_Unit, _Prepared], None, None]
    ) -> Generator[ItemRecord, None, None]:
        remove_stale_temp_files(self.folder)
        try:
            for unit, ready in prepared:
                if isinstance(ready, _Ready):
                    record = self._save(unit, ready)
                else:
                    record = _problem_record(unit, ready)
                failure = self._log(record)
                yield record
                if failure is not None:
                    yield failure
        finally:
            prepared.close()  # stops the worker threads when the caller stops early
            if self.manifest is not None:
                self.manifest.close()

    def _log(self, record: ItemRecord) -> ItemRecord | None:
        """Write the manifest line; on failure, stop the manifest and report it once."""
        if self.manifest is None:
            return None
        try:
            self.manifest.write(record)
        except OutputError as exc:
            self.manifest.close()
            self.manifest = None
            return ItemRecord(
                None, None, None, None, "failed", location=str(exc.location or ""), error=exc
            )
        return None

    def _save(self, unit: _Unit, ready: _Ready) -> ItemRecord:
        image = ready.image
        try:
            if not self.folder_ready:
                _make_folder(self.folder)
                self.folder_ready = True
            stem = self._stem(unit, ready)
            path, outcome = self._place(stem, FORMATS[ready.format].extension, ready)
        except ImgcallError as exc:
            exc.with_origin(id=image.id, location=image.location)
            return _problem_record(unit, exc, image)
        return _image_record(unit, ready, outcome, path)

    def _stem(self, unit: _Unit, ready: _Ready) -> str:
        image = ready.image
        context = image.context
        values: dict[str, object] = {
            "id": image.id,
            "index": unit.index if unit.index is not None else 0,
            "custom_id": _text(context.get("custom_id")) or image.id,
            "response_id": _text(context.get("response_id")) or image.id,
            "status": image.status,
            "sha8": ready.sha256[:8],
            "stem": unit.stem,
        }
        rendered = _IMAGE_SUFFIX.sub("", self.template.format_map(values))
        stem = safe_stem(rendered, fallback=safe_stem(image.id))
        if image.partial_index is not None:
            stem += f".partial{image.partial_index}"
        return stem

    def _place(self, stem: str, ext: str, ready: _Ready) -> tuple[Path, Outcome]:
        for counter in range(_MAX_RENAMES + 1):
            file_name = f"{stem}.{ext}" if counter == 0 else f"{stem}-{counter}.{ext}"
            key = file_name.casefold()
            owner = self.claims.get(key)
            if owner is not None:
                if owner == ready.sha256:
                    return self._inside(file_name), "exists"
                continue  # another item of this run holds the name: never write over it
            path = self._inside(file_name)
            outcome = _try_write(path, ready.data, self.on_conflict)
            if outcome is None:
                continue
            if outcome != "skipped":
                self.claims[key] = ready.sha256
            return path, outcome
        raise OutputError(f"no free name for {stem}.{ext} after {_MAX_RENAMES:,} attempts")

    def _inside(self, file_name: str) -> Path:
        """``folder/file_name``, after making sure that it cannot be anywhere else."""
        path = self.folder / file_name
        if (
            file_name in ("", ".", "..")
            or "\x00" in file_name
            or os.sep in file_name
            or (os.altsep is not None and os.altsep in file_name)
            or len(file_name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES
            or path.parent != self.folder
            or Path(os.path.realpath(path.parent)) != Path(os.path.realpath(self.folder))
        ):
            raise OutputError(f"refusing to write {file_name!r}: not a plain name in {self.folder}")
        return path


class _Manifest:
    """``imgcall-manifest.jsonl``, replaced by the first line a run writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def write(self, record: ItemRecord) -> None:
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # Never truncate whatever a symlink under the manifest's name points to.
                if self.path.is_symlink():
                    self.path.unlink()
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                fd = os.open(self.path, flags | getattr(os, "O_BINARY", 0), 0o666)
                self._file = os.fdopen(fd, "wb")
            self._file.write(record.to_json().encode("utf-8") + b"\n")
            # Flushed per line: a crash keeps every line already written.
            self._file.flush()
        except OSError as exc:
            raise OutputError(
                f"cannot write the manifest {self.path}: {_why(exc)}", location=str(self.path)
            ) from exc

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _image_record(unit: _Unit, ready: _Ready, outcome: Outcome, path: Path | None) -> ItemRecord:
    image = ready.image
    context = image.context
    reencoded = ready.format != image.format
    return ItemRecord(
        index=unit.index,
        input=unit.input,
        id=image.id,
        status=image.status,
        outcome=outcome,
        path=path,
        format=ready.format,
        width=image.width,
        height=image.height,
        nbytes=len(ready.data),
        sha256=ready.sha256,
        location=str(image.location) if image.location is not None else None,
        custom_id=_text(context.get("custom_id")),
        response_id=_text(context.get("response_id")),
        revised_prompt=_text(context.get("revised_prompt")),
        partial=image.partial,
        partial_index=image.partial_index,
        converted_from=image.format if reencoded else None,
        note=(
            f"re-encoded from {image.format} to {ready.format}: provenance metadata "
            "(C2PA) of the original is not kept"
            if reencoded
            else None
        ),
        warnings=image.warnings,
    )


def _problem_record(
    unit: _Unit, found: Problem | ImgcallError, image: DecodedImage | None = None
) -> ItemRecord:
    from .image import DecodedImage
    from .models import ImageGenerationCall

    context: Mapping[str, Any] = {}
    partial_index: int | None = None
    item_id: str | None = None
    status: str | None = None
    location: object | None = None
    if isinstance(found, Problem):
        error = found.error
        item_id, status, location = found.id, found.status, found.location
        context, partial_index = found.context, found.partial_index
    else:
        error = found
        origin = image if image is not None else unit.found
        if isinstance(origin, (ImageGenerationCall, DecodedImage)):
            item_id, status, location = origin.id, str(origin.status), origin.location
            context, partial_index = origin.context, origin.partial_index
        else:  # a whole input that cannot be read
            location = error.location
    return ItemRecord(
        index=unit.index,
        input=unit.input,
        id=item_id,
        status=status,
        outcome="failed",
        location=str(location) if location is not None else None,
        custom_id=_text(context.get("custom_id")),
        response_id=_text(context.get("response_id")),
        revised_prompt=_text(context.get("revised_prompt")),
        partial=partial_index is not None,
        partial_index=partial_index,
        warnings=image.warnings if image is not None else (),
        error=error,
    )

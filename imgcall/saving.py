"""Whole runs: `save_images` / `iter_save` save every image of one or more inputs.

A run reads its inputs through `imgcall.pipeline`, names each image with
`imgcall.naming`, writes it with `imgcall.writing`, and reports an `ItemRecord` per item
(`imgcall.records`); `list_images` does the same without writing. Within a run:

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
- decoding, checking, hashing and conversion run on ``workers`` threads; names are
  chosen and files written in input order on the calling thread, so a run's result
  never depends on timing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ImgcallError, OutputError
from .formats import FORMATS
from .naming import (
    TEMPLATE_FIELDS,
    candidate_names,
    check_template,
    no_free_name,
    partial_stem,
    path_inside,
    render_stem,
    safe_stem,
)
from .pipeline import (
    Input,
    Options,
    Prepared,
    Ready,
    Unit,
    as_sources,
    prepared,
    scan_units,
)
from .records import (
    MANIFEST_NAME,
    ItemRecord,
    Manifest,
    Outcome,
    SaveReport,
    context_text,
    image_record,
    problem_record,
)
from .writing import (
    TEMP_SUFFIX,
    OnConflict,
    SaveResult,
    check_convert,
    check_policy,
    make_folder,
    remove_stale_temp_files,
    save_image,
    try_write,
    write_file,
)

if TYPE_CHECKING:
    from .decoding import Check, Limits

# Besides the run's own names, this re-exports those that lived here before the module
# was split (safe_stem, save_image, write_file, ...), for code that imports them from here.
__all__ = [
    "MANIFEST_NAME",
    "TEMPLATE_FIELDS",
    "TEMP_SUFFIX",
    "Input",
    "ItemRecord",
    "OnConflict",
    "Outcome",
    "SaveReport",
    "SaveResult",
    "check_template",
    "iter_save",
    "list_images",
    "remove_stale_temp_files",
    "safe_stem",
    "save_image",
    "save_images",
    "write_file",
]


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
    storage_options: Mapping[str, Any] | None = None,
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
    threads decode in parallel; ``storage_options`` go to fsspec for URL inputs (see
    `iter_calls` for folders, globs and URLs). Decoding notes (a ``generating`` status, a declared
    format that disagrees with the bytes) are recorded in each record's ``warnings``
    rather than emitted as Python warnings.

    Items that cannot be decoded or written are ``"failed"`` records in the report; they
    never raise.

    Raises:
        InvalidInputError: an input cannot be read or parsed (images saved before that
            stay on disk and in the manifest).
        ValueError: a bad argument (unknown template field, policy, format, ...).
    """
    sources = as_sources(source)
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
        storage_options=storage_options,
    )
    report = SaveReport(
        out_dir=Path(out_dir), manifest=Path(out_dir) / MANIFEST_NAME if manifest else None
    )
    for record in records:
        if record.input_failed and record.error is not None:
            records.close()
            raise record.error
        if record.manifest_failed:
            report.manifest = None  # never point at a file this run did not write
        report.add(record)
    return report


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
    storage_options: Mapping[str, Any] | None = None,
) -> Generator[ItemRecord, None, None]:
    """Save the images of several inputs in one run, yielding an `ItemRecord` per item.

    The engine of `save_images` and ``imgcall extract``: records come out in input
    order as soon as each file is written (and its manifest line flushed). Each of
    ``sources`` is anything `iter_calls` accepts, or an `Input` to give it a name. An
    input that cannot be read is one ``"failed"`` record holding an `InvalidInputError`,
    and the run goes on with the next input. See `save_images` for the options.

    Arguments are checked at once (``ValueError``), not on the first ``next()``.
    """
    check_policy(on_conflict)
    if convert is not None:
        check_convert(convert)
    check_template(name)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    run = _Run(Path(out_dir), name, on_conflict, manifest)
    options = Options(limits, check, strict_status, convert, stage_in=run.folder)
    units = scan_units(list(sources), partials, storage_options, exclude=run.folder)
    return run.records(prepared(units, options, workers))


def list_images(
    sources: Iterable[object],
    *,
    partials: bool = False,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[ItemRecord]:
    """Decode and describe every item of ``sources`` without writing anything.

    The engine of ``imgcall ls``: each record has outcome ``"found"`` (with format, size
    and hash from the image) or ``"failed"`` (with the error), and no ``path``.
    """
    options = Options(limits, check, strict_status, None)
    units = scan_units(list(sources), partials, storage_options)
    for unit, ready in prepared(units, options, 1):
        if isinstance(ready, Ready):
            yield image_record(unit, ready, "found", None)
        else:
            yield problem_record(unit, ready)


class _Fields(dict[str, object]):
    """Name-template fields; ``{sha8}`` is looked up only if the template uses it, so the
    hash (computed beside the write) is not waited for before every write."""

    def __init__(self, ready: Ready, **fields: object) -> None:
        super().__init__(fields)
        self._ready = ready

    def __missing__(self, key: str) -> object:
        if key == "sha8":
            return self._ready.sha256[:8]
        raise KeyError(key)


class _Run:
    """One run into one folder: names claimed so far, and the manifest."""

    def __init__(self, out_dir: Path, template: str, on_conflict: str, manifest: bool) -> None:
        self.folder = out_dir.resolve()
        self.template = template
        self.on_conflict = on_conflict
        self.manifest: Manifest | None = Manifest(self.folder / MANIFEST_NAME) if manifest else None
        # Lower-cased file name -> sha256 of the bytes this run put (or found) there.
        self.claims: dict[str, str] = {}
        self.folder_ready = False
        self.folder_existed = self.folder.is_dir()

    def records(
        self, prepared: Generator[tuple[Unit, Prepared], None, None]
    ) -> Generator[ItemRecord, None, None]:
        """Save each prepared unit in order and yield its record (and any manifest failure)."""
        remove_stale_temp_files(self.folder)
        try:
            for unit, ready in prepared:
                if isinstance(ready, Ready):
                    try:
                        record = self._save(unit, ready)
                    finally:
                        ready.release()
                else:
                    record = problem_record(unit, ready)
                # Free this image's bytes before the next image is decoded: the allocator
                # then reuses the memory instead of faulting in fresh pages (bench/README).
                del ready
                failure = self._log(record)
                yield record
                if failure is not None:
                    yield failure
        finally:
            prepared.close()  # stops the worker threads when the caller stops early
            if self.manifest is not None:
                self.manifest.close()
            if not self.folder_existed and not self.folder_ready:
                # Staging makes the folder for a run's first image; if nothing was saved
                # or logged after all, leave no empty folder behind (rmdir keeps any other).
                with contextlib.suppress(OSError):
                    self.folder.rmdir()

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

    def _save(self, unit: Unit, ready: Ready) -> ItemRecord:
        image = ready.image
        try:
            if not self.folder_ready:
                make_folder(self.folder)
                self.folder_ready = True
            stem = self._stem(unit, ready)
            path, outcome = self._place(stem, FORMATS[ready.format].extension, ready)
        except ImgcallError as exc:
            exc.with_origin(id=image.id, location=image.location)
            return problem_record(unit, exc, image)
        return image_record(unit, ready, outcome, path)

    def _stem(self, unit: Unit, ready: Ready) -> str:
        image = ready.image
        context = image.context
        fields = _Fields(
            ready,
            id=image.id,
            index=unit.index if unit.index is not None else 0,
            custom_id=context_text(context, "custom_id") or image.id,
            response_id=context_text(context, "response_id") or image.id,
            status=image.status,
            stem=unit.stem,
        )
        return partial_stem(
            render_stem(self.template, fields, fallback=image.id), image.partial_index
        )

    def _place(self, stem: str, ext: str, ready: Ready) -> tuple[Path, Outcome]:
        for file_name in candidate_names(stem, ext):
            key = file_name.casefold()
            owner = self.claims.get(key)
            if owner is not None:
                if owner == ready.sha256:
                    return path_inside(self.folder, file_name), "exists"
                continue  # another item of this run holds the name: never write over it
            path = path_inside(self.folder, file_name)
            staged = ready.staged.path if ready.staged is not None else None
            outcome = try_write(path, ready.data, self.on_conflict, staged=staged)
            if outcome is None:
                continue
            if outcome != "skipped":
                self.claims[key] = ready.sha256
            return path, outcome
        raise no_free_name(stem, ext)

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
  counting images and problems alike (an input that cannot be read has no index), so a
  file's name does not change when another item fails or recovers;
- the manifest ``imgcall-manifest.jsonl`` describes the latest run into the folder: it
  is replaced when a run writes its first line, then one JSON line per item is appended
  and flushed as the run goes. A re-run lists already-present files with outcome
  ``exists``, so the manifest always covers every image of the inputs given, never a
  confusing mix of runs;
- a run that places no image (every item failed, or the input could not be read)
  leaves nothing: no folder, no manifest, and an earlier run's manifest untouched. The
  problems met before the first image are held back (in a temporary file past a
  megabyte) and written to the manifest ahead of that image's line;
- an output folder that cannot be created or written is an `OutputError` before any
  input is read;
- the lines that write a file and its manifest line are `imgcall._interrupt.shielded`,
  so a command line that defers Ctrl-C there stops between images, never inside one;
- a run that writes the manifest owns the folder while it runs (`imgcall.folderlock`):
  a second run into the same folder waits a few seconds, then is refused with
  `OutputLockedError` naming the first, before it reads or writes anything;
- decoding, checking, hashing and conversion run on ``workers`` threads; names are
  chosen and files written in input order on the calling thread, so a run's result
  never depends on timing.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._interrupt import shielded
from .errors import ImgcallError, OutputError
from .folderlock import FolderLock
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
    describe_os_error,
    make_folder,
    missing_folders,
    probe_folder,
    remove_stale_temp_files,
    save_image,
    try_write,
    write_file,
)

if TYPE_CHECKING:
    from tempfile import SpooledTemporaryFile

    from .decoding import Check, Limits
    from .sidecar import Sidecars

# Problems held back before a run's first image stay in memory up to this many bytes of
# manifest lines, then go to a temporary file: a batch that fails for its first 50,000
# lines costs no memory.
_HELD_IN_MEMORY = 1 << 20

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
    discover: bool = True,
    sidecar: bool = False,
    embed_metadata: bool = False,
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
    threads decode in parallel; ``discover=False`` ignores images that only the search
    by content would find (JSON of a shape imgcall does not know). Decoding notes (a
    ``generating`` status, a declared format that disagrees with the bytes) are recorded
    in each record's ``warnings`` rather than emitted as Python warnings.

    ``sidecar=True`` writes ``NAME.json`` beside each image, holding its manifest record
    (`imgcall.sidecar`). ``embed_metadata=True`` writes the prompt and ids into each
    file (PNG iTXt, XMP for JPEG and WebP); a file that carries C2PA provenance is
    saved unchanged instead, with a warning, since writing into it would break its
    signature (`imgcall.embedding`).

    Items that cannot be decoded or written are ``"failed"`` records in the report; they
    never raise.

    Raises:
        InvalidInputError: an input cannot be read or parsed (images saved before that
            stay on disk and in the manifest).
        OutputError: ``out_dir`` cannot be created or written (raised before anything
            is read or decoded).
        OutputLockedError: another run is still saving into ``out_dir`` (with a
            manifest) after a few seconds' wait; nothing was read or written.
        ValueError: a bad argument (unknown template field, policy, format, ...),
            including a template that cannot give a sane file name (``{index:>999999999}``,
            see `check_template`), refused before anything is read or written.
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
        discover=discover,
        sidecar=sidecar,
        embed_metadata=embed_metadata,
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
    if not any(r.path is not None for r in report.records):
        report.manifest = None  # a run that placed no image writes no manifest
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
    discover: bool = True,
    sidecar: bool = False,
    embed_metadata: bool = False,
) -> Generator[ItemRecord, None, None]:
    """Save the images of several inputs in one run, yielding an `ItemRecord` per item.

    The engine of `save_images` and ``imgcall extract``: records come out in input
    order as soon as each file is written (and its manifest line flushed). Each of
    ``sources`` is anything `iter_calls` accepts, or an `Input` to give it a name. An
    input that cannot be read is one ``"failed"`` record holding an `InvalidInputError`,
    and the run goes on with the next input. See `save_images` for the options.

    Arguments are checked at once (``ValueError``), not on the first ``next()``, and so
    is the output folder (`OutputError` if it cannot be created or written).
    """
    check_policy(on_conflict)
    if convert is not None:
        check_convert(convert)
    check_template(name)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    run = _Run(Path(out_dir), name, on_conflict, manifest)
    probe_folder(run.folder)
    if sidecar:
        from .sidecar import Sidecars

        run.sidecars = Sidecars()
    options = Options(
        limits, check, strict_status, convert, stage_in=run.folder, embed_metadata=embed_metadata
    )
    units = scan_units(list(sources), partials, discover)
    return run.records(prepared(units, options, workers))


def list_images(
    sources: Iterable[object],
    *,
    partials: bool = False,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    discover: bool = True,
) -> Iterator[ItemRecord]:
    """Decode and describe every item of ``sources`` without writing anything.

    The engine of ``imgcall ls``: each record has outcome ``"found"`` (with format, size
    and hash from the image) or ``"failed"`` (with the error), and no ``path``.
    """
    options = Options(limits, check, strict_status, None)
    for unit, ready in prepared(scan_units(list(sources), partials, discover), options, 1):
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
        # Lower-cased file name -> (sha256, file name) of the bytes this run put (or
        # found) there.
        self.claims: dict[str, tuple[str, str]] = {}
        self.folder_ready = False
        # The folders this run would create, deepest first: removed again if it places
        # no image (staging may create them for an image that then fails).
        self.missing = missing_folders(self.folder)
        self.placed = False
        # Manifest lines of the problems met before the first image (see the module
        # docstring); a run that places no image never writes them.
        self.held: SpooledTemporaryFile[str] | None = None
        self.folder_existed = self.folder.is_dir()
        self.sidecars: Sidecars | None = None

    def records(
        self, prepared: Generator[tuple[Unit, Prepared], None, None]
    ) -> Generator[ItemRecord, None, None]:
        """Save each prepared unit in order and yield its record (and any manifest failure).

        Raises `OutputLockedError` before any work when another run holds the folder.
        """
        lock: FolderLock | None = None
        try:
            lock = self._lock()
            remove_stale_temp_files(self.folder)
            for unit, ready in prepared:
                with shielded():  # the file and its manifest line, or neither
                    if isinstance(ready, Ready):
                        try:
                            record = self._save(unit, ready)
                        finally:
                            ready.release()
                        if self.sidecars is not None:
                            record = self.sidecars.write(record)
                    else:
                        record = problem_record(unit, ready)
                    # Free this image's bytes before the next image is decoded: the
                    # allocator then reuses the memory instead of faulting in fresh pages
                    # (bench/README).
                    del ready
                    failure = self._log(record)
                yield record
                if failure is not None:
                    yield failure
        finally:
            prepared.close()  # stops the worker threads when the caller stops early
            if self.manifest is not None:
                self.manifest.close()
            if self.held is not None:
                self.held.close()
            if lock is not None:
                lock.release()  # removes the lock file, so an unused folder is empty again
            if not self.placed:
                # Staging makes the folder for a run's first image; if no image was
                # placed after all, leave no folder behind (rmdir keeps one with files).
                for folder in self.missing:
                    try:
                        folder.rmdir()
                    except OSError:
                        break

    def _lock(self) -> FolderLock | None:
        """Own the folder's manifest for the run: the `FolderLock`, if the folder takes one.

        Only a run that writes the manifest takes it. A folder that cannot be made is
        not locked: each item then fails saying why, as without the lock.
        """
        if self.manifest is None:
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        lock = FolderLock(self.folder)
        return lock if lock.acquire() else None

    def _log(self, record: ItemRecord) -> ItemRecord | None:
        """Write the manifest line; on failure, stop the manifest and report it once."""
        if record.path is not None:
            self.placed = True
        if self.manifest is None:
            return None
        try:
            if not self.placed:
                self._hold(record)
                return None
            if self.held is not None:
                held, self.held = self.held, None
                with held:
                    held.seek(0)
                    for line in held:
                        self.manifest.write_line(line.rstrip("\n"))
            self.manifest.write(record)
        except OutputError as exc:
            return self._stop_manifest(exc)
        return None

    def _hold(self, record: ItemRecord) -> None:
        """Keep a manifest line back until the run places its first image."""
        try:
            if self.held is None:
                from tempfile import SpooledTemporaryFile  # rarely needed: not at start-up

                self.held = SpooledTemporaryFile(  # noqa: SIM115 - closed by records()
                    max_size=_HELD_IN_MEMORY, mode="w+", encoding="utf-8", newline="\n"
                )
            self.held.write(record.to_json() + "\n")
        except OSError as exc:  # the temporary file spilled to a full disk
            assert self.manifest is not None
            raise OutputError(
                f"cannot keep the manifest lines back: {describe_os_error(exc)}",
                location=str(self.manifest.path),
            ) from exc

    def _stop_manifest(self, exc: OutputError) -> ItemRecord:
        assert self.manifest is not None
        self.manifest.close()
        self.manifest = None
        return ItemRecord(
            None, None, None, None, "failed", location=str(exc.location or ""), error=exc
        )

    def _save(self, unit: Unit, ready: Ready) -> ItemRecord:
        image = ready.image
        try:
            if not self.folder_ready:
                make_folder(self.folder)
                self.folder_ready = True
            stem = self._stem(unit, ready)
            path, outcome, duplicate = self._place(stem, FORMATS[ready.format].extension, ready)
        except ImgcallError as exc:
            exc.with_origin(id=image.id, location=image.location)
            return problem_record(unit, exc, image)
        return image_record(unit, ready, outcome, path, duplicate)

    def _stem(self, unit: Unit, ready: Ready) -> str:
        image = ready.image
        if self.template == "{id}":  # the default: no other field to look up
            return partial_stem(
                render_stem("{id}", {"id": image.id}, fallback=image.id), image.partial_index
            )
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

    def _place(self, stem: str, ext: str, ready: Ready) -> tuple[Path, Outcome, str | None]:
        """The file for an image, its outcome, and the name of the file it duplicates."""
        for file_name in candidate_names(stem, ext):
            key = file_name.casefold()
            owner = self.claims.get(key)
            if owner is not None:
                sha256, claimed = owner
                if sha256 == ready.sha256:
                    # An earlier item of this run saved the same bytes under this name.
                    return path_inside(self.folder, claimed), "exists", claimed
                continue  # another item of this run holds the name: never write over it
            path = path_inside(self.folder, file_name)
            staged = ready.staged.path if ready.staged is not None else None
            outcome = try_write(path, ready.data, self.on_conflict, staged=staged)
            if outcome is None:
                continue
            if outcome != "skipped":
                self.claims[key] = (ready.sha256, file_name)
            return path, outcome, None
        raise no_free_name(stem, ext)

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
- decoding, checking, hashing and conversion run on ``workers`` threads, or, with
  another ``engine``, in worker processes or on a Dask cluster (`imgcall.engines`);
  names are chosen and files written in input order on the calling thread, so a run's
  result never depends on timing or on the engine;
- a run reads its inputs as shards (`imgcall.shards`: an input, or a byte range of a
  large JSON Lines file); ``{index}`` counts across all of them. A shard's done record
  (`imgcall.shardlog`) is written after its last manifest line, and a re-run into the
  folder carries a finished shard's lines over without reading it again;
- ``out_dir`` may be a URL in object storage (`imgcall.objectstore`: each image one
  object written whole, the manifest and shard records beside them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    from .engines import Engine, ShardEnd, Streamed
    from .objectstore import ObjectPath, RemoteFolder, RemoteManifest
    from .shardlog import ShardBook
    from .shards import Shard
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
    out_dir: str | os.PathLike[str] | ObjectPath,
    *,
    name: str = "{id}",
    on_conflict: OnConflict = "error",
    convert: str | None = None,
    partials: bool = False,
    manifest: bool = True,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    workers: int | None = None,
    discover: bool = True,
    sidecar: bool = False,
    embed_metadata: bool = False,
    engine: Engine = "threads",
    scheduler: object = None,
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
    threads decode in parallel; ``discover=False`` ignores images that only the search
    by content would find (JSON of a shape imgcall does not know); ``storage_options``
    go to fsspec for URL inputs (see `iter_calls` for folders, globs and URLs). Decoding
    notes (a ``generating`` status, a declared format that disagrees with the bytes) are
    recorded in each record's ``warnings`` rather than emitted as Python warnings.

    ``sidecar=True`` writes ``NAME.json`` beside each image, holding its manifest record
    (`imgcall.sidecar`). ``embed_metadata=True`` writes the prompt and ids into each
    file (PNG iTXt, XMP for JPEG and WebP); a file that carries C2PA provenance is
    saved unchanged instead, with a warning, since writing into it would break its
    signature (`imgcall.embedding`).

    ``engine`` says where the work is done: ``"threads"`` (here, on ``workers``
    threads; 1 by default), ``"processes"`` (``workers`` processes on this machine; all
    cores by default) or ``"dask"`` (tasks on a ``dask.distributed`` cluster:
    ``scheduler`` is its address or a ``Client``, by default Dask's own configuration;
    ``pip install 'imgcall[dask]'``). Every engine gives the same files and the same
    manifest; see `imgcall.engines`. ``out_dir`` may be a URL that fsspec writes
    (``"s3://bucket/images/"``, ``pip install 'imgcall[remote]'``), configured the fsspec
    way plus ``storage_options`` (see `imgcall.objectstore`).

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
        EngineError: the engine cannot run (``dask.distributed`` missing, its scheduler
            unreachable), before any input is read.
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
        engine=engine,
        scheduler=scheduler,
        storage_options=storage_options,
    )
    where = _where(out_dir)
    report = SaveReport(out_dir=where, manifest=where / MANIFEST_NAME if manifest else None)
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
    out_dir: str | os.PathLike[str] | ObjectPath,
    *,
    name: str = "{id}",
    on_conflict: OnConflict = "error",
    convert: str | None = None,
    partials: bool = False,
    manifest: bool = True,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    workers: int | None = None,
    discover: bool = True,
    sidecar: bool = False,
    embed_metadata: bool = False,
    engine: Engine = "threads",
    scheduler: object = None,
    storage_options: Mapping[str, Any] | None = None,
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
    from .engines import Job, check_engine
    from .engines import stream as engine_stream
    from .engines.threads import run_shard
    from .objectstore import is_output_url
    from .shards import plan

    check_engine(engine)
    if workers is None:
        workers = 1 if engine == "threads" else os.cpu_count() or 1
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    remote = is_output_url(out_dir)
    run = _Run(out_dir, name, on_conflict, manifest, storage_options)
    if run.remote is not None:
        run.remote.probe()
    else:
        probe_folder(run.folder)
    if sidecar:
        from .sidecar import Sidecars

        run.sidecars = Sidecars(run.remote)
    options = Options(
        limits,
        check,
        strict_status,
        convert,
        stage_in=None if remote else run.folder,
        embed_metadata=embed_metadata,
    )
    settings: list[object] = [name, on_conflict, convert, partials, check, strict_status]
    settings += [discover, sidecar]
    settings += [embed_metadata, limits.max_bytes if limits else None]
    settings += [limits.max_pixels if limits else None]
    job = Job(
        options,
        partials,
        discover,
        workers,
        _fingerprint(settings),
        done_keys=run.done_keys,
        ship_bytes=remote,
        scheduler=scheduler,
        storage_options=storage_options,
    )
    exclude = run.folder if isinstance(run.folder, Path) else None
    shards = plan(list(sources), storage_options, exclude)
    return run.records(
        engine_stream(engine, shards, job), lambda shard, key: run_shard(shard, key, job)
    )


def _fingerprint(settings: list[object]) -> str:
    """The options that change what a run writes, as one short hash (for shard keys)."""
    from ._version import __version__

    text = json.dumps([__version__, *settings], default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _where(out_dir: str | os.PathLike[str] | ObjectPath) -> Path | ObjectPath:
    """The output folder as a `Path`, or as an `ObjectPath` for a URL."""
    from .objectstore import ObjectPath, is_output_url

    if isinstance(out_dir, ObjectPath):
        return out_dir
    if is_output_url(out_dir):
        return ObjectPath(str(out_dir))
    text = os.fspath(out_dir)
    return Path(text[7:] if text.startswith("file://") else text)


def list_images(
    sources: Iterable[object],
    *,
    partials: bool = False,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[ItemRecord]:
    """Decode and describe every item of ``sources`` without writing anything.

    The engine of ``imgcall ls``: each record has outcome ``"found"`` (with format, size
    and hash from the image) or ``"failed"`` (with the error), and no ``path``.
    """
    options = Options(limits, check, strict_status, None)
    units = scan_units(list(sources), partials, discover, storage_options)
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

    def __init__(
        self,
        out_dir: str | os.PathLike[str] | ObjectPath,
        template: str,
        on_conflict: str,
        manifest: bool,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        from .objectstore import RemoteFolder, RemoteManifest, RemoteStore
        from .shardlog import SHARDS_FOLDER, LocalStore, ShardBook

        where = _where(out_dir)
        self.template = template
        self.on_conflict = on_conflict
        self.remote: RemoteFolder | None = None
        self.manifest: Manifest | RemoteManifest | None = None
        if isinstance(where, Path):
            self.folder = where.resolve()
            if manifest:
                self.manifest = Manifest(self.folder / MANIFEST_NAME)
        else:
            self.remote = RemoteFolder(where.url, storage_options)
            self.folder = Path(os.devnull)  # never written: every write goes to `remote`
            if manifest:
                self.manifest = RemoteManifest(self.remote, MANIFEST_NAME)
        # Lower-cased file name -> (sha256, file name, shard number) of the bytes this
        # run put (or found) there.
        self.claims: dict[str, tuple[str, str, int]] = {}
        self.folder_ready = False
        # The folders this run would create, deepest first: removed again if it places
        # no image (staging may create them for an image that then fails).
        self.missing = missing_folders(self.folder) if self.remote is None else []
        self.placed = False
        # Manifest lines of the problems met before the first image (see the module
        # docstring); a run that places no image never writes them.
        self.held: SpooledTemporaryFile[str] | None = None
        self.folder_existed = self.folder.is_dir()
        self.sidecars: Sidecars | None = None
        # Shards: where the next one starts in {index}, its number, and the records.
        self.offset = 0
        self.current = 0
        self.book: ShardBook | None = None
        if manifest:
            store = (
                LocalStore(self.folder)
                if self.remote is None
                else RemoteStore(self.remote, SHARDS_FOLDER)
            )
            self.book = ShardBook(
                store,
                uses_index=_uses_index(template),
                place=self._path,
                on_disk=self._on_disk if self.remote is None else None,
            )

    def done_keys(self) -> set[str]:
        """The keys of the shards an earlier run into the folder finished."""
        return self.book.done_keys() if self.book is not None else set()

    def records(
        self,
        stream: Iterator[Streamed],
        redo: Callable[[Shard, str | None], Iterator[Streamed]],
    ) -> Generator[ItemRecord, None, None]:
        """Save each prepared unit in order and yield its record (and any manifest failure).

        ``stream`` is an engine's (`imgcall.engines`); ``redo`` reads a shard here when
        its done record turns out not to hold any more. Raises `OutputLockedError`
        before any work when another run holds the folder.
        """
        from .engines import ShardDone, ShardEnd

        lock: FolderLock | None = None
        pending: list[Iterator[Streamed]] = [stream]  # a shard read again comes first
        try:
            lock = self._lock()
            if self.remote is None:
                remove_stale_temp_files(self.folder)
            while pending:
                try:
                    unit, ready = next(pending[-1])
                except StopIteration:
                    pending.pop()
                    continue
                if isinstance(ready, ShardDone):
                    carried = self._carry(ready.shard, ready.key)
                    if carried is None:
                        pending.append(redo(ready.shard, ready.key))
                    else:
                        for record in carried:
                            failure = self._log(record, book=False)
                            yield record
                            if failure is not None:
                                yield failure
                    continue
                if isinstance(ready, ShardEnd):
                    failure = self._end_shard(ready)
                    if failure is not None:
                        yield failure
                    continue
                if unit.index is not None:
                    unit = dataclasses.replace(unit, index=self.offset + unit.index)
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
            for open_stream in pending:  # stops the workers when the caller stops early
                close = getattr(open_stream, "close", None)
                if close is not None:
                    close()
            if self.manifest is not None:
                self.manifest.close()
            if self.held is not None:
                self.held.close()
            if self.remote is None and self.placed:
                remove_stale_temp_files(self.folder)  # staged by a worker that died
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
        if self.manifest is None or self.remote is not None:
            return None  # object stores cannot hold a lock (imgcall.objectstore)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        lock = FolderLock(self.folder)
        return lock if lock.acquire() else None

    def _log(self, record: ItemRecord, *, book: bool = True) -> ItemRecord | None:
        """Write the manifest line; on failure, stop the manifest and report it once.

        ``book`` also notes the line for the current shard's done record.
        """
        if record.path is not None:
            self.placed = True
        if self.manifest is None:
            return None
        line = record.to_json()
        if book and self.book is not None:
            self.book.add(record, line)
        try:
            if not self.placed:
                self._hold(record, line)
                return None
            if self.held is not None:
                held, self.held = self.held, None
                with held:
                    held.seek(0)
                    for kept in held:
                        self.manifest.write_line(kept.rstrip("\n"))
            self.manifest.write_line(line)
        except OutputError as exc:
            return self._stop_manifest(exc)
        return None

    def _hold(self, record: ItemRecord, line: str) -> None:
        """Keep a manifest line back until the run places its first image."""
        try:
            if self.held is None:
                from tempfile import SpooledTemporaryFile  # rarely needed: not at start-up

                self.held = SpooledTemporaryFile(  # noqa: SIM115 - closed by records()
                    max_size=_HELD_IN_MEMORY, mode="w+", encoding="utf-8", newline="\n"
                )
            self.held.write(line + "\n")
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

    def _end_shard(self, mark: ShardEnd) -> ItemRecord | None:
        """A shard is out: record it as done where it qualifies (`imgcall.shardlog`)."""
        start, self.offset = self.offset, self.offset + mark.units
        self.current = mark.shard.number + 1
        if self.book is None:
            return None
        writable = self.manifest is not None and self.placed
        error = self.book.end(mark.shard, mark.key, mark.units, mark.complete, start, writable)
        if error is None:
            return None
        return ItemRecord(
            None, None, None, None, "failed", location=str(error.location), error=error
        )

    def _carry(self, shard: Shard, key: str) -> list[ItemRecord] | None:
        """The records of a shard an earlier run finished, or ``None`` to read it again."""
        assert self.book is not None
        carried = self.book.restore(shard, key, self.offset, self.claims)
        if carried is None:
            return None
        units, records = carried
        self.offset += units
        self.current = shard.number + 1
        for record in records:
            claimed = record.outcome == "exists" and record.duplicate_of is None
            if claimed and record.path is not None and record.sha256 is not None:
                name = record.path.name
                self.claims.setdefault(name.casefold(), (record.sha256, name, shard.number))
        return records

    def _path(self, file_name: str) -> Path | ObjectPath:
        """Where the run's folder keeps ``file_name``."""
        if self.remote is not None:
            return self.remote.path(file_name)
        return path_inside(self.folder, file_name)

    def _on_disk(self, record: ItemRecord) -> bool:
        """True if a carried-over record's file is still there, with its size."""
        try:
            info = os.lstat(self.folder / str(getattr(record.path, "name", "")))
        except (OSError, ValueError):
            return False
        return stat.S_ISREG(info.st_mode) and info.st_size == record.nbytes

    def _save(self, unit: Unit, ready: Ready) -> ItemRecord:
        image = ready.image
        try:
            if not self.folder_ready and self.remote is None:
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

    def _place(
        self, stem: str, ext: str, ready: Ready
    ) -> tuple[Path | ObjectPath, Outcome, str | None]:
        """The file for an image, its outcome, and the name of the file it duplicates."""
        for file_name in candidate_names(stem, ext):
            key = file_name.casefold()
            owner = self.claims.get(key)
            if owner is not None:
                sha256, claimed, shard = owner
                if shard != self.current and self.book is not None:
                    self.book.encounter(claimed, sha256)  # an earlier shard's name
                if sha256 == ready.sha256:
                    # An earlier item of this run saved the same bytes under this name.
                    return self._path(claimed), "exists", claimed
                continue  # another item of this run holds the name: never write over it
            path = self._path(file_name)
            outcome: Outcome | None
            if self.remote is not None:
                outcome = self.remote.try_write(file_name, ready.data, self.on_conflict)
            else:
                assert isinstance(path, Path)
                staged = ready.staged.path if ready.staged is not None else None
                outcome = try_write(path, ready.data, self.on_conflict, staged=staged)
            if outcome is None:
                continue
            if outcome != "skipped":
                self.claims[key] = (ready.sha256, file_name, self.current)
            return path, outcome, None
        raise no_free_name(stem, ext)


def _uses_index(template: str) -> bool:
    """True if a name template has the ``{index}`` field (``{{index}}`` counts too: a
    record is then checked more, never less; `string` is not imported at start-up)."""
    return re.search(r"\{index[:!}]", template) is not None

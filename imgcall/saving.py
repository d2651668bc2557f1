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
  object written whole, several at once (`imgcall.putahead`), the manifest and shard
  records beside them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _accel
from .manifest import MANIFEST_NAME
from .naming import (
    TEMPLATE_FIELDS,
    check_template,
    safe_stem,
)
from .pipeline import (
    Input,
    Options,
    Ready,
    as_sources,
    prepared,
    scan_units,
)
from .records import (
    ItemRecord,
    Outcome,
    SaveReport,
    image_record,
    problem_record,
)
from .saverun import Run, out_location
from .tempfiles import TEMP_SUFFIX, remove_stale_temp_files
from .writing import (
    OnConflict,
    SaveResult,
    check_convert,
    check_policy,
    probe_folder,
    save_image,
    write_file,
)

if TYPE_CHECKING:
    from .decoding import Check, Limits
    from .engines import Engine
    from .objectstore import ObjectPath

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
    where = out_location(out_dir)
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
    run = Run(out_dir, name, on_conflict, manifest, storage_options)
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
    # The threads engine reads ranges in order: each continues the line count of the last.
    shards = plan(list(sources), storage_options, exclude, number_lines=engine != "threads")
    return run.records(
        engine_stream(engine, shards, job), lambda shard, key: run_shard(shard, key, job)
    )


def _fingerprint(settings: list[object]) -> str:
    """The options that change what a run writes, as one short hash (for shard keys)."""
    from ._version import __version__

    text = json.dumps([__version__, *settings], default=str)
    return _accel.sha256(text.encode("utf-8")).hexdigest()[:16]


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

"""One run of `imgcall.save_images`: its output folder, manifest, lock and done records,
and the placing of each image in input order.

`Run` is what `imgcall.saving` drives: it owns the folder while the run goes (the lock,
stale temporary files, the folder made only once an image is placed), names each image
and writes it under the conflict policy, writes a manifest line per item (holding back
the problems met before the first image), and carries finished shards over from an
earlier run. The promises it keeps are listed in `imgcall.saving`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._interrupt import shielded
from .errors import ImgcallError, OutputError
from .folderlock import FolderLock
from .formats import FORMATS
from .manifest import MANIFEST_NAME, Manifest
from .naming import (
    candidate_names,
    no_free_name,
    partial_stem,
    path_inside,
    render_stem,
)
from .pipeline import (
    Ready,
    Unit,
)
from .records import (
    ItemRecord,
    Outcome,
    context_text,
    image_record,
    problem_record,
)
from .tempfiles import remove_stale_temp_files
from .writing import describe_os_error, make_folder, missing_folders, try_write

if TYPE_CHECKING:
    from tempfile import SpooledTemporaryFile

    from .engines import ShardEnd, Streamed
    from .objectstore import ObjectPath, RemoteFolder, RemoteManifest
    from .putahead import Done, PutAhead
    from .shardlog import ShardBook
    from .shards import Shard
    from .sidecar import Sidecars

# Problems held back before a run's first image stay in memory up to this many bytes of
# manifest lines, then go to a temporary file: a batch that fails for its first 50,000
# lines costs no memory.
_HELD_IN_MEMORY = 1 << 20


__all__ = ["Run", "out_location"]

# A unit in the window of writes: its unit, its prepared image, and its record when that
# was known without a write (the same bytes under a name this run holds, a bad name).
_Item = tuple["Unit", "Ready", "ItemRecord | None"]


def out_location(out_dir: str | os.PathLike[str] | ObjectPath) -> Path | ObjectPath:
    """The output folder as a `Path`, or as an `ObjectPath` for a URL."""
    from .objectstore import ObjectPath, is_output_url

    if isinstance(out_dir, ObjectPath):
        return out_dir
    if is_output_url(out_dir):
        return ObjectPath(str(out_dir))
    text = os.fspath(out_dir)
    return Path(text[7:] if text.startswith("file://") else text)


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


class Run:
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

        where = out_location(out_dir)
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
        # Object storage: several images put at once, recorded in order (imgcall.putahead).
        self.ahead: PutAhead[_Item] | None = None
        if self.remote is not None and on_conflict != "rename":
            from . import putahead

            if putahead.WINDOW > 1:  # read at each run: 1 writes one image at a time
                remote, policy = self.remote, on_conflict
                self.ahead = putahead.PutAhead(
                    lambda name, data: remote.try_write(name, data, policy),
                    window=putahead.WINDOW,
                )
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
                if self.ahead is not None:
                    if isinstance(ready, Ready):
                        unit = unit.shifted(self.offset)
                        yield from self._put_ahead(unit, ready)
                        continue
                    yield from self._settle()  # what comes next is recorded after them
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
                unit = unit.shifted(self.offset)
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
            if self.ahead is not None:
                yield from self._settle()
        finally:
            if self.ahead is not None:
                while len(self.ahead):  # the caller stopped: record what was written
                    with shielded():
                        self._finish(self.ahead.pop())
                self.ahead.close()
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

    def _put_ahead(self, unit: Unit, ready: Ready) -> Iterator[ItemRecord]:
        """`_save` for a window of writes: decide the name now, write it on the pool.

        Yields the records of earlier images whose writes had to finish first: the
        window's oldest when it is full, and the one holding a name this image wants.
        """
        assert self.ahead is not None
        image = ready.image
        try:
            stem = self._stem(unit, ready)
        except ImgcallError as exc:
            exc.with_origin(id=image.id, location=image.location)
            self.ahead.add((unit, ready, problem_record(unit, exc, image)))
            return
        ext = FORMATS[ready.format].extension
        for file_name in candidate_names(stem, ext):
            key = file_name.casefold()
            if self.ahead.holds(key):  # its answer decides what this image does
                yield from self._settle(until=key)
            owner = self.claims.get(key)
            if owner is not None:
                sha256, claimed, shard = owner
                if shard != self.current and self.book is not None:
                    self.book.encounter(claimed, sha256)
                if sha256 == ready.sha256:
                    record = image_record(unit, ready, "exists", self._path(claimed), claimed)
                    self.ahead.add((unit, ready, record))
                    return
                continue
            try:
                self._path(file_name)  # a plain name, or OutputError
            except ImgcallError as exc:
                exc.with_origin(id=image.id, location=image.location)
                self.ahead.add((unit, ready, problem_record(unit, exc, image)))
                return
            while self.ahead.full(len(ready.data)):
                yield from self._settle(count=1)
            self.ahead.put((unit, ready, None), file_name, key, ready.data)
            return
        error = no_free_name(stem, ext)
        error.with_origin(id=image.id, location=image.location)
        self.ahead.add((unit, ready, problem_record(unit, error, image)))

    def _settle(
        self, *, until: str | None = None, count: int | None = None
    ) -> Iterator[ItemRecord]:
        """Record the window's writes in order: all, ``count`` of them, or up to and
        including the one that holds the name ``until``."""
        assert self.ahead is not None
        while len(self.ahead) and count != 0:
            with shielded():  # the write is finished and its line written, or neither
                record, failure = self._finish(self.ahead.pop())
            yield record
            if failure is not None:
                yield failure
            if count is not None:
                count -= 1
            if until is not None and not self.ahead.holds(until):
                return

    def _finish(self, done: Done[_Item]) -> tuple[ItemRecord, ItemRecord | None]:
        """The record of one write out of the window, written to the manifest."""
        unit, ready, known = done.item
        try:
            if known is not None:
                record = known
            elif done.error is not None:
                if not isinstance(done.error, ImgcallError):
                    raise done.error
                done.error.with_origin(id=ready.image.id, location=ready.image.location)
                record = problem_record(unit, done.error, ready.image)
            else:
                assert done.file_name is not None and done.outcome is not None
                if done.outcome != "skipped":
                    key = done.file_name.casefold()
                    self.claims[key] = (ready.sha256, done.file_name, self.current)
                path = self._path(done.file_name)
                record = image_record(unit, ready, done.outcome, path, None)
        finally:
            ready.release()
        if self.sidecars is not None:
            record = self.sidecars.write(record)
        return record, self._log(record)

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

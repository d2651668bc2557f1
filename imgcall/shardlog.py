"""Done records: how a run knows which shards an earlier run into the folder finished.

When a shard's last item has been written and its manifest lines flushed, the run
writes ``.imgcall-shards/<key>.jsonl`` in the output folder (like img2dataset's
``_stats.json``): a header line (input, byte range, number of items, where the shard's
``{index}`` started, the names it had to step around), then the shard's manifest
lines. The key (`imgcall.shards.shard_key`) is a hash of the input's name and identity
(path, size, modification time; a URL's size and ETag), the byte range and every
option that changes what is written, so a changed input or other options never match
an old record. The record is written last, whole (a temporary file renamed into place,
or one object PUT), so its presence means the shard is done.

A re-run skips a shard whose record is there without reading its input: its manifest
lines are carried over (``saved`` becoming ``exists``, as a re-run that read the input
again would say) and its names are claimed again, so later shards resolve clashes
exactly as before. The record is used only while it still describes what is on disk:
its files are there with their sizes (checked with one ``lstat`` each in a local
folder), no earlier shard of this run now holds one of its names, the names it stepped
around are still held with the same bytes, and, for a template with ``{index}``, it
starts at the same position. Otherwise the shard is simply read again.

A shard is recorded only if it was read to its end, none of its items failed to be
written (a full disk or a clash under ``on_conflict="error"`` may be gone next time),
and the run has read at least `RECORD_MIN_BYTES` of input so far: a small run is
quicker to read again than to keep records for, and its folder stays just the images
and the manifest.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from . import errors as _errors
from .errors import ImgcallError, OutputError
from .records import ItemRecord
from .shards import SHARD_BYTES, Shard
from .tempfiles import remove_stale_temp_files, temp_path
from .writing import describe_os_error

__all__ = [
    "RECORD_MIN_BYTES",
    "SHARDS_FOLDER",
    "LocalStore",
    "ShardBook",
    "Store",
    "record_from_dict",
]

SHARDS_FOLDER = ".imgcall-shards"
"""The hidden folder of the output folder that holds the done records."""
RECORD_MIN_BYTES = SHARD_BYTES
"""Input bytes a run must have read before its shards are recorded."""
_HEADER = "imgcall_shard"
_SUFFIX = ".jsonl"


class Store(Protocol):
    """Where done records live: a local folder, or a prefix in object storage."""

    def keys(self) -> set[str]:
        """The keys of every record there."""

    def read(self, key: str) -> list[str] | None:
        """The lines of one record, or ``None`` if it cannot be read."""

    def write(self, key: str, text: str) -> None:
        """Put one record, whole; `OutputError` if it cannot be written."""


class LocalStore:
    """Done records in ``folder/.imgcall-shards/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / SHARDS_FOLDER
        remove_stale_temp_files(self.folder)  # a record cut off by a crash

    def keys(self) -> set[str]:
        """The keys of every record in the folder (none if it does not exist)."""
        try:
            names = os.listdir(self.folder)
        except OSError:
            return set()
        return {n[: -len(_SUFFIX)] for n in names if n.endswith(_SUFFIX) and not n.startswith(".")}

    def read(self, key: str) -> list[str] | None:
        """The lines of one record; ``None`` if it is not a regular file or unreadable."""
        path = self.folder / (key + _SUFFIX)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
            with os.fdopen(fd, "rb") as file:
                return file.read().decode("utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return None

    def write(self, key: str, text: str) -> None:
        """Write the record to a temporary file, then rename it into place."""
        try:
            self.folder.mkdir(exist_ok=True)
            tmp = temp_path(self.folder)
            try:
                with open(tmp, "xb") as file:
                    file.write(text.encode("utf-8"))
                os.replace(tmp, self.folder / (key + _SUFFIX))
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        except OSError as exc:
            raise OutputError(
                f"cannot write the shard record {key}: {describe_os_error(exc)}",
                location=str(self.folder),
            ) from exc


def record_from_dict(data: dict[str, Any]) -> ItemRecord:
    """The `ItemRecord` of a manifest line (`ItemRecord.to_dict` read back)."""
    error: ImgcallError | None = None
    if data.get("error") is not None:
        kind = getattr(_errors, str(data.get("error_type")), None)
        cls = kind if isinstance(kind, type) and issubclass(kind, ImgcallError) else ImgcallError
        error = cls(
            str(data["error"]),
            id=data.get("id"),
            location=data.get("location"),
            code=data.get("error_code"),
        )
    path = data.get("path")
    return ItemRecord(
        index=data.get("index"),
        input=data.get("input"),
        id=data.get("id"),
        status=data.get("status"),
        outcome=data["outcome"],
        path=Path(path) if isinstance(path, str) and "://" not in path else _object(path),
        format=data.get("format"),
        width=data.get("width"),
        height=data.get("height"),
        nbytes=data.get("bytes"),
        sha256=data.get("sha256"),
        location=data.get("location"),
        custom_id=data.get("custom_id"),
        response_id=data.get("response_id"),
        revised_prompt=data.get("revised_prompt"),
        partial=bool(data.get("partial")),
        partial_index=data.get("partial_index"),
        converted_from=data.get("converted_from"),
        note=data.get("note"),
        warnings=tuple(data.get("warnings") or ()),
        error=error,
        duplicate_of=data.get("duplicate_of"),
        c2pa=data.get("c2pa"),
    )


def _object(path: object) -> Any:
    if not isinstance(path, str):
        return None
    from .objectstore import ObjectPath

    return ObjectPath(path)


# Names a shard had to step around (held by an earlier shard of the run), with the hash
# of the bytes there: (file name, sha256).
Encounter = tuple[str, str]


class ShardBook:
    """The shard bookkeeping of one run: what to skip, what to record.

    ``place`` maps a file name to where the run's folder keeps it (a `Path`, or an
    `imgcall.objectstore.ObjectPath`); ``on_disk`` says whether a carried-over record's
    file is still there (``None``: not checked, as in object storage).
    """

    def __init__(
        self,
        store: Store,
        *,
        uses_index: bool,
        place: Callable[[str], Any],
        on_disk: Callable[[ItemRecord], bool] | None,
    ) -> None:
        self.store = store
        self.uses_index = uses_index
        self.place = place
        self.on_disk = on_disk
        self._done: set[str] | None = None
        self.read_bytes = 0
        self.lines: list[str] = []
        self.encounters: list[Encounter] = []
        self.unwritten = False  # an item of the current shard failed to be written
        self.skipped = 0
        """Shards carried over from an earlier run (not read)."""

    def done_keys(self) -> set[str]:
        """The keys of the records in the folder, listed once per run."""
        if self._done is None:
            self._done = self.store.keys()
        return self._done

    def add(self, record: ItemRecord, line: str) -> None:
        """Note one record of the current shard (its manifest line)."""
        self.lines.append(line)
        if isinstance(record.error, (OutputError, _errors.OutputExistsError)):
            self.unwritten = True

    def encounter(self, name: str, sha256: str) -> None:
        """The current shard stepped around ``name``, held by an earlier shard."""
        self.encounters.append((name, sha256))

    def end(
        self,
        shard: Shard,
        key: str | None,
        units: int,
        complete: bool,
        index_start: int,
        writable: bool,
    ) -> OutputError | None:
        """The current shard ended: write its record if it qualifies; the error, if any."""
        lines, encounters, unwritten = self.lines, self.encounters, self.unwritten
        self.lines, self.encounters, self.unwritten = [], [], False
        self.read_bytes += shard.size
        if key is None or not complete or unwritten or not writable:
            return None
        if self.read_bytes < RECORD_MIN_BYTES:
            return None
        header = {
            _HEADER: 1,
            "input": shard.label,
            "start": shard.start,
            "end": shard.end,
            "units": units,
            "index_start": index_start,
            "records": len(lines),
            "encounters": encounters,
        }
        text = "\n".join([json.dumps(header, ensure_ascii=False), *lines]) + "\n"
        try:
            self.store.write(key, text)
        except OutputError as exc:
            return exc
        return None

    def restore(
        self, shard: Shard, key: str, offset: int, claims: dict[str, tuple[str, str, int]]
    ) -> tuple[int, list[ItemRecord]] | None:
        """The records of a finished shard, as this run reports them, and its item count.

        ``None`` when the record no longer describes what is there (see the module):
        the shard is then read again.
        """
        lines = self.store.read(key)
        if not lines:
            return None
        try:
            header = json.loads(lines[0])
            if header.get(_HEADER) != 1 or header["records"] != len(lines) - 1:
                return None
            units, start = int(header["units"]), int(header["index_start"])
            rows = [json.loads(line) for line in lines[1:]]
            records = [self._carried(row, start, offset) for row in rows]
            encounters = [(str(name), str(sha)) for name, sha in header["encounters"]]
        except (ValueError, KeyError, TypeError):
            return None
        if self.uses_index and start != offset:
            return None
        for name, sha in encounters:
            owner = claims.get(name.casefold())
            if owner is None or owner[0] != sha:
                return None
        for record in records:
            if record.path is None or record.outcome == "skipped":
                continue
            owner = claims.get(record.path.name.casefold())
            if owner is not None and owner[0] != record.sha256 and owner[2] != shard.number:
                return None
            if self.on_disk is not None and not self.on_disk(record):
                return None
        self.read_bytes += shard.size
        self.skipped += 1
        return units, records

    def _carried(self, row: dict[str, Any], start: int, offset: int) -> ItemRecord:
        """A manifest line of an earlier run as this run reports it."""
        if row.get("index") is not None:
            row["index"] = int(row["index"]) - start + offset
        if row.get("outcome") in ("saved", "overwritten"):
            row["outcome"] = "exists"  # the file is there: this run wrote nothing
        if isinstance(row.get("path"), str):
            row["path"] = str(self.place(_basename(row["path"])))
        return record_from_dict(row)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def iter_lines(records: list[ItemRecord]) -> Iterator[str]:
    """The manifest lines of ``records``."""
    for record in records:
        yield record.to_json()

"""A shard's work away from the run: what a worker process or a Dask task runs.

`prepare_shard` reads and prepares one shard like the ``threads`` engine does, then
makes each result portable: an image is staged as a temporary file in the output
folder (where the pipeline has not staged it already) and described by a `Shipped`
(everything the run needs to name, place and record it, without its bytes), or, for an
output in object storage, shipped with its bytes. Items and problems lose what they
hold of the input buffer (`LazyText` values, the parsed item), which cannot cross a
process boundary and is not needed to report them.

`rebuild` turns a `Shipped` back into the `Ready` the run writes, mapping the staged
file; `discard` removes the staged file of one the run will not write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from ..errors import ImgcallError, Problem
from ..image import DecodedImage
from ..items import Item
from ..lazytext import materialized
from ..pipeline import Options, Prepared, Ready, Unit, prepared
from ..shards import Shard, shard_units
from ..staging import StagedFile
from ..tempfiles import ANONYMOUS_PREFIX, link_anonymous, temp_path

__all__ = [
    "Shipped",
    "WorkSpec",
    "ShardResult",
    "discard",
    "ignore_sigint",
    "prepare_shard",
    "rebuild",
]


@dataclass(frozen=True)
class WorkSpec:
    """The options a worker needs for every shard of a run."""

    options: Options
    partials: bool
    discover: bool
    ship_bytes: bool
    storage_options: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Shipped:
    """A prepared image as it crosses to the run: staged on disk, or with its bytes."""

    image: DecodedImage
    """The image without its bytes (``data`` is empty; hash and C2PA already known)."""
    format: str
    sha256: str
    notes: tuple[str, ...]
    same_bytes: bool
    """The bytes to write are the decoded ones (not converted or embedded into)."""
    staged: str | None = None
    data: bytes | None = None


Portable = Union[Shipped, Problem, ImgcallError]


@dataclass(frozen=True)
class ShardResult:
    """Everything one shard gave: its units in order, and how it ended."""

    units: list[tuple[Unit, Portable]]
    count: int
    complete: bool


def ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the run's to handle (it finishes the file it is
    writing, then stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def prepare_shard(shard: Shard, spec: WorkSpec) -> ShardResult:
    """Read, decode, check, hash and stage every image of ``shard`` (see the module)."""
    units: list[tuple[Unit, Portable]] = []
    count, complete = 0, True
    pairs = prepared(
        shard_units(shard, spec.partials, spec.discover, spec.storage_options), spec.options, 1
    )
    try:
        for unit, ready in pairs:
            if unit.index is None:
                complete = False
            else:
                count = unit.index + 1
            units.append((_light_unit(unit), _portable(ready, spec)))
    except BaseException:
        for _, done in units:
            discard(done)
        raise
    finally:
        pairs.close()
    return ShardResult(units, count, complete)


def _portable(ready: Prepared, spec: WorkSpec) -> Portable:
    if isinstance(ready, Problem):
        return dataclasses.replace(ready, context=_plain(ready.context))
    if not isinstance(ready, Ready):
        return ready
    try:
        image = ready.image
        c2pa, sha256 = image.c2pa, ready.sha256  # both read the bytes: before they go
        light = dataclasses.replace(image, data=b"", context=_plain(image.context))
        light.__dict__.update(c2pa=c2pa, sha256=sha256)  # cached_property values
        same = ready.data is image.data
        if spec.ship_bytes:
            return Shipped(light, ready.format, sha256, ready.notes, same, data=bytes(ready.data))
        if ready.staged is not None and not _anonymous(ready.staged.path):
            path = ready.staged.path
            ready.staged.data.close()  # the run links the file, then removes it
            ready = ready._replace(staged=None)
        elif ready.staged is not None:
            # An anonymous file (O_TMPFILE) is this process's alone: name it for the run.
            assert spec.options.stage_in is not None
            path = _name(ready.staged, spec.options.stage_in, ready.data)
        else:
            assert spec.options.stage_in is not None
            path = _stage(spec.options.stage_in, ready.data)
        return Shipped(light, ready.format, sha256, ready.notes, same, staged=str(path))
    finally:
        ready.release()


def _anonymous(path: Path) -> bool:
    return str(path).startswith(ANONYMOUS_PREFIX)


def _name(staged: StagedFile, folder: Path, data: Any) -> Path:
    """A temporary name in ``folder`` for the anonymous ``staged`` file (linked, or
    written out where this file system cannot link it)."""
    fd = int(str(staged.path)[len(ANONYMOUS_PREFIX) :])
    for _ in range(3):
        path = temp_path(folder)
        linked = link_anonymous(fd, path)
        if linked:
            return path
        if linked is None:
            break
    return _stage(folder, bytes(data))


def _stage(folder: Path, data: bytes) -> Path:
    """Write ``data`` to a new temporary file in ``folder`` (it carries our pid)."""
    path = temp_path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as file:
        file.write(data)
    return path


def _plain(context: Mapping[str, Any]) -> dict[str, Any]:
    plain = materialized(dict(context))
    assert isinstance(plain, dict)
    return plain


def _light_unit(unit: Unit) -> Unit:
    """``unit`` without the input buffer: an item keeps only how it is reported."""
    found = unit.found
    if isinstance(found, Item):
        light = Item({}, found.id, str(found.status), None, {})
        light.with_origin(found.location, _plain(found.context), found.partial_index)
        found = light
    elif isinstance(found, Problem):
        found = dataclasses.replace(found, context=_plain(found.context))
    return unit.with_found(found)


def rebuild(shipped: Portable) -> Prepared:
    """The `Ready` to write for a shipped image (problems come back as they are)."""
    if not isinstance(shipped, Shipped):
        return shipped
    staged: StagedFile | None = None
    if shipped.staged is not None:
        path = Path(shipped.staged)
        with open(path, "rb") as file:
            data: Any = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        staged = StagedFile(path, data)
    else:
        assert shipped.data is not None
        data = shipped.data
    image = shipped.image
    if shipped.same_bytes:
        object.__setattr__(image, "data", data)  # our own copy: frozen only for users
    return Ready(image, data, shipped.format, shipped.sha256, staged, shipped.notes)


def discard(shipped: object) -> None:
    """Remove the staged file of a shipped image that will not be written."""
    if isinstance(shipped, Shipped) and shipped.staged is not None:
        with contextlib.suppress(OSError):
            os.unlink(shipped.staged)

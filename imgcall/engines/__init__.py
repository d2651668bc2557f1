"""Engines: where the shards of a run are read and decoded (SPEC §7, §9).

One module per engine, registered in `ENGINES`:

- `imgcall.engines.threads` (``"threads"``, the default): in the calling process, with
  ``workers`` threads decoding;
- `imgcall.engines.processes` (``"processes"``): ``workers`` processes on this machine,
  one shard at a time each;
- `imgcall.engines.dask` (``"dask"``): tasks on a ``dask.distributed`` cluster
  (``pip install 'imgcall[dask]'``), one per shard, retried when a worker is lost.

Every engine does the same work on the same shards (`imgcall.shards.plan`): scan,
decode, check and hash each image, and stage it as a temporary file in the output
folder (or, for an output in object storage, send its bytes back). The run in the
calling process (`imgcall.saving`) then names, places and records every image in input
order, one shard after the other, whichever engine prepared it and whenever it
finished. That is why every engine gives the same files, the same bytes and the same
manifest lines: names (``{index}``, ``-1`` suffixes for clashes, duplicates) are
decided in one place, in one order, and never depend on timing.

An engine's `stream` yields, shard by shard, ``(Unit, Prepared)`` pairs with indexes
counted from 0 within the shard, each shard followed by a `ShardEnd`; a shard that an
earlier run finished is one `ShardDone` instead (not read).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Union

from ..pipeline import Options, Prepared, Unit

if TYPE_CHECKING:
    from ..shards import Shard

__all__ = ["ENGINES", "Engine", "Job", "Mark", "ShardDone", "ShardEnd", "Streamed", "stream"]

Engine = Literal["threads", "processes", "dask"]

ENGINES: dict[str, str] = {
    "threads": "imgcall.engines.threads",
    "processes": "imgcall.engines.processes",
    "dask": "imgcall.engines.dask",
}
"""Engine name -> the module that runs it (each has a ``stream(shards, job)``)."""


class ShardEnd(NamedTuple):
    """The shard's units are all out: ``units`` items, read to the end if ``complete``."""

    shard: Shard
    key: str | None
    units: int
    complete: bool


class ShardDone(NamedTuple):
    """A shard an earlier run finished (its record is there): not read again."""

    shard: Shard
    key: str


Mark = Union[ShardEnd, ShardDone]
Streamed = tuple[Unit, Union[Prepared, Mark]]


@dataclass
class Job:
    """What every engine needs to prepare a run's shards."""

    options: Options
    partials: bool
    discover: bool
    workers: int
    fingerprint: str
    done_keys: Callable[[], set[str]] = field(default=set)
    """The keys of the shards an earlier run finished (asked once the folder is owned)."""
    ship_bytes: bool = False
    """Send each image's bytes back instead of staging it (an output in object storage)."""
    scheduler: object = None
    """The Dask scheduler: an address, a ``distributed.Client``, or None (Dask's config)."""
    storage_options: Mapping[str, Any] | None = None
    """fsspec options for inputs that are URLs (``--storage-option``)."""


def check_engine(engine: str) -> None:
    """Raise ``ValueError`` unless ``engine`` is a registered engine."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")


def stream(engine: str, shards: Iterator[Shard], job: Job) -> Iterator[Streamed]:
    """Prepare ``shards`` with ``engine``; see the module docstring for what comes out."""
    check_engine(engine)
    module = importlib.import_module(ENGINES[engine])
    result: Iterator[Streamed] = module.stream(shards, job)
    return result

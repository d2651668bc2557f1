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
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Union

from .._slotted import Slotted
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


class Job(Slotted):
    """What every engine needs to prepare a run's shards.

    ``done_keys`` gives the keys of the shards an earlier run finished (asked once the
    folder is owned); ``ship_bytes`` sends each image's bytes back instead of staging
    it (an output in object storage); ``scheduler`` is the Dask scheduler (an address,
    a ``distributed.Client``, or None for Dask's configuration); ``storage_options``
    are the fsspec options for inputs that are URLs (``--storage-option``).
    """

    __slots__ = (
        "discover",
        "done_keys",
        "fingerprint",
        "options",
        "partials",
        "scheduler",
        "ship_bytes",
        "storage_options",
        "workers",
    )
    __match_args__ = (
        "options",
        "partials",
        "discover",
        "workers",
        "fingerprint",
        "done_keys",
        "ship_bytes",
        "scheduler",
        "storage_options",
    )

    def __init__(
        self,
        options: Options,
        partials: bool,
        discover: bool,
        workers: int,
        fingerprint: str,
        done_keys: Callable[[], set[str]] = set,
        ship_bytes: bool = False,
        scheduler: object = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.options = options
        self.partials = partials
        self.discover = discover
        self.workers = workers
        self.fingerprint = fingerprint
        self.done_keys = done_keys
        self.ship_bytes = ship_bytes
        self.scheduler = scheduler
        self.storage_options = storage_options


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

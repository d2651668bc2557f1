"""The ``threads`` engine: every shard in the calling process, one after the other.

This is the run as it always was: ``workers`` threads decode, check and hash while the
calling thread writes (`imgcall.pipeline.prepared`), with shards read in order. The
other engines also use `run_shard` for shards they cannot send elsewhere (standard
input, a file object, a value in memory).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import ImgcallError
from ..pipeline import Unit, prepared
from ..shards import Shard, shard_key, shard_units
from . import Job, ShardDone, ShardEnd, Streamed

__all__ = ["mark_unit", "run_shard", "stream"]

# A mark's unit holds no item; the run looks at the mark, never at this.
_NO_ITEM = ImgcallError("a shard mark, not an item")


def stream(shards: Iterator[Shard], job: Job) -> Iterator[Streamed]:
    """Each shard's prepared units in order, then its `ShardEnd` (or one `ShardDone`)."""
    done = job.done_keys()
    for shard in shards:
        key = shard_key(shard, job.fingerprint)
        if key is not None and key in done:
            yield mark_unit(shard), ShardDone(shard, key)
            continue
        yield from run_shard(shard, key, job)


def run_shard(shard: Shard, key: str | None, job: Job) -> Iterator[Streamed]:
    """Read and prepare one shard here, on ``job.workers`` threads."""
    counted = _Counted(shard_units(shard, job.partials, job.discover, job.storage_options))
    with contextlib.closing(prepared(iter(counted), job.options, job.workers)) as pairs:
        yield from pairs
    yield mark_unit(shard), ShardEnd(shard, key, counted.units, counted.complete)


def mark_unit(shard: Shard) -> Unit:
    """The unit that carries a shard's mark (it is no item: no index)."""
    return Unit(None, shard.label, shard.stem, _NO_ITEM)


class _Counted:
    """The units of a shard, counting its items and noting an input that broke off."""

    def __init__(self, units: Iterator[Unit]) -> None:
        self._units = units
        self.units = 0
        self.complete = True

    def __iter__(self) -> Iterator[Unit]:
        for unit in self._units:
            if unit.index is None:
                self.complete = False
            else:
                self.units = unit.index + 1
            yield unit

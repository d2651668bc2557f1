"""Shards prepared elsewhere, handed to the run in input order (processes and Dask).

`ordered` keeps a window of shards in flight (at most twice the workers), submits each
shippable shard as soon as it is planned, and hands each shard's units to the run in
input order as its result comes in, so the run writes while later shards are still
being prepared. A shard that cannot be shipped (standard input, a file object, a
value) is prepared here, at its turn; one that an earlier run finished is a
`ShardDone`. If the run stops early, shards not yet handed over are cancelled and their
staged files removed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..shards import Shard, shard_key
from . import Job, ShardDone, ShardEnd, Streamed
from ._work import ShardResult, WorkSpec, discard, rebuild
from .threads import mark_unit, run_shard

__all__ = ["ordered", "work_spec"]

Submit = Callable[[Shard, WorkSpec], Any]
"""Start preparing a shard elsewhere; returns a handle for ``collect``."""
Collect = Callable[[Any, Shard], ShardResult | None]
"""Wait for a shard's result; ``None`` when it must be prepared here instead."""


def work_spec(job: Job) -> WorkSpec:
    """The options every worker of ``job`` needs."""
    return WorkSpec(job.options, job.partials, job.discover, job.ship_bytes, job.storage_options)


def ordered(
    shards: Iterator[Shard],
    job: Job,
    submit: Submit,
    collect: Collect,
    cancel: Callable[[Any], None],
) -> Iterator[Streamed]:
    """The streamed units of ``shards`` in input order (see the module)."""
    spec = work_spec(job)
    done = job.done_keys()
    window: deque[tuple[Shard, str | None, Any]] = deque()
    limit = 2 * max(1, job.workers)
    try:
        for shard in shards:
            key = shard_key(shard, job.fingerprint)
            if key is not None and key in done:
                window.append((shard, key, _DONE))
            elif shard.shippable:
                window.append((shard, key, submit(shard, spec)))
            else:
                window.append((shard, key, _HERE))
            while len(window) >= limit:
                yield from _settle(window.popleft(), job, collect)
        while window:
            yield from _settle(window.popleft(), job, collect)
    finally:
        for _, _, handle in window:
            if handle is not _DONE and handle is not _HERE:
                cancel(handle)


def _settle(entry: tuple[Shard, str | None, Any], job: Job, collect: Collect) -> Iterator[Streamed]:
    shard, key, handle = entry
    if handle is _DONE:
        assert key is not None
        yield mark_unit(shard), ShardDone(shard, key)
        return
    result = None if handle is _HERE else collect(handle, shard)
    if result is None:
        yield from run_shard(shard, key, job)
        return
    units = iter(result.units)
    try:
        for unit, shipped in units:
            yield unit, rebuild(shipped)
    finally:
        for _, shipped in units:  # the run stopped inside this shard
            discard(shipped)
    yield mark_unit(shard), ShardEnd(shard, key, result.count, result.complete)


_DONE = object()
_HERE = object()

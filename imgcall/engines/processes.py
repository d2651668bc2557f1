"""The ``processes`` engine: ``workers`` processes on this machine, a shard each.

Each worker reads, decodes, checks, hashes and stages whole shards
(`imgcall.engines._work.prepare_shard`); the run in this process names and places the
images in order (`imgcall.engines._ordered`). Workers ignore Ctrl-C: the run finishes
the file it is writing, then stops them. Workers are forked when this process runs no
other thread (cheap, and imgcall is already imported), else started by a fork server.
A worker that dies (the pool breaks) costs nothing but time: its shard, and every shard
still waiting, is prepared in this process instead, with the same result.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..shards import Shard
from . import Job, Streamed
from ._ordered import ordered
from ._work import ShardResult, WorkSpec, discard, ignore_sigint, prepare_shard

__all__ = ["stream"]


def stream(shards: Iterator[Shard], job: Job) -> Iterator[Streamed]:
    """Each shard's prepared units in order, prepared by worker processes."""
    method = "fork" if threading.active_count() == 1 else "forkserver"
    if method not in multiprocessing.get_all_start_methods():
        method = "spawn"
    context = multiprocessing.get_context(method)
    pool = ProcessPoolExecutor(job.workers, mp_context=context, initializer=ignore_sigint)

    def submit(shard: Shard, spec: WorkSpec) -> Future[ShardResult]:
        return pool.submit(prepare_shard, shard, spec)

    def collect(future: Future[ShardResult], shard: Shard) -> ShardResult | None:
        try:
            return future.result()
        except BrokenProcessPool:
            return None  # a worker died: prepare this shard here

    def cancel(future: Future[ShardResult]) -> None:
        if not future.cancel():
            future.add_done_callback(_discard_result)

    try:
        yield from ordered(shards, job, submit, collect, cancel)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _discard_result(future: Future[ShardResult]) -> None:
    with contextlib.suppress(BaseException):
        for _, shipped in future.result().units:
            discard(shipped)

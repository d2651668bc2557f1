"""The ``dask`` engine: one ``dask.distributed`` task per shard (``imgcall[dask]``).

The scheduler is ``job.scheduler``: an address (``tcp://host:8786``), a
``distributed.Client`` the caller already has, or ``None`` for Dask's own
configuration (``DASK_SCHEDULER_ADDRESS``, ``~/.config/dask/``; with nothing
configured, a local cluster on this machine). Each task runs
`imgcall.engines._work.prepare_shard`; results come back as they finish and are
handed to the run in input order (`imgcall.engines._ordered`). A worker that is lost
mid-task is the scheduler's to handle: it runs the task again on another worker
(``distributed.scheduler.allowed-failures``); a task that fails for another reason is
retried twice, then its shard is prepared in this process.

Workers stage images in the output folder, so with a local output folder they must
share its file system (the same machine, or a shared mount); with an output in object
storage each image's bytes come back with the result and this process writes them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from ..errors import EngineError
from ..shards import Shard
from . import Job, Streamed
from ._ordered import ordered
from ._work import ShardResult, WorkSpec, discard, prepare_shard

__all__ = ["RETRIES", "stream"]

RETRIES = 2
"""Times a task that raised is tried again before its shard is prepared here."""


def stream(shards: Iterator[Shard], job: Job) -> Iterator[Streamed]:
    """Each shard's prepared units in order, prepared by Dask tasks."""
    client, owned = _client(job.scheduler)

    def submit(shard: Shard, spec: WorkSpec) -> Any:
        key = f"imgcall-shard-{shard.number}-{uuid.uuid4().hex}"
        return client.submit(prepare_shard, shard, spec, pure=False, retries=RETRIES, key=key)

    def collect(future: Any, shard: Shard) -> ShardResult | None:
        try:
            result: ShardResult = future.result()
        except Exception:  # the task failed every try: prepare the shard here
            return None
        return result

    def cancel(future: Any) -> None:
        with contextlib.suppress(Exception):
            if future.done() and not future.cancelled():
                for _, shipped in future.result().units:
                    discard(shipped)
            else:
                future.cancel()

    try:
        yield from ordered(shards, job, submit, collect, cancel)
    finally:
        if owned:
            with contextlib.suppress(Exception):
                client.close()


def _client(scheduler: object) -> tuple[Any, bool]:
    """The Client to use, and whether this run made it (and must close it)."""
    try:
        import distributed
    except ImportError as exc:
        raise EngineError(
            "the dask engine needs dask.distributed: pip install 'imgcall[dask]'"
        ) from exc
    Client: Any = distributed.Client  # partly typed: called as Any
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        if scheduler is None:
            return Client(), True
        return Client(str(scheduler), timeout=10), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise EngineError(
            f"cannot reach the Dask scheduler {scheduler or '(from the Dask configuration)'}: {exc}"
        ) from exc

"""Batch output and object storage (issue 16): a local S3 server against disk.

A moto S3 server on 127.0.0.1 (the test dependency, started in this process) holds the
Batch JSON Lines file; ``imgcall extract s3://...`` alternates with the same extract
from disk, and with the floor of a remote read: streaming the object through s3fs in
the same block size, doing nothing with it. The ratios say what reading over S3 costs
and where it goes: the S3 read itself (floor vs disk) and imgcall's streaming path
(extract from S3 vs the floor plus the work from disk).

Writing: a Batch file of small images extracted to the same server with the window of
writes in flight (`imgcall.putahead`, 16 at once) against one write at a time. moto
spends ~15 ms of its own CPU on each request, so on this machine the store is the
bound; against a real store the window hides the round trips instead.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import corpora

_AWS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
_READ_ALONE = """
import sys, fsspec.core
from imgcall.sources.remote import BLOCK_SIZE as BLOCK
from imgcall.framing import CHUNK_SIZE as CHUNK
options = {"client_kwargs": {"endpoint_url": sys.argv[-2]}, "key": "bench", "secret": "bench"}
fs, path = fsspec.core.url_to_fs(sys.argv[-1], **options)
with fs.open(path, "rb", block_size=BLOCK) as f:
    while f.read(CHUNK):
        pass
"""
# imgcall extract with a given number of writes in flight: WINDOW ARGS...
_EXTRACT_WINDOW = """
import sys, imgcall.putahead
imgcall.putahead.WINDOW = int(sys.argv[3])
sys.argv = ["imgcall", *sys.argv[4:]]
from imgcall.cli import main
main()
"""
SMALL_TO_S3 = 300
"""Lines of the small-image file extracted to S3 (each ~19 KB PNG, a HEAD and a PUT)."""


def run_remote(
    scratch: Path,
    reps: int,
    jsonl: Path,
    *,
    cli: list[str],
    child: list[str],
    variant: Callable[..., Any],
    measure: Callable[..., None],
    ratio: Callable[..., float],
    target_cls: Callable[..., Any],
    small_lines: int = SMALL_TO_S3,
) -> tuple[dict[str, list[Any]], list[Any]]:
    """S3 against disk; nothing (and a note) when moto or s3fs is not installed."""
    try:
        import s3fs
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("remote: moto or s3fs missing, S3 scenario skipped")
        return {}, []
    os.environ.update({k: os.environ.get(k, v) for k, v in _AWS.items()})
    # werkzeug logs every request line to stderr even with verbose=False: thousands of
    # lines that bury the harness's own progress.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        fs = s3fs.S3FileSystem(
            client_kwargs={"endpoint_url": endpoint}, key="bench", secret="bench"
        )
        fs.mkdir("bench")
        fs.put(str(jsonl), "bench/batch.jsonl")
        url = "s3://bench/batch.jsonl"
        options = json.dumps({"endpoint_url": endpoint})
        to_moto = [
            "-q",
            "--storage-option",
            f"client_kwargs={options}",
            "--storage-option",
            "key=bench",
            "--storage-option",
            "secret=bench",
        ]
        mb = corpora.file_mb(jsonl)
        remote = variant(
            "extract from S3 (moto, loopback)",
            [*cli, "extract", url, "-o", "{out}", *to_moto],
            mb,
        )
        local = variant("extract from disk", [*cli, "extract", str(jsonl), "-o", "{out}", "-q"], mb)
        floor = variant(
            "s3fs read alone (floor)",
            [*child, "code", _READ_ALONE, endpoint, url],
            mb,
            uses_out=False,
        )
        measure([remote, local, floor], reps, scratch, "S3 vs disk, whole process")
        small_pngs = [corpora.noisy_png(seed, (80, 80)) for seed in range(10)]
        small = corpora.write_jsonl(scratch / "s3-small.jsonl", small_pngs, small_lines)
        small_mb = corpora.file_mb(small)
        ahead, one = (
            variant(
                name,
                [
                    *child,
                    "code",
                    _EXTRACT_WINDOW,
                    str(window),
                    "extract",
                    str(small),
                    "-o",
                    "s3://bench{out}",
                    *to_moto,
                ],
                small_mb,
            )
            for name, window in (("to S3, 16 writes in flight", 16), ("to S3, one at a time", 1))
        )
        measure([ahead, one], reps, scratch, "extract to S3, whole process")
    finally:
        server.stop()
    targets = [
        target_cls(
            "extract from S3 vs from disk", round(ratio(remote, local), 3), "(measured)", None
        ),
        target_cls(
            "S3 read alone vs extract from disk", round(ratio(floor, local), 3), "(measured)", None
        ),
        target_cls(
            "extract from S3: peak RSS (MB)", round(remote.median("rss_mb"), 1), "(measured)", None
        ),
    ]
    targets.append(
        target_cls(
            "extract to S3: one write at a time vs 16 in flight (moto)",
            round(ratio(one, ahead), 3),
            "(measured)",
            None,
        )
    )
    scenarios = {
        "S3 vs disk, whole process": [remote, local, floor],
        "extract to S3, whole process": [ahead, one],
    }
    return scenarios, targets

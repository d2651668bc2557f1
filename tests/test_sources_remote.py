"""imgcall.sources.remote: inputs in object storage, through fsspec.

fsspec's memory:// file system for the quick tests, and a real S3 server (moto's server
mode on 127.0.0.1, on a free port) read through s3fs, as users read their batch output.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from click.testing import CliRunner

import imgcall
from imgcall import InvalidInputError
from imgcall.cli import cli

from .helpers import b64, item, noise_png, png
from .test_sources import batch, ids


@pytest.fixture
def memory() -> Iterator[Any]:
    fs = fsspec.filesystem("memory")
    root = "/imgcall-tests"
    fs.mkdir(root)
    yield fs
    fs.rm(root, recursive=True)


def test_one_object_is_streamed(memory: Any) -> None:
    memory.pipe("/imgcall-tests/out/batch.jsonl", batch(3))
    calls = list(imgcall.iter_calls("memory://imgcall-tests/out/batch.jsonl"))
    assert [c.id for c in calls] == ["ig_0", "ig_1", "ig_2"]
    assert calls[0].location is not None
    assert str(calls[0].location).startswith("memory://imgcall-tests/out/batch.jsonl:1#")


def test_a_glob_stands_for_its_objects_in_sorted_order(memory: Any) -> None:
    memory.pipe("/imgcall-tests/out/b.jsonl.gz", gzip.compress(batch(1, "b")))
    memory.pipe("/imgcall-tests/out/a.jsonl.gz", gzip.compress(batch(1, "a")))
    memory.pipe("/imgcall-tests/out/notes.txt", b"not read")
    memory.pipe("/imgcall-tests/other/c.jsonl.gz", gzip.compress(batch(1, "c")))
    assert ids("memory://imgcall-tests/out/*.jsonl.gz") == ["a_0", "b_0"]
    assert ids("memory://imgcall-tests/*/*.jsonl.gz") == ["c_0", "a_0", "b_0"]  # other/, out/


def test_a_folder_url_stands_for_every_object_under_it(memory: Any) -> None:
    memory.pipe("/imgcall-tests/run/2/x.jsonl", batch(1, "x"))
    memory.pipe("/imgcall-tests/run/1.jsonl", batch(1, "one"))
    memory.pipe("/imgcall-tests/run/image.png", png())
    memory.pipe("/imgcall-tests/run/.cache/y.jsonl", batch(1, "y"))
    with pytest.warns(imgcall.ImgcallWarning) as caught:
        assert ids("memory://imgcall-tests/run/") == ["one_0", "x_0"]
    assert sorted(str(w.message) for w in caught) == [
        "memory://imgcall-tests/run/.cache: skipped, a hidden folder",
        "memory://imgcall-tests/run/image.png: skipped, an image",
    ]


def test_a_missing_object_is_an_invalid_input(memory: Any) -> None:
    with pytest.raises(InvalidInputError, match="cannot read memory://imgcall-tests/nope"):
        list(imgcall.iter_calls("memory://imgcall-tests/nope.jsonl"))


def test_an_unknown_protocol_is_an_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="cannot open nosuchfs://x/y"):
        list(imgcall.iter_calls("nosuchfs://x/y.jsonl"))


def test_a_file_url_is_a_local_file(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(batch(2))
    assert ids(path.as_uri()) == ["ig_0", "ig_1"]
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "m.jsonl").write_bytes(batch(1, "m"))
    assert ids(tmp_path.as_uri() + "/*/*.jsonl") == ["m_0"]


def test_save_images_and_the_cli_read_urls(memory: Any, tmp_path: Path) -> None:
    memory.pipe("/imgcall-tests/out/a.jsonl", batch(2, "a"))
    memory.pipe("/imgcall-tests/out/b.jsonl", batch(1, "b"))
    report = imgcall.save_images("memory://imgcall-tests/out/*.jsonl", tmp_path / "lib")
    assert sorted(p.name for p in report.paths) == ["a_0.png", "a_1.png", "b_0.png"]
    result = CliRunner().invoke(
        cli, ["extract", "memory://imgcall-tests/out/*.jsonl", "-o", str(tmp_path / "cli")]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "cli").glob("*.png")) == [
        "a_0.png",
        "a_1.png",
        "b_0.png",
    ]
    lines = (tmp_path / "cli" / "imgcall-manifest.jsonl").read_text().splitlines()
    manifest = [json.loads(x) for x in lines]
    assert [m["input"] for m in manifest] == ["memory://imgcall-tests/out/a.jsonl"] * 2 + [
        "memory://imgcall-tests/out/b.jsonl"
    ]


def test_storage_option_values_are_checked(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["ls", "memory://x/y.jsonl", "--storage-option", "no-equals-sign"]
    )
    assert result.exit_code == 2 and "KEY=VALUE" in result.stderr


# -- a real S3 server ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in _AWS}
    os.environ.update(_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    import s3fs

    options = {"client_kwargs": {"endpoint_url": s3_endpoint}}
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    name = "imgcall-batch"
    if not fs.exists(name):
        fs.mkdir(name)
    yield fs, options
    fs.rm(name, recursive=True)


def test_batch_output_in_s3_is_read_through_s3fs(
    bucket: tuple[Any, dict[str, Any]], tmp_path: Path
) -> None:
    fs, options = bucket
    fs.pipe("imgcall-batch/out/shard-1.jsonl.out", batch(2, "s1"))
    fs.pipe("imgcall-batch/out/shard-0.jsonl.gz", gzip.compress(batch(2, "s0")))
    url = "s3://imgcall-batch/out/*"
    assert ids(url, storage_options=options) == ["s0_0", "s0_1", "s1_0", "s1_1"]
    report = imgcall.save_images(url, tmp_path / "out", storage_options=options)
    assert report.ok and len(report.saved) == 4


def test_the_cli_reads_s3_configured_by_option_or_by_fsspec_environment(
    bucket: tuple[Any, dict[str, Any]], s3_endpoint: str, tmp_path: Path
) -> None:
    fs, _ = bucket
    fs.pipe("imgcall-batch/in/a.jsonl", batch(2, "a"))
    option = json.dumps({"endpoint_url": s3_endpoint})
    result = CliRunner().invoke(
        cli,
        [
            "ls",
            "s3://imgcall-batch/in/a.jsonl",
            "--json",
            "--storage-option",
            f"client_kwargs={option}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["a_0", "a_1"]
    # fsspec's own configuration: FSSPEC_<PROTOCOL>_<OPTION>, read when fsspec starts.
    env = {**os.environ, **_AWS, "FSSPEC_S3_ENDPOINT_URL": s3_endpoint}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "imgcall",
            "extract",
            "s3://imgcall-batch/in/",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["a_0.png", "a_1.png"]


_CHILD = textwrap.dedent(
    """
    import json, sys
    import imgcall

    def peak_mib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

    options = {"client_kwargs": {"endpoint_url": sys.argv[2]}}
    list(imgcall.iter_calls(b'{"id": "warm"}'))  # imports done before the baseline
    import s3fs
    baseline = peak_mib()
    report = imgcall.save_images(sys.argv[1], sys.argv[3], storage_options=options)
    print(json.dumps({"saved": len(report.saved), "growth": peak_mib() - baseline}))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_large_object_is_streamed_in_bounded_memory(
    bucket: tuple[Any, dict[str, Any]], s3_endpoint: str, tmp_path: Path
) -> None:
    """Issue 16: ~300 MB read from S3 in under 200 MB (never downloaded whole)."""
    fs, _ = bucket
    result = b64(noise_png(800))  # ~2.6 MB of base64 per line
    with fs.open("imgcall-batch/big/batch.jsonl", "wb") as out:
        for k in range(115):
            body = {"output": [item(f"big_{k}", None) | {"result": result}]}
            out.write(json.dumps({"custom_id": f"c{k}", "response": {"body": body}}).encode())
            out.write(b"\n")
    assert fs.size("imgcall-batch/big/batch.jsonl") > 280 * 2**20
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            "s3://imgcall-batch/big/batch.jsonl",
            s3_endpoint,
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **_AWS},
        timeout=600,
        check=True,
    )
    report = json.loads(done.stdout)
    print(report)  # shown with -s: the measured growth
    assert report["saved"] == 115
    assert report["growth"] < 200, report


def test_warnings_from_listing_do_not_escape_as_errors(memory: Any) -> None:
    memory.pipe("/imgcall-tests/w/p.png", png())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        assert ids("memory://imgcall-tests/w/") == []


@pytest.mark.parametrize("engine", ["threads", "processes"])
def test_every_engine_reads_an_s3_glob_as_one_shard_per_object(
    bucket: tuple[Any, dict[str, Any]], tmp_path: Path, engine: str
) -> None:
    from tests.shardkit import files, manifest_lines

    fs, options = bucket
    # Credentials in the options, not the environment: a forkserver started by an
    # earlier test would not see environment variables set since.
    options = {**options, "key": _AWS["AWS_ACCESS_KEY_ID"], "secret": _AWS["AWS_SECRET_ACCESS_KEY"]}
    fs.pipe("imgcall-batch/eng/part-0.jsonl", batch(3, "p0"))
    fs.pipe("imgcall-batch/eng/part-1.jsonl.gz", gzip.compress(batch(2, "p1")))
    url = "s3://imgcall-batch/eng/*"
    reference = imgcall.save_images(url, tmp_path / "ref", storage_options=options)
    assert [r.id for r in reference] == ["p0_0", "p0_1", "p0_2", "p1_0", "p1_1"]
    got = imgcall.save_images(
        url, tmp_path / engine, storage_options=options, engine=engine, workers=2
    )
    assert got.ok and got.counts() == reference.counts()
    assert files(tmp_path / engine) == files(tmp_path / "ref")
    assert manifest_lines(tmp_path / engine) == manifest_lines(tmp_path / "ref")


def test_an_object_rewritten_between_two_runs_of_one_process_is_read_afresh(
    bucket: tuple[Any, dict[str, Any]],
) -> None:
    # fsspec caches listings (sizes, ETags) for the process: a notebook's second run
    # must not open the new object by the old ETag (S3 answers 412).
    fs, options = bucket
    fs.pipe("imgcall-batch/again/a.jsonl.gz", gzip.compress(batch(1, "old")))
    assert ids("s3://imgcall-batch/again/*", storage_options=options) == ["old_0"]
    assert ids("s3://imgcall-batch/again/a.jsonl.gz", storage_options=options) == ["old_0"]
    fs.pipe("imgcall-batch/again/a.jsonl.gz", gzip.compress(batch(2, "new")))
    assert ids("s3://imgcall-batch/again/*", storage_options=options) == ["new_0", "new_1"]
    assert ids("s3://imgcall-batch/again/a.jsonl.gz", storage_options=options) == [
        "new_0",
        "new_1",
    ]

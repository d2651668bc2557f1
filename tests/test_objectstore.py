"""Output folders in object storage (imgcall.objectstore): fsspec's memory:// file
system for the quick tests, a real S3 server (moto, on 127.0.0.1) through s3fs for
the rest."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import imgcall
from imgcall.cli import cli
from imgcall.objectstore import ObjectPath
from tests.helpers import b64, png
from tests.s3server import bucket, s3_endpoint
from tests.shardkit import clash_inputs, small_shards, write_batch

fsspec = pytest.importorskip("fsspec")

__all__ = ["bucket", "s3_endpoint"]  # the fixtures, imported for the tests below


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A fresh folder in fsspec's in-memory file system."""
    root = f"/imgcall-{uuid.uuid4().hex}"
    yield f"memory://{root}/images"
    with contextlib.suppress(FileNotFoundError):  # a test that wrote nothing
        fsspec.filesystem("memory").rm(root, recursive=True)


def _objects(url: str) -> dict[str, bytes]:
    fs, root = fsspec.core.url_to_fs(url)
    return {p.rsplit("/", 1)[-1]: fs.cat_file(p) for p in sorted(fs.find(root))}


def _manifest(url: str) -> list[dict[str, Any]]:
    fs, root = fsspec.core.url_to_fs(url)
    text = fs.cat_file(root + "/imgcall-manifest.jsonl").decode()
    return [json.loads(line) for line in text.splitlines()]


def test_each_image_is_one_object_and_the_manifest_is_beside_them(tmp_path, memory_url) -> None:
    inputs = clash_inputs(tmp_path / "in")
    report = imgcall.save_images(inputs, memory_url)
    objects = _objects(memory_url)
    assert sorted(objects) == ["dup-1.png", "dup.png", "imgcall-manifest.jsonl", "same.png"]
    assert objects["dup.png"] == png((200, 0, 0)) and objects["dup-1.png"] == png((0, 0, 200))
    assert report.out_dir == ObjectPath(memory_url)
    names = ("dup.png", "same.png", "dup-1.png", "same.png")
    assert [str(p) for p in report.paths] == [f"{memory_url}/{n}" for n in names]
    rows = _manifest(memory_url)
    assert [r["outcome"] for r in rows] == ["saved", "saved", "saved", "exists"]
    assert rows[0]["path"] == f"{memory_url}/dup.png"
    local = tmp_path / "local"
    imgcall.save_images(inputs, local)
    text = (local / "imgcall-manifest.jsonl").read_text()
    expected = [json.loads(line) for line in text.splitlines()]
    for row in expected:
        row["path"] = row["path"].replace(str(local.resolve()), memory_url)
    assert rows == expected  # the same lines as into a local folder


def test_the_conflict_policy_holds(tmp_path, memory_url) -> None:
    inputs = clash_inputs(tmp_path / "in")
    imgcall.save_images(inputs, memory_url)
    again = imgcall.save_images(inputs, memory_url)
    assert again.counts()["exists"] == 4 and again.counts()["saved"] == 0
    other = tmp_path / "other.json"
    item = {
        "type": "image_generation_call",
        "id": "dup",
        "status": "completed",
        "result": b64(png((0, 200, 0))),
    }
    other.write_text(json.dumps(item))
    refused = imgcall.save_images([str(other)], memory_url)
    (record,) = refused.records
    assert record.outcome == "failed" and isinstance(record.error, imgcall.OutputExistsError)
    assert "already exists with different content" in str(record.error)
    renamed = imgcall.save_images([str(other)], memory_url, on_conflict="rename")
    assert [r.path.name for r in renamed.records] == ["dup-2.png"]
    replaced = imgcall.save_images([str(other)], memory_url, on_conflict="overwrite")
    assert [r.outcome for r in replaced.records] == ["overwritten"]
    assert _objects(memory_url)["dup.png"] == png((0, 200, 0))


def test_shard_records_are_objects_and_a_rerun_skips_them(
    tmp_path, memory_url, monkeypatch
) -> None:
    small_shards(monkeypatch)
    batch = write_batch(tmp_path / "batch.jsonl", 60)
    first = imgcall.save_images([str(batch)], memory_url)
    fs, root = fsspec.core.url_to_fs(memory_url)
    records = fs.ls(root + "/.imgcall-shards", detail=False)
    assert len(records) > 2 and all(r.endswith(".jsonl") for r in records)
    put: list[str] = []
    real = type(fs).pipe_file

    def counted(self: Any, path: str, data: bytes, **kwargs: Any) -> Any:
        put.append(path)
        return real(self, path, data, **kwargs)

    # On the class: fsspec caches the instance, and an attribute set on it would outlive
    # this test (monkeypatch puts back a bound method, not nothing).
    monkeypatch.setattr(type(fs), "pipe_file", counted)
    again = imgcall.save_images([str(batch)], memory_url)
    assert again.counts()["exists"] == first.counts()["saved"] == 59
    assert [p for p in put if p.endswith(".png")] == []


def test_processes_into_object_storage(tmp_path, memory_url, monkeypatch) -> None:
    small_shards(monkeypatch)
    batch = write_batch(tmp_path / "batch.jsonl", 60)
    local = tmp_path / "threads"
    imgcall.save_images([str(batch)], local)
    # memory:// lives in this process: the workers send the bytes back, this process
    # writes them, so what is in the store is what a local run writes.
    imgcall.save_images([str(batch)], memory_url, engine="processes", workers=2)
    objects = _objects(memory_url)
    assert {n: d for n, d in objects.items() if n.endswith(".png")} == {
        p.name: p.read_bytes() for p in local.glob("*.png")
    }


def test_sidecars_are_objects_beside_the_images(tmp_path, memory_url) -> None:
    inputs = clash_inputs(tmp_path / "in")
    report = imgcall.save_images(inputs, memory_url, sidecar=True)
    objects = _objects(memory_url)
    assert sorted(n for n in objects if n.endswith(".json")) == [
        "dup-1.json",
        "dup.json",
        "same.json",
    ]
    rows = {r["path"]: r for r in _manifest(memory_url) if r["outcome"] == "saved"}
    for name in ("dup", "dup-1", "same"):
        assert json.loads(objects[f"{name}.json"]) == rows[f"{memory_url}/{name}.png"]
    assert all(not r.warnings for r in report.records)
    # An object that is not a sidecar is never replaced.
    fs, root = fsspec.core.url_to_fs(memory_url)
    fs.pipe_file(f"{root}/same.json", b'{"mine": true}')
    again = imgcall.save_images(inputs, memory_url, sidecar=True)
    assert fs.cat_file(f"{root}/same.json") == b'{"mine": true}'
    notes = [w for r in again.records for w in r.warnings]
    assert notes == [
        "sidecar same.json not written: an object that is not an imgcall sidecar is there"
    ]
    # The others now hold this run's records, as the manifest does.
    rows = {r["path"]: r for r in _manifest(memory_url)}
    assert json.loads(_objects(memory_url)["dup.json"]) == rows[f"{memory_url}/dup.png"]
    assert rows[f"{memory_url}/dup.png"]["outcome"] == "exists"


# -- several PUTs in flight (imgcall.putahead) ---------------------------------------------


def _clashing_batch(path: Path) -> str:
    """Ids that come back (same bytes and other bytes), a problem line, a bad id."""
    items = []
    for n in range(40):
        ident = f"ig_{n % 7}" if n % 3 == 0 else f"ig_{n}"
        colour = (n % 5 * 50, 0, 0) if n % 3 == 0 else (n, n, 200)
        items.append(
            {
                "type": "image_generation_call",
                "id": ident,
                "status": "completed",
                "result": b64(png(colour)),
            }
        )
    items[11] = {"type": "image_generation_call", "id": "x", "status": "failed", "result": None}
    items[17]["id"] = "../../etc/passwd"
    path.write_text(json.dumps({"output": items}))
    return str(path)


def _run(inputs: list[str], url: str, policy: str, window: int, monkeypatch) -> list[str]:
    import imgcall.putahead

    monkeypatch.setattr(imgcall.putahead, "WINDOW", window)
    imgcall.save_images(inputs, url, on_conflict=policy)  # type: ignore[arg-type]
    fs, root = fsspec.core.url_to_fs(url)
    text = fs.cat_file(root + "/imgcall-manifest.jsonl").decode()
    return text.replace(url, "URL").splitlines()


@pytest.mark.parametrize("policy", ["error", "skip", "overwrite", "rename"])
def test_writes_in_flight_give_the_records_of_writes_one_at_a_time(
    tmp_path, policy, monkeypatch
) -> None:
    inputs = [_clashing_batch(tmp_path / "a.json"), *clash_inputs(tmp_path / "in")]
    runs = []
    for window in (1, 16):
        url = f"memory:///imgcall-{uuid.uuid4().hex}/out"
        fs, root = fsspec.core.url_to_fs(url)
        # Objects an earlier run left: one with other bytes, one with the same bytes.
        fs.pipe_file(f"{root}/ig_1.png", png((1, 2, 3)))
        fs.pipe_file(f"{root}/ig_2.png", png((2, 2, 200)))
        runs.append((_run(inputs, url, policy, window, monkeypatch), _objects(url)))
    (one_at_a_time, objects), (in_flight, objects_too) = runs
    assert in_flight == one_at_a_time
    assert objects_too.keys() == objects.keys()
    assert {k: v for k, v in objects_too.items() if k.endswith(".png")} == {
        k: v for k, v in objects.items() if k.endswith(".png")
    }
    outcomes = {json.loads(line)["outcome"] for line in in_flight}
    assert {"saved", "exists", "failed"} <= outcomes


class _SlowStore:
    """Counts the PUTs in flight at once, each taking a little while."""

    def __init__(self, monkeypatch, fail: str | None = None) -> None:
        import threading
        import time

        self.active = self.peak = 0
        lock = threading.Lock()
        real = type(fsspec.filesystem("memory")).pipe_file

        def pipe_file(fs: Any, path: str, data: bytes, **kwargs: Any) -> Any:
            with lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            try:
                time.sleep(0.02)
                if fail is not None and path.endswith(fail):
                    raise OSError("the store said no")
                return real(fs, path, data, **kwargs)
            finally:
                with lock:
                    self.active -= 1

        monkeypatch.setattr(type(fsspec.filesystem("memory")), "pipe_file", pipe_file)


def test_images_are_put_several_at_once_and_a_failed_put_fails_only_its_image(
    tmp_path, memory_url, monkeypatch
) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", 40)
    store = _SlowStore(monkeypatch, fail="ig_0005.png")
    report = imgcall.save_images([str(batch)], memory_url)
    assert store.peak > 4  # a window of writes, not one after the other
    failed = [r for r in report.records if r.outcome == "failed"]
    assert len(failed) == 2  # line 8 is an error line; ig_0005 could not be put
    assert any("the store said no" in str(r.error) for r in failed)
    rows = _manifest(memory_url)
    assert [r["index"] for r in rows] == sorted(r["index"] for r in rows)
    assert "ig_0005.png" not in _objects(memory_url)
    renamed = _SlowStore(monkeypatch)
    imgcall.save_images([str(batch)], memory_url + "-2", on_conflict="rename")
    assert renamed.peak == 1  # an answer may send an image on to the next name


def test_a_run_stopped_early_records_every_image_it_put(tmp_path, memory_url, monkeypatch) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", 40)
    _SlowStore(monkeypatch)
    records = imgcall.iter_save([str(batch)], memory_url)
    taken = [next(records) for _ in range(3)]
    records.close()  # what Ctrl-C on the command line does, once the file is written
    put = sorted(n for n in _objects(memory_url) if n.endswith(".png"))
    rows = _manifest(memory_url)
    assert [r["id"] for r in rows[:3]] == [r.id for r in taken]
    assert len(put) > 3  # the writes in flight were finished, and each has its line
    assert sorted(r["path"].rsplit("/", 1)[-1] for r in rows if r["outcome"] == "saved") == put


# -- a real S3 server ---------------------------------------------------------------------


def test_s3_output_with_s3fs(tmp_path, bucket, monkeypatch) -> None:
    url = f"s3://{bucket['name']}/images/"
    inputs = clash_inputs(tmp_path / "in")
    report = imgcall.save_images(inputs, url, storage_options=bucket["options"])
    assert report.ok and report.counts()["saved"] == 3
    fs = bucket["fs"]
    fs.invalidate_cache()
    keys = sorted(k.rsplit("/", 1)[-1] for k in fs.find(f"{bucket['name']}/images"))
    assert keys == ["dup-1.png", "dup.png", "imgcall-manifest.jsonl", "same.png"]
    assert fs.cat_file(f"{bucket['name']}/images/dup.png") == png((200, 0, 0))
    # A re-run compares by size and the ETag (the MD5), never by downloading.
    import s3fs

    def no_download(self: Any, *args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("an image was downloaded to be compared")

    monkeypatch.setattr(s3fs.S3FileSystem, "cat_file", no_download)
    again = imgcall.save_images(inputs, url, storage_options=bucket["options"])
    assert again.counts()["exists"] == 4


def test_the_cli_writes_to_s3(tmp_path, bucket) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", 12)
    url = f"s3://{bucket['name']}/out"
    endpoint = json.dumps(bucket["options"]["client_kwargs"])
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(batch),
            "-o",
            url,
            "--storage-option",
            f"client_kwargs={endpoint}",
            "--engine",
            "processes",
            "-j",
            "2",
        ],
    )
    assert result.exit_code == 1, result.output  # line 8 is an error line
    lines = result.stdout.splitlines()
    assert len(lines) == 11 and all(line.startswith(url + "/ig_") for line in lines)
    assert f"manifest: {url}/imgcall-manifest.jsonl" in result.stderr
    fs = bucket["fs"]
    fs.invalidate_cache()
    assert len(fs.find(f"{bucket['name']}/out")) == 12


def test_an_unreachable_store_is_a_usage_error(tmp_path: Path, s3_endpoint: str) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", 2)
    endpoint = json.dumps({"endpoint_url": s3_endpoint})
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(batch),
            "-o",
            "s3://no-such-bucket-imgcall/x",
            "--storage-option",
            f"client_kwargs={endpoint}",
        ],
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    )
    assert result.exit_code == 2, result.output
    assert "cannot write in the output folder s3://no-such-bucket-imgcall/x" in result.stderr
    assert result.stdout == ""


def test_s3_gzip_glob_to_s3_on_a_dask_cluster_gives_what_a_local_run_gives(
    tmp_path: Path, bucket: dict[str, Any]
) -> None:
    """Issue 16's "done means": s3 *.jsonl.gz -> s3 images, --engine dask, as local."""
    import gzip

    distributed = pytest.importorskip("distributed")
    from tests.shardkit import files, manifest_lines

    fs, name = bucket["fs"], bucket["name"]
    local_in = tmp_path / "batch"
    local_in.mkdir()
    for part, count in (("part-0", 5), ("part-1", 4)):
        path = write_batch(
            tmp_path / f"{part}.jsonl", count, broken=3 if part == "part-1" else None
        )
        (local_in / f"{part}.jsonl.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
        fs.pipe(f"{name}/batch/{part}.jsonl.gz", (local_in / f"{part}.jsonl.gz").read_bytes())
    # The workers are other processes: credentials go in the options, not the environment.
    options = {**bucket["options"], "key": "testing", "secret": "testing"}
    reference = imgcall.save_images(local_in, tmp_path / "local")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        result = CliRunner().invoke(
            cli,
            [
                "extract",
                f"s3://{name}/batch/*.jsonl.gz",
                "-o",
                f"s3://{name}/images/",
                "--engine",
                "dask",
                "--dask-scheduler",
                cluster.scheduler_address,
                "--storage-option",
                "client_kwargs=" + json.dumps(options["client_kwargs"]),
                "--storage-option",
                "key=testing",
                "--storage-option",
                "secret=testing",
            ],
        )
    finally:
        cluster.close()
    assert result.exit_code == 1, result.output  # the broken line, as locally
    fs.invalidate_cache()
    got = tmp_path / "from-s3"
    got.mkdir()
    fs.get(f"{name}/images/", str(got), recursive=True)
    assert files(got) == files(tmp_path / "local")
    remote_lines = manifest_lines(got)
    local_lines = manifest_lines(tmp_path / "local")
    keys = ("id", "status", "outcome", "format", "width", "height", "bytes", "sha256")
    assert [{k: r[k] for k in keys} for r in remote_lines] == [
        {k: r[k] for k in keys} for r in local_lines
    ]
    assert reference.counts()["failed"] == 1

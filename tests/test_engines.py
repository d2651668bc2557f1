"""Engines (imgcall.engines): every engine writes what the threads engine writes.

The processes engine runs real worker processes, the dask engine a real
``dask.distributed`` LocalCluster with two worker processes; each run is compared with
a threads run of the same inputs, file by file and manifest line by manifest line.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import imgcall
from imgcall.cli import cli
from imgcall.engines import threads as threads_engine
from imgcall.pipeline import Input
from imgcall.shardlog import SHARDS_FOLDER
from imgcall.tempfiles import TEMP_SUFFIX
from tests.shardkit import clash_inputs, files, manifest_lines, small_shards, write_batch


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A real local Dask cluster: two worker processes, one thread each."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _inputs(tmp_path: Path) -> list[object]:
    """Inputs that exercise naming across shards: clashing ids, a cut file, a failure."""
    clashes = clash_inputs(tmp_path / "in")
    batch = write_batch(tmp_path / "in" / "batch.jsonl", 80, broken=30)
    return [*clashes, str(batch), clashes[1]]


def _run(inputs: list[object], out: Path, **options: Any) -> imgcall.SaveReport:
    return imgcall.save_images(inputs, out, **options)


def _same_as_threads(tmp_path: Path, engine: str, **options: Any) -> None:
    inputs = _inputs(tmp_path)
    reference = tmp_path / "threads"
    other = tmp_path / engine
    expected = _run(inputs, reference, **{k: v for k, v in options.items() if k != "scheduler"})
    got = _run(inputs, other, engine=engine, workers=2, **options)
    assert got.counts() == expected.counts()
    assert got.counts()["failed"] == 2  # the error line and the broken line
    assert files(other) == files(reference)
    assert manifest_lines(other) == manifest_lines(reference)
    if options.get("name", "{id}") == "{id}":
        assert {"dup.png", "dup-1.png", "same.png"} <= set(files(reference))  # -1: a clash
    assert not [p for p in other.iterdir() if p.name.endswith(TEMP_SUFFIX)]


@pytest.mark.parametrize("template", ["{id}", "{index:04d}-{custom_id}"])
def test_processes_write_what_threads_write(tmp_path: Path, monkeypatch, template: str) -> None:
    small_shards(monkeypatch)
    _same_as_threads(tmp_path, "processes", name=template)


def test_processes_with_converting_and_inputs_only_this_process_can_read(
    tmp_path: Path, monkeypatch
) -> None:
    small_shards(monkeypatch)
    batch = write_batch(tmp_path / "batch.jsonl", 40)
    stream_text = batch.read_bytes()
    outs = {}
    for engine in ("threads", "processes"):
        stdin = Input(io.BytesIO(stream_text), "<stdin>", "stdin")
        out = tmp_path / engine
        report = imgcall.save_images(
            [str(batch), stdin, str(batch)], out, engine=engine, convert="webp", workers=2
        )
        assert report.counts()["saved"] == 39
        outs[engine] = out
    assert files(outs["processes"]) == files(outs["threads"])
    assert manifest_lines(outs["processes"]) == manifest_lines(outs["threads"])


@pytest.mark.slow
def test_dask_writes_what_threads_write(tmp_path: Path, monkeypatch, dask_client: Any) -> None:
    small_shards(monkeypatch)
    _same_as_threads(tmp_path, "dask", scheduler=dask_client)


@pytest.mark.slow
def test_dask_retries_the_shard_of_a_lost_worker(
    tmp_path: Path, monkeypatch, dask_client: Any
) -> None:
    small_shards(monkeypatch)
    batch = write_batch(tmp_path / "batch.jsonl", 400, side=90)
    expected = imgcall.save_images([str(batch)], tmp_path / "threads")
    pids = list(dask_client.run(os.getpid).values())
    out = tmp_path / "dask"
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            if any(p.name.endswith(TEMP_SUFFIX) for p in out.glob(".*")):  # a task is staging
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.005)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    report = imgcall.save_images([str(batch)], out, engine="dask", scheduler=dask_client, workers=2)
    killer.join()
    assert killed, "no worker was killed: the run ended before a task started staging"
    assert report.counts() == expected.counts()
    assert files(out) == files(tmp_path / "threads")
    assert manifest_lines(out) == manifest_lines(tmp_path / "threads")
    assert not [p for p in out.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def _read_shards(monkeypatch) -> list[str]:
    """Record which shards the threads engine reads (the real reader, observed)."""
    read: list[str] = []
    real = threads_engine.shard_units

    def observed(shard, *args):
        read.append(shard.describe())
        return real(shard, *args)

    monkeypatch.setattr(threads_engine, "shard_units", observed)
    return read


@pytest.mark.parametrize("engine", ["threads", "processes"])
def test_a_rerun_skips_the_shards_that_are_done(tmp_path: Path, monkeypatch, engine) -> None:
    small_shards(monkeypatch)
    inputs = _inputs(tmp_path)
    out = tmp_path / "out"
    first = imgcall.save_images(inputs, out, engine=engine, workers=2)
    records = list((out / SHARDS_FOLDER).iterdir())
    shards = len(records)
    assert shards > 5
    read = _read_shards(monkeypatch)
    again = imgcall.save_images(inputs, out)
    assert read == []  # a broken line is the input's problem: its shard is done too
    assert again.counts()["exists"] == first.counts()["saved"] + first.counts()["exists"]
    assert again.counts()["failed"] == first.counts()["failed"]
    rerun = manifest_lines(out)
    fresh = tmp_path / "fresh"
    imgcall.save_images(inputs, fresh)
    imgcall.save_images(inputs, fresh, name="{id}", manifest=True)
    assert _without_paths(rerun) == _without_paths(manifest_lines(fresh))


def _without_paths(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "path"} for row in rows]


def test_a_killed_run_resumes_where_it_stopped(tmp_path: Path, monkeypatch) -> None:
    small_shards(monkeypatch)
    batch = write_batch(tmp_path / "batch.jsonl", 120)
    out = tmp_path / "out"
    records = imgcall.iter_save([str(batch)], out, engine="processes", workers=2)
    for _ in range(70):  # stop half way, as a killed run does
        next(records)
    records.close()
    assert not [p for p in out.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    done = len(list((out / SHARDS_FOLDER).iterdir()))
    read = _read_shards(monkeypatch)
    report = imgcall.save_images([str(batch)], out)
    total = len(list((out / SHARDS_FOLDER).iterdir()))
    assert 0 < done < total and len(read) == total - done
    assert report.counts()["saved"] + report.counts()["exists"] == 119
    expected = tmp_path / "whole"
    imgcall.save_images([str(batch)], expected)
    assert files(out) == files(expected)


def test_a_changed_earlier_input_makes_later_shards_read_again(tmp_path: Path, monkeypatch):
    """Names after a clash depend on earlier shards: a record that no longer holds is
    not used (here the second input's dup-1.png would now be dup.png)."""
    small_shards(monkeypatch)
    first, second = clash_inputs(tmp_path / "in")
    out = tmp_path / "out"
    imgcall.save_images([first, second], out)
    assert "dup-1.png" in files(out)
    Path(first).write_text(json.dumps({"output": []}) + " ")
    read = _read_shards(monkeypatch)
    report = imgcall.save_images([first, second], out)
    assert len(read) == 2  # the first changed; the second's record no longer holds
    # Read again, the second input's blue "dup" now wants dup.png, where the first
    # run's red one is: a clash with a file from before (not "dup-1.png, exists", as
    # the old record said); "same" is same.png, as before.
    (dup, same) = report.records
    assert dup.outcome == "failed" and isinstance(dup.error, imgcall.OutputExistsError)
    assert (same.outcome, same.path.name, same.duplicate_of) == ("exists", "same.png", None)


def test_the_cli_engine_options(tmp_path: Path, monkeypatch) -> None:
    small_shards(monkeypatch)
    batch = write_batch(tmp_path / "batch.jsonl", 40)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["extract", str(batch), "-o", str(tmp_path / "out"), "--engine", "processes", "-j", "2"],
    )
    assert result.exit_code == 1, result.output  # the error line
    assert result.stdout.count("\n") == 39
    assert "39 saved" in result.stderr
    bad = runner.invoke(cli, ["extract", str(batch), "--engine", "spark"])
    assert bad.exit_code == 2 and "spark" in bad.stderr


def test_the_cli_says_when_dask_cannot_be_reached(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    batch = write_batch(tmp_path / "batch.jsonl", 2)
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(batch),
            "-o",
            str(tmp_path / "out"),
            "--engine",
            "dask",
            "--dask-scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:9" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ctrl_c_stops_a_processes_run_cleanly(tmp_path: Path) -> None:
    import subprocess
    import sys

    batch = write_batch(tmp_path / "batch.jsonl", 3000, side=40)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imgcall",
            "extract",
            str(batch),
            "-o",
            str(out),
            "--engine",
            "processes",
            "-j",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    manifest = out / "imgcall-manifest.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (manifest.exists() and manifest.stat().st_size):
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)  # what the terminal sends the foreground run
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr.decode()[-2000:]
    assert b"interrupted" in stderr
    rows = manifest_lines(out)
    assert 0 < len(rows) < 3000
    for row in rows:
        if row["outcome"] == "saved":
            assert (
                Path(row["path"].replace("OUT", str(out.resolve()))).stat().st_size == row["bytes"]
            )
    saved = {r["path"].replace("OUT", str(out.resolve())) for r in rows if r["outcome"] == "saved"}
    printed = set(stdout.decode().splitlines())
    # Every printed file is in the manifest; Ctrl-C may land between a file's manifest
    # line and its printing, never inside a file.
    assert printed <= saved and len(saved - printed) <= 1
    assert not [p for p in out.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_a_folder_of_inputs_is_one_shard_per_file_under_every_engine(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_batch(folder / "a.jsonl", 6)
    write_batch(folder / "b.jsonl", 4, broken=2)
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # skipped: plainly no payload
    with pytest.warns(imgcall.ImgcallWarning, match="picture.png"):
        reference = imgcall.save_images(folder, tmp_path / "threads")
    with pytest.warns(imgcall.ImgcallWarning, match="picture.png"):
        got = imgcall.save_images(folder, tmp_path / "processes", engine="processes", workers=2)
    assert got.counts() == reference.counts() and got.counts()["failed"] == 1  # b.jsonl:2
    assert {r.input for r in got} == {str(folder / "a.jsonl"), str(folder / "b.jsonl")}
    assert files(tmp_path / "processes") == files(tmp_path / "threads")
    assert manifest_lines(tmp_path / "processes") == manifest_lines(tmp_path / "threads")


def test_processes_ship_large_images_staged_in_anonymous_files(tmp_path: Path) -> None:
    # Images past the in-memory size are decoded into a file of the output folder, on
    # Linux an O_TMPFILE with no name: a worker must name it before the run links it.
    from tests.helpers import item, noise_png

    images = [noise_png(side=420, seed=n) for n in range(3)]  # ~530 kB each
    source = tmp_path / "big.json"
    source.write_text(json.dumps([item(f"ig_big_{n}", data) for n, data in enumerate(images)]))
    reference = imgcall.save_images(source, tmp_path / "threads")
    got = imgcall.save_images(source, tmp_path / "processes", engine="processes", workers=2)
    assert got.ok and got.counts() == reference.counts()
    assert files(tmp_path / "processes") == files(tmp_path / "threads")
    assert [p.read_bytes() for p in got.paths] == images
    assert not [p for p in (tmp_path / "processes").iterdir() if p.name.endswith(TEMP_SUFFIX)]


# -- a job system of the user's own (the README's Ray recipe, with a process pool) ---------


def _extract_part(part: int, inputs: list[str], root: str) -> dict[str, int]:
    report = imgcall.save_images(inputs, f"{root}/part-{part:04d}/", name="{custom_id}")
    return report.counts()


def test_parts_run_by_a_job_system_give_what_one_run_gives(tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    inputs = [str(write_batch(tmp_path / f"batch-{k}.jsonl", 12 + k)) for k in range(3)]
    whole = imgcall.save_images(inputs, tmp_path / "whole", name="{custom_id}")
    parts = [[inputs[0]], inputs[1:]]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        futures = [
            pool.submit(_extract_part, k, p, str(tmp_path / "out")) for k, p in enumerate(parts)
        ]
        counts = [f.result() for f in futures]
    assert sum(c["saved"] for c in counts) + sum(c["exists"] for c in counts) == sum(
        whole.counts()[k] for k in ("saved", "exists")
    )
    assert sum(c["failed"] for c in counts) == whole.counts()["failed"]
    by_part = sorted(
        r["sha256"]
        for k in range(2)
        for r in manifest_lines(tmp_path / "out" / f"part-{k:04d}")
        if r.get("sha256")
    )
    assert by_part == sorted(
        r["sha256"] for r in manifest_lines(tmp_path / "whole") if r.get("sha256")
    )
    # A task the job system runs again finds its part done.
    again = _extract_part(1, parts[1], str(tmp_path / "out"))
    assert again["saved"] == 0 and again["exists"] == counts[1]["saved"] + counts[1]["exists"]

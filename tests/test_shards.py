"""Shards: how a run's inputs are cut (imgcall.shards), and that a range reads like the file."""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

import imgcall.shards
from imgcall.pipeline import Input, scan_units
from imgcall.shards import count_lines, plan, shard_key, shard_units
from tests.helpers import b64, noise_png, png
from tests.shardkit import SMALL_SHARD, small_shards, write_batch


def _described(units: list) -> list[tuple[object, ...]]:
    """What a unit says about itself, for comparing two ways of reading a file."""
    rows = []
    for unit in units:
        found = unit.found
        error = getattr(found, "error", found if isinstance(found, Exception) else None)
        rows.append(
            (
                getattr(found, "id", None),
                str(getattr(found, "location", None)),
                str(error) if error is not None else None,
                dict(getattr(found, "context", {}) or {}),
            )
        )
    return rows


def test_a_large_batch_file_is_cut_at_line_ends(tmp_path: Path, monkeypatch) -> None:
    small_shards(monkeypatch)
    path = write_batch(tmp_path / "batch.jsonl", 120)
    data = path.read_bytes()
    shards = list(plan([str(path)]))
    assert len(shards) > 3
    assert shards[0].start == 0 and shards[-1].end == len(data)
    for before, after in itertools.pairwise(shards):
        assert before.end == after.start
        assert data[after.start - 1 : after.start] == b"\n"  # cut right after a line end
        assert after.first_line == data[: after.start].count(b"\n")
    assert all(s.end - s.start >= SMALL_SHARD for s in shards[:-1])
    assert [s.number for s in shards] == list(range(len(shards)))


def test_the_ranges_read_exactly_like_the_whole_file(tmp_path: Path, monkeypatch) -> None:
    small_shards(monkeypatch)
    path = write_batch(tmp_path / "batch.jsonl", 120, broken=60)
    whole = list(scan_units([str(path)], partials=False))
    pieces = []
    for shard in plan([str(path)]):
        units = list(shard_units(shard, partials=False))
        assert [u.index for u in units] == list(range(len(units)))  # numbered per shard
        pieces += units
    assert len(pieces) == len(whole) == 120  # 118 images, an error line, a broken line
    assert _described(pieces) == _described(whole)
    # The 60th record is on line 61 (a blank line comes before it).
    broken = [u for u in pieces if "line 61 is not valid JSON" in str(u.found)]
    assert len(broken) == 1  # the file's own line number, in whichever shard it fell


def test_ranges_left_unnumbered_take_their_line_numbers_from_the_range_before(
    tmp_path: Path, monkeypatch
) -> None:
    # What the threads engine does: the plan counts nothing ahead, and each range read in
    # order starts where the one before it ended (blank, CRLF and broken lines included).
    small_shards(monkeypatch)
    monkeypatch.setattr(imgcall.shards, "_LINES_KNOWN", {})
    path = write_batch(tmp_path / "batch.jsonl", 120, broken=60)
    whole = list(scan_units([str(path)], partials=False))
    shards = list(plan([str(path)], number_lines=False))
    assert [s.first_line for s in shards[:2]] == [0, None] and len(shards) > 3
    assert [(s.start, s.end) for s in shards] == [(s.start, s.end) for s in plan([str(path)])]
    counted: list[tuple[int, int]] = []
    real_count = imgcall.shards.count_lines

    def counting(data: object, start: int, end: int) -> int:
        counted.append((start, end))
        return real_count(data, start, end)

    monkeypatch.setattr(imgcall.shards, "count_lines", counting)
    pieces = [u for shard in shards for u in shard_units(shard, partials=False)]
    assert _described(pieces) == _described(whole)
    assert counted == []  # no pass over the file beside the reading itself


def test_an_unnumbered_range_read_first_counts_only_what_was_not_read(
    tmp_path: Path, monkeypatch
) -> None:
    # A resumed run skips the ranges it had finished: the first range it reads counts the
    # lines before it once; a range read again later (a redo) reuses what is known.
    small_shards(monkeypatch)
    monkeypatch.setattr(imgcall.shards, "_LINES_KNOWN", {})
    path = write_batch(tmp_path / "batch.jsonl", 120, broken=60)
    data = path.read_bytes()
    shards = list(plan([str(path)], number_lines=False))
    expected = {s.start: _described(shard_units(s, partials=False)) for s in plan([str(path)])}
    monkeypatch.setattr(imgcall.shards, "_LINES_KNOWN", {})
    counted: list[tuple[int, int]] = []
    real_count = imgcall.shards.count_lines

    def counting(data: object, start: int, end: int) -> int:
        counted.append((start, end))
        return real_count(data, start, end)

    monkeypatch.setattr(imgcall.shards, "count_lines", counting)
    first, second, third, fourth = shards[:4]
    for shard in [third, fourth, first, second, third]:
        assert _described(shard_units(shard, partials=False)) == expected[shard.start]
    assert counted == [(0, third.start)]  # once, for the lines nobody had read
    offsets = (second.start, third.start, fourth.start, fourth.end)
    assert imgcall.shards._LINES_KNOWN[first.identity] == {
        offset: data[:offset].count(b"\n") for offset in offsets
    }


@pytest.mark.parametrize("kind", ["stream events", "gzip", "document", "small"])
def test_files_that_are_not_cut(tmp_path: Path, monkeypatch, kind: str) -> None:
    small_shards(monkeypatch)
    path = tmp_path / "input"
    if kind == "small":
        write_batch(path, 3)
    elif kind == "gzip":
        path.write_bytes(gzip.compress(write_batch(tmp_path / "b.jsonl", 120).read_bytes()))
    elif kind == "document":
        items = [
            {
                "type": "image_generation_call",
                "id": f"ig{n}",
                "status": "completed",
                "result": b64(noise_png(60, seed=n)),
            }
            for n in range(60)
        ]
        path.write_text(json.dumps({"output": items}, indent=1))
    else:  # Responses stream events carry state from line to line: never cut
        with open(path, "w") as out:
            for n in range(3000):
                result = b64(png((n % 255, 9, 9)))
                item = {"type": "image_generation_call", "id": f"ig{n}", "status": "completed"}
                event = {"type": "response.output_item.done", "item": {**item, "result": result}}
                out.write(json.dumps(event) + "\n")
    assert path.stat().st_size > 2 * SMALL_SHARD or kind == "small"
    shards = list(plan([str(path)]))
    assert len(shards) == 1
    assert shards[0].end is None and shards[0].identity is not None


def test_what_cannot_be_shipped_or_resumed(tmp_path: Path) -> None:
    path = write_batch(tmp_path / "b.jsonl", 2)
    with open(path, "rb") as stream:
        shards = list(plan([Input(stream, "<stdin>", "stdin"), {"output": []}, str(path)]))
    assert [s.shippable for s in shards] == [False, False, True]
    assert [shard_key(s, "f") is None for s in shards] == [True, True, False]
    assert [s.label for s in shards] == ["<stdin>", "<object>", str(path)]


def test_a_shard_key_changes_with_the_input_and_the_options(tmp_path: Path) -> None:
    path = write_batch(tmp_path / "b.jsonl", 2)
    (shard,) = plan([str(path)])
    assert shard_key(shard, "opts") == shard_key(next(plan([str(path)])), "opts")
    assert shard_key(shard, "opts") != shard_key(shard, "other options")
    with open(path, "ab") as out:
        out.write(b"\n")
    assert shard_key(shard, "opts") != shard_key(next(plan([str(path)])), "opts")


@pytest.mark.parametrize("line", [b"x" * 10, b"y" * 50_000])
def test_count_lines(line: bytes) -> None:
    data = (line + b"\n") * 700 + line
    assert count_lines(data, 0, len(data)) == 700
    assert count_lines(data, len(line) + 1, len(data) - 3) == 699


def test_a_threads_run_reads_a_cut_file_once(tmp_path: Path, monkeypatch) -> None:
    # The lines before each range are not counted ahead (a pass over the whole file):
    # the ranges are read in order, and the locations are the whole file's.
    small_shards(monkeypatch)
    monkeypatch.setattr(imgcall.shards, "_LINES_KNOWN", {})
    path = write_batch(tmp_path / "batch.jsonl", 120, broken=60)
    assert len(list(plan([str(path)]))) > 3
    counted: list[tuple[int, int]] = []
    real_count = imgcall.shards.count_lines
    monkeypatch.setattr(
        imgcall.shards,
        "count_lines",
        lambda data, start, end: counted.append((start, end)) or real_count(data, start, end),
    )
    report = imgcall.save_images([str(path)], tmp_path / "out", engine="threads")
    assert counted == []
    whole = [u for u in scan_units([str(path)], partials=False)]
    assert [str(r.location) for r in report.records] == [
        str(getattr(u.found, "location", None)) for u in whole
    ]

"""Decoding into the output folder: same files, same errors, no temporary file left."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import imgcall
import imgcall.staging as staging
from imgcall import CorruptImageError, InvalidBase64Error, OutputError, tempfiles, writing
from imgcall.base64text import decode_base64
from imgcall.lazytext import LazyText
from imgcall.manifest import MANIFEST_NAME
from imgcall.saving import list_images
from imgcall.staging import Stager
from imgcall.tempfiles import TEMP_SUFFIX

from .helpers import b64, item, noise_png

IMAGES = [noise_png(160, seed) for seed in range(3)]


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def write_document(path: Path, items: list[dict[str, Any]]) -> Path:
    """A Responses document large enough for its results to stay in the input buffer
    (`imgcall.jsonparse` lifts long strings out of documents over 256 kB)."""
    size = sum(len(i["result"] or "") for i in items)
    padding = "." * max(0, 300_000 - size)  # not base64: parsed as an ordinary string
    body = {"id": "resp_1", "object": "response", "metadata": {"note": padding}, "output": items}
    path.write_text(json.dumps(body))
    return path


@pytest.fixture
def stage_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each staging attempt produced a file (the real function, observed)."""
    calls: list[bool] = []
    real = staging._stage

    def observed(folder: Path, raw: memoryview) -> staging.StagedFile | None:
        staged = real(folder, raw)
        calls.append(staged is not None)
        return staged

    monkeypatch.setattr(staging, "_stage", observed)
    return calls


def lazy(text: str) -> LazyText:
    return LazyText(memoryview(text.encode("ascii")))


def corrupt(data: bytes) -> bytes:
    broken = bytearray(data)
    broken[5000] ^= 0xFF  # inside the image data: a chunk CRC no longer matches
    return bytes(broken)


# --- whole runs ----------------------------------------------------------------------------


def test_a_run_decodes_into_the_folder_and_writes_the_same_bytes(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(
        tmp_path / "resp.json", [item(f"ig_{i}", data) for i, data in enumerate(IMAGES)]
    )
    out = tmp_path / "new" / "out"  # does not exist yet

    report = imgcall.save_images(doc, out)

    assert stage_calls == [True, True, True]
    assert [r.outcome for r in report] == ["saved"] * 3
    for i, data in enumerate(IMAGES):
        assert (out / f"ig_{i}.png").read_bytes() == data
    lines = [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]
    assert [line["sha256"] for line in lines] == [hashlib.sha256(d).hexdigest() for d in IMAGES]
    assert [line["bytes"] for line in lines] == [len(d) for d in IMAGES]
    assert [(line["width"], line["height"]) for line in lines] == [(160, 160)] * 3
    assert temp_files(tmp_path) == []


def test_chat_completion_data_urls_are_decoded_into_the_folder_too(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    # OpenRouter sends images as data: URLs in choices[].message.images[].
    headers = ["data:image/png;base64,", "data:image/jpeg;base64,", "data:image/png;base64,"]
    images = [{"image_url": {"url": h + b64(d)}} for h, d in zip(headers, IMAGES, strict=True)]
    body = {"id": "gen-1", "choices": [{"index": 0, "message": {"images": images}}]}
    padding = "." * 300_000  # large enough for the results to stay in the input buffer
    doc = tmp_path / "chat.json"
    doc.write_text(json.dumps({**body, "note": padding}))

    report = imgcall.save_images(doc, tmp_path / "out")

    assert stage_calls == [True, True, True]
    assert [r.outcome for r in report] == ["saved"] * 3
    for i, data in enumerate(IMAGES):
        assert (tmp_path / "out" / f"gen-1-0-{i}.png").read_bytes() == data
    # The MIME type each URL declares is still checked against the bytes.
    assert [len(r.warnings) for r in report] == [0, 1, 0]
    assert "declared JPEG but the bytes are PNG" in report.records[1].warnings[0]
    assert temp_files(tmp_path) == []


def test_slices_of_an_image_join_up_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage_calls: list[bool]
) -> None:
    monkeypatch.setattr(staging, "CHUNK", 4096)  # many slices per image, one partial
    doc = write_document(tmp_path / "resp.json", [item(f"ig_{i}", d) for i, d in enumerate(IMAGES)])

    imgcall.save_images(doc, tmp_path / "out", workers=2)

    assert stage_calls == [True, True, True]
    assert [(tmp_path / "out" / f"ig_{i}.png").read_bytes() for i in range(3)] == IMAGES


@pytest.mark.parametrize(
    ("policy", "outcome", "names"),
    [
        ("error", "failed", ["a.png"]),
        ("skip", "skipped", ["a.png"]),
        ("rename", "saved", ["a-1.png", "a.png"]),
        ("overwrite", "overwritten", ["a.png"]),
    ],
)
def test_conflict_policies_with_a_staged_image(
    tmp_path: Path, policy: str, outcome: str, names: list[str], stage_calls: list[bool]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"something else")
    doc = write_document(tmp_path / "resp.json", [item("a", IMAGES[0]), item("b", IMAGES[1])])

    report = imgcall.save_images(doc, out, on_conflict=policy)

    assert stage_calls[0] is True
    assert report.records[0].outcome == outcome
    assert sorted(p.name for p in out.glob("a*.png")) == names
    kept = (out / "a.png").read_bytes()
    assert kept == (IMAGES[0] if policy == "overwrite" else b"something else")
    if policy == "rename":
        assert (out / "a-1.png").read_bytes() == IMAGES[0]
    assert temp_files(tmp_path) == []


def test_a_rerun_finds_the_same_files_done(tmp_path: Path, stage_calls: list[bool]) -> None:
    doc = write_document(tmp_path / "resp.json", [item(f"ig_{i}", d) for i, d in enumerate(IMAGES)])
    imgcall.save_images(doc, tmp_path / "out")

    again = imgcall.save_images(doc, tmp_path / "out")

    assert [r.outcome for r in again] == ["exists"] * 3
    assert stage_calls == [True] * 6
    assert temp_files(tmp_path) == []


def test_two_items_with_one_name_and_different_bytes_both_keep_their_bytes(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(tmp_path / "resp.json", [item("x", IMAGES[0]), item("x", IMAGES[1])])

    imgcall.save_images(doc, tmp_path / "out")

    assert (tmp_path / "out" / "x.png").read_bytes() == IMAGES[0]
    assert (tmp_path / "out" / "x-1.png").read_bytes() == IMAGES[1]
    assert temp_files(tmp_path) == []


def test_a_corrupt_staged_image_fails_and_leaves_nothing(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(
        tmp_path / "resp.json",
        [item("good", IMAGES[0]), item("bad", corrupt(IMAGES[1])), item("last", IMAGES[2])],
    )

    report = imgcall.save_images(doc, tmp_path / "out")

    assert stage_calls == [True, True, True]
    assert [r.outcome for r in report] == ["saved", "failed", "saved"]
    error = report.records[1].error
    assert isinstance(error, CorruptImageError) and error.id == "bad"
    assert "fails its CRC check" in str(error)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [MANIFEST_NAME, "good.png", "last.png"]
    )
    assert temp_files(tmp_path) == []


def test_a_run_that_saves_nothing_leaves_no_new_folder(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(
        tmp_path / "resp.json", [item(f"bad_{i}", corrupt(d)) for i, d in enumerate(IMAGES)]
    )
    out = tmp_path / "new" / "out"

    report = imgcall.save_images(doc, out, manifest=False)

    assert stage_calls == [True, True, True]  # the folder was made to stage each image
    assert [r.outcome for r in report] == ["failed"] * 3
    assert not out.exists()


def test_a_run_that_saves_nothing_leaves_nothing_though_staging_made_the_folder(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(tmp_path / "resp.json", [item("bad", corrupt(IMAGES[0]))])
    existing, new = tmp_path / "existing", tmp_path / "deep" / "new"
    existing.mkdir()

    imgcall.save_images(doc, existing, manifest=False)
    report = imgcall.save_images(doc, new)

    assert stage_calls == [True, True]
    assert list(existing.iterdir()) == []
    assert not (tmp_path / "deep").exists()  # with the parent it made
    assert report.manifest is None and report.failed[0].id == "bad"


def test_a_full_disk_while_staging_falls_back_and_reports_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage_calls: list[bool]
) -> None:
    real_write = os.write

    def full_disk(fd: int, data: Any) -> int:
        if len(data) > 1000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    doc = write_document(tmp_path / "resp.json", [item("big", IMAGES[0])])
    monkeypatch.setattr(os, "write", full_disk)

    report = imgcall.save_images(doc, tmp_path / "out")

    assert stage_calls == [False]
    error = report.records[0].error
    assert isinstance(error, OutputError) and "no space left" in str(error)
    assert error.id == "big"
    assert not (tmp_path / "out" / "big.png").exists()
    assert temp_files(tmp_path) == []


def test_an_output_folder_that_is_a_file_fails_before_any_decoding(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(tmp_path / "resp.json", [item(f"ig_{i}", d) for i, d in enumerate(IMAGES)])
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")

    with pytest.raises(OutputError, match="it is a file"):
        imgcall.save_images(doc, blocker, manifest=False)

    assert stage_calls == []
    assert blocker.read_text() == "not a folder"


def test_an_interrupted_staging_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write_all = staging._write_all
    monkeypatch.setattr(staging, "CHUNK", 4096)

    def interrupted(fd: int, data: bytes) -> None:
        real_write_all(fd, data)  # part of the image is already in the file
        raise KeyboardInterrupt

    monkeypatch.setattr(staging, "_write_all", interrupted)
    doc = write_document(tmp_path / "resp.json", [item(f"ig_{i}", d) for i, d in enumerate(IMAGES)])
    with pytest.raises(KeyboardInterrupt):
        imgcall.save_images(doc, tmp_path / "out", manifest=False)
    assert not (tmp_path / "out").exists()  # nothing was saved: not even the folder stays


@pytest.mark.parametrize("workers", [1, 2])
def test_stopping_a_run_early_leaves_no_temporary_file(
    tmp_path: Path, stage_calls: list[bool], workers: int
) -> None:
    many = [item(f"ig_{i}", IMAGES[i % 3]) for i in range(8)]
    doc = write_document(tmp_path / "resp.json", many)
    records = imgcall.iter_save([doc], tmp_path / "out", workers=workers)

    first = next(records)
    records.close()

    assert first.outcome == "saved"
    assert any(stage_calls)
    assert temp_files(tmp_path) == []


def test_converted_and_fully_checked_images_are_not_staged(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    doc = write_document(tmp_path / "resp.json", [item(f"ig_{i}", d) for i, d in enumerate(IMAGES)])

    converted = imgcall.save_images(doc, tmp_path / "jpeg", convert="jpeg")
    full = imgcall.save_images(doc, tmp_path / "full", check="full")

    assert stage_calls == []
    assert [r.format for r in converted] == ["JPEG"] * 3
    assert [r.outcome for r in full] == ["saved"] * 3
    assert (tmp_path / "full" / "ig_0.png").read_bytes() == IMAGES[0]


def test_listing_writes_nothing(tmp_path: Path, stage_calls: list[bool]) -> None:
    doc = write_document(tmp_path / "resp.json", [item(f"ig_{i}", d) for i, d in enumerate(IMAGES)])

    records = list(list_images([doc]))

    assert [r.outcome for r in records] == ["found"] * 3
    assert stage_calls == []
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["resp.json"]


# --- the stager on its own -----------------------------------------------------------------


def test_stager_maps_the_decoded_bytes_and_release_removes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where anonymous files exist (Linux O_TMPFILE) they are tested below; here the
    # named temporary file every system has.
    monkeypatch.setattr(tempfiles, "_O_TMPFILE", 0)
    stager = Stager(tmp_path)

    data, mime = stager.decode(lazy(b64(IMAGES[0])), None)

    assert stager.staged is not None and mime is None
    assert data[:8] == IMAGES[0][:8] and len(data) == len(IMAGES[0])
    assert hashlib.sha256(data).digest() == hashlib.sha256(IMAGES[0]).digest()
    assert temp_files(tmp_path) == [stager.staged.path]
    stager.release()
    assert temp_files(tmp_path) == []
    stager.release()  # twice is fine


@pytest.mark.skipif(not tempfiles._O_TMPFILE, reason="no anonymous files (O_TMPFILE) here")
def test_an_anonymous_staged_file_has_no_name_until_it_is_saved(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    stager = Stager(tmp_path)

    data, _ = stager.decode(lazy(b64(IMAGES[0])), None)

    staged = stager.staged
    assert staged is not None and staged.fd is not None
    assert hashlib.sha256(data).digest() == hashlib.sha256(IMAGES[0]).digest()
    assert list(tmp_path.iterdir()) == []  # nothing in the folder, not even a temp name
    final = tmp_path / "ig.png"
    assert writing.try_write(final, data, "error", staged=staged.path) == "saved"
    fd = staged.fd
    stager.release()
    assert final.read_bytes() == IMAGES[0]
    assert [p.name for p in tmp_path.iterdir()] == ["ig.png"]
    with pytest.raises(OSError):
        os.fstat(fd)  # released: the descriptor is closed
    stager.release()  # twice is fine


@pytest.mark.parametrize(
    "text",
    [
        b64(IMAGES[0])[:-2],  # padding left out
        b64(IMAGES[0]).replace("+", "-").replace("/", "_"),  # URL-safe alphabet
        "\n".join(b64(IMAGES[0])[i : i + 76] for i in range(0, 30000, 76)),  # MIME lines
    ],
    ids=["no-padding", "url-safe", "line-breaks"],
)
def test_tolerated_forms_decode_in_memory_to_the_same_bytes(tmp_path: Path, text: str) -> None:
    stager = Stager(tmp_path)

    data, _ = stager.decode(lazy(text), None)

    assert stager.staged is None
    assert data == decode_base64(text)[0]
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("chunk", [8, 4096, staging.CHUNK])
def test_bad_base64_is_reported_as_without_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(staging, "CHUNK", chunk)
    good = b64(IMAGES[0])
    cases = [
        good[:20000] + "!" + good[20001:],  # a character outside the alphabet
        "QQ==" * 3000 + good,  # padding inside the data, on a slice boundary
    ]
    for text in cases:
        with pytest.raises(InvalidBase64Error) as expected:
            decode_base64(text)
        with pytest.raises(InvalidBase64Error) as staged:
            Stager(tmp_path).decode(lazy(text), None)
        assert str(staged.value) == str(expected.value)
        assert staged.value.offset == expected.value.offset
    assert temp_files(tmp_path) == []


def test_an_oversize_result_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(imgcall.ImageTooLargeError):
        Stager(tmp_path).decode(lazy(b64(IMAGES[0])), 1000)
    assert temp_files(tmp_path) == []


def test_a_small_result_is_decoded_in_memory_not_staged(
    tmp_path: Path, stage_calls: list[bool]
) -> None:
    # Creating, mapping and unmapping a file costs more than a small buffer (issue 15):
    # a result under STAGE_FROM characters is decoded in memory, straight from the input.
    small = noise_png(60)  # ~11 kB: ~14,000 characters of base64
    assert len(b64(small)) < staging.STAGE_FROM < len(b64(IMAGES[0]))
    doc = write_document(tmp_path / "resp.json", [item("small", small), item("big", IMAGES[0])])

    report = imgcall.save_images(doc, tmp_path / "out")

    assert [r.outcome for r in report] == ["saved", "saved"]
    assert stage_calls == [True]  # the big one only
    assert (tmp_path / "out" / "small.png").read_bytes() == small
    assert temp_files(tmp_path) == []

"""imgcall.sources: local files, streams, compressed data, folders and URLs as inputs."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import imgcall
from imgcall import InvalidInputError
from imgcall.cli import cli
from imgcall.sources import compressed

from .helpers import b64, item, noise_png, png

try:
    from compression import zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from backports import zstd  # type: ignore[import-not-found,no-redef,unused-ignore]


def batch(n: int = 3, prefix: str = "ig") -> bytes:
    """Batch API output lines, one real PNG each."""
    lines = [
        json.dumps(
            {
                "custom_id": f"{prefix}-{k}",
                "response": {"body": {"output": [item(f"{prefix}_{k}", png((k, 9, 9)))]}},
            }
        )
        for k in range(n)
    ]
    return ("\n".join(lines) + "\n").encode()


def ids(source: object, **options: Any) -> list[str]:
    return [call.id for call in imgcall.iter_calls(source, **options)]


COMPRESS = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": zstd.compress,
}


# -- compressed ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_compressed_inputs_are_read_by_their_magic_bytes(tmp_path: Path, kind: str) -> None:
    data = COMPRESS[kind](batch())
    assert compressed.sniff(data) == kind
    path = tmp_path / "out.jsonl"  # the name says nothing about compression
    path.write_bytes(data)
    expected = ["ig_0", "ig_1", "ig_2"]
    assert ids(path) == expected
    assert ids(data) == expected
    with open(path, "rb") as stream:
        assert ids(stream) == expected


def test_a_gz_name_holding_plain_json_is_read_as_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.gz"
    path.write_bytes(batch())
    assert ids(path) == ["ig_0", "ig_1", "ig_2"]


def test_a_multi_member_gzip_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "joined.jsonl.gz"  # cat a.gz b.gz > joined.gz
    path.write_bytes(gzip.compress(batch(2, "a")) + gzip.compress(batch(2, "b")))
    assert ids(path) == ["a_0", "a_1", "b_0", "b_1"]


def test_a_compressed_pretty_printed_document_and_sse(tmp_path: Path) -> None:
    doc = {"id": "resp_1", "output": [item("ig_doc", png())]}
    assert ids(gzip.compress(json.dumps(doc, indent=2).encode())) == ["ig_doc"]
    sse = "event: response.output_item.done\ndata: " + json.dumps(
        {"type": "response.output_item.done", "item": item("ig_sse", png())}
    )
    assert ids(lzma.compress(sse.encode() + b"\n\n")) == ["ig_sse"]


def test_cut_off_compressed_data_is_an_invalid_input_naming_the_compression(
    tmp_path: Path,
) -> None:
    data = gzip.compress(batch(3))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError, match="the gzip data is damaged or cut off") as info:
        list(imgcall.iter_calls(path))
    assert info.value.location == str(path)


def test_damaged_zstd_data_is_an_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="the zstd data is damaged"):
        list(imgcall.iter_calls(b"\x28\xb5\x2f\xfd" + bytes(range(64))))


@pytest.mark.slow
def test_a_large_gzip_file_is_read_in_bounded_memory(tmp_path: Path) -> None:
    text = b64(noise_png(600))  # ~1.4 MB of base64 per line
    line = json.dumps(
        {"custom_id": "c", "response": {"body": {"output": [item("x", None) | {"result": text}]}}}
    )
    path = tmp_path / "batch.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        for _ in range(80):  # ~110 MB decompressed
            out.write(line.encode() + b"\n")
    tracemalloc.start()
    try:
        count = sum(1 for _ in imgcall.iter_calls(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 80
    assert peak < 16 * len(line), peak  # a few lines and the decompressor's window


# -- http(s) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["https://example.com/response.json", "HTTP://example.com/a//b.jsonl?x=1"]
)
def test_http_urls_are_refused_with_the_url_intact(url: str) -> None:
    with pytest.raises(InvalidInputError, match="never downloads over http") as info:
        list(imgcall.iter_calls(url))
    assert url in str(info.value)


def test_the_cli_refuses_an_http_url_and_prints_it_intact(tmp_path: Path) -> None:
    url = "https://example.com/response.json"
    result = CliRunner().invoke(cli, ["extract", url, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert url in result.stderr and "never downloads" in result.stderr


# -- folders ------------------------------------------------------------------------------


def make_folder(root: Path) -> Path:
    folder = root / "batches"
    (folder / "b" / "deeper").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "a.jsonl").write_bytes(batch(2, "a"))
    (folder / "b" / "c.jsonl.gz").write_bytes(gzip.compress(batch(1, "c")))
    (folder / "b" / "deeper" / "d.json").write_text(json.dumps([item("d_0", png())]))
    (folder / "b-side.jsonl").write_bytes(batch(1, "e"))
    (folder / ".hidden.jsonl").write_bytes(batch(1, "hidden"))
    (folder / ".git" / "config.jsonl").write_bytes(batch(1, "git"))
    (folder / "picture.png").write_bytes(png())
    (folder / "no_extension").write_bytes(png())  # an image by its bytes
    (folder / "bundle.zip").write_bytes(b"PK\x03\x04" + bytes(30))
    return folder


def test_a_folder_is_every_file_in_it_in_sorted_order(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    with pytest.warns(imgcall.ImgcallWarning) as caught:
        calls = list(imgcall.iter_calls(folder))
    # Sorted by path, as sorted() sorts paths: "b/..." before "b-side".
    assert [c.id for c in calls] == ["a_0", "a_1", "c_0", "d_0", "e_0"]
    assert calls[2].location is not None
    assert calls[2].location.input == str(folder / "b" / "c.jsonl.gz")
    notes = sorted(str(w.message) for w in caught)
    assert notes == sorted(
        [
            f"{folder / '.git'}: skipped, a hidden folder",
            f"{folder / '.hidden.jsonl'}: skipped, a hidden file",
            f"{folder / 'bundle.zip'}: skipped, an archive",
            f"{folder / 'no_extension'}: skipped, an image (PNG)",
            f"{folder / 'picture.png'}: skipped, an image",
        ]
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_a_folder_is_skipped_never_opened(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jsonl")  # opening it for reading would block the run
    (folder / "z.jsonl").write_bytes(batch(1))
    with pytest.warns(imgcall.ImgcallWarning, match="pipe.jsonl: skipped, not a regular file"):
        assert ids(folder) == ["ig_0"]


def test_saving_a_folder_skips_its_own_output_folder(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    out = folder / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", imgcall.ImgcallWarning)
        first = imgcall.save_images(folder, out, name="{stem}-{index}")
    assert first.ok
    assert sorted(p.name for p in first.paths) == [
        "a-0.png",
        "a-1.png",
        "b-side-4.png",
        "c.jsonl-2.png",
        "d-3.png",
    ]
    with pytest.warns(imgcall.ImgcallWarning) as caught:
        again = imgcall.save_images(folder, out, name="{stem}-{index}")
    assert again.counts()["exists"] == 5
    assert f"{out}: skipped, the run's own output folder" in [str(w.message) for w in caught]


def test_the_cli_reads_a_folder_and_notes_what_it_skips(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    result = CliRunner().invoke(cli, ["extract", str(folder), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 5
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 5 and f"note: {folder / 'picture.png'}: skipped, an image" in notes
    quiet = CliRunner().invoke(cli, ["ls", str(folder), "--json"])
    assert quiet.exit_code == 0 and len(quiet.stdout.splitlines()) == 5


def test_an_empty_folder_finds_no_image(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["ls", str(tmp_path / "empty")])
    assert result.exit_code == 3


def test_a_file_object_is_read_as_it_is(tmp_path: Path) -> None:
    stream = io.BytesIO(gzip.compress(batch(2)))
    assert ids(stream) == ["ig_0", "ig_1"]
    assert not stream.closed  # the caller's stream is the caller's to close

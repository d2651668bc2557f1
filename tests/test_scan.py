"""imgcall.scan: iter_calls / scan over every kind of source, by content, in bounded memory."""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path
from typing import Any

import pydantic
import pytest

import imgcall
from imgcall.errors import InvalidInputError, Problem
from imgcall.image import DecodedImage
from imgcall.models import ImageGenerationCall, Location
from imgcall.scan import scan

ENVELOPES = Path(__file__).resolve().parent.parent / "fixtures" / "envelopes"
ITEMS = Path(__file__).resolve().parent.parent / "fixtures" / "items"


def ids(source: object, **kwargs: Any) -> list[str | None]:
    return [f.id for f in scan(source, **kwargs)]


def noisy_png(payload_bytes: int, seed: int = 0) -> bytes:
    """A PNG whose IDAT is random bytes: passes check="fast" (CRCs, IEND), never decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1024, 1024, 8, 2, 0, 0, 0)
    noise = random.Random(seed).randbytes(payload_bytes)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", noise) + chunk(b"IEND", b"")
    )


def test_errors_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="errors must be one of"):
        imgcall.iter_calls("{}", errors="ignore")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fixture", "disguise"),
    [
        ("openai_stream.sse", "stream.json"),
        ("batch_output.jsonl", "batch.png"),
        ("images_body.json", "body.sse"),
        ("events.jsonl", "events"),
    ],
)
def test_shape_comes_from_the_content_never_the_file_name(
    fixture: str, disguise: str, tmp_path: Path
) -> None:
    copy = tmp_path / disguise
    shutil.copyfile(ENVELOPES / fixture, copy)
    assert ids(copy, partials=True) == ids(ENVELOPES / fixture, partials=True)
    assert ids(copy)  # something was found


def test_every_kind_of_source_finds_the_same_images() -> None:
    path = ENVELOPES / "openai_stream.sse"
    data = path.read_bytes()
    expected = ["ig_stream_a", "ig_stream_a", "ig_stream_a", "ig_stream_b"]
    events = [
        json.loads(line[6:]) for line in data.decode().splitlines() if line.startswith("data:")
    ]
    with open(path, "rb") as binary, open(path, encoding="utf-8") as text:
        sources: list[object] = [
            path,
            str(path),
            data,
            data.decode(),
            binary,
            text,
            data.decode().splitlines(),
            events,
            iter(events),
        ]
        for source in sources:
            assert ids(source, partials=True) == expected, type(source)


def test_too_deeply_nested_parsed_value_is_an_invalid_input() -> None:
    """Already-parsed values have no parser depth limit; the walker must not overflow."""
    deep: list[Any] = []
    inner = deep
    for _ in range(100_000):
        inner.append(inner := [])
    with pytest.raises(InvalidInputError, match="nested too deeply"):
        list(imgcall.iter_calls(deep))
    with pytest.raises(InvalidInputError, match="nested too deeply"):
        list(imgcall.iter_images(deep, errors="collect"))


def test_name_replaces_the_input_name_in_locations() -> None:
    data = (ENVELOPES / "batch_output.jsonl").read_bytes()
    found = list(scan(data, name="<stdin>"))
    assert {f.location.input for f in found if isinstance(f.location, Location)} == {"<stdin>"}
    assert found[0].location == Location("<stdin>", "/response/body/output/0", 1)


def test_sdk_response_object_is_read_with_model_dump() -> None:
    class Response(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="allow")
        id: str
        object: str = "response"
        output: list[dict[str, Any]]

    raw = json.loads((ITEMS / "response.json").read_text())
    response = Response(id=raw["id"], output=raw["output"])
    found = list(scan(response))
    assert [f.id for f in found] == ["ig_68a1", "ig_68a2"]
    assert found[0].location == Location("<Response>", "/output/1")


def test_single_item_and_list_of_items() -> None:
    assert ids(ITEMS / "openai_item.json") == ["ig_0894cf2ef651c7d1016a06f4e5ebfc81"]
    assert ids(ITEMS / "items_list.json") == ["ig_list_1", "ig_list_2"]
    (call,) = scan(ITEMS / "png.json")
    assert call.location == Location(str(ITEMS / "png.json"))


def test_json_lines_of_items_and_responses_mixed() -> None:
    lines = [
        json.loads((ITEMS / "png.json").read_text()),
        json.loads((ITEMS / "response.json").read_text()),
        json.loads((ENVELOPES / "chat_completion.json").read_text()),
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    found = list(scan(text))
    assert [
        (f.id, f.location.line if isinstance(f.location, Location) else None) for f in found
    ] == [
        ("ig_png", 1),
        ("ig_68a1", 2),
        ("ig_68a2", 2),
        ("gen-1756000000-abc-0-0", 3),
    ]


def test_broken_document_raises_invalid_input_from_iter_calls_and_iter_images(
    tmp_path: Path,
) -> None:
    path = tmp_path / "response.json"
    path.write_text(
        '{\n  "id": "resp_1",\n  "output": [\n    {"type": "image_generation_call",,}\n'
    )
    for run in (imgcall.iter_calls, imgcall.iter_images):
        with pytest.raises(InvalidInputError) as info:
            list(run(path))
        assert str(info.value).startswith(f"{path}:4:")
        assert "(line 4, column" in str(info.value)


def test_iter_images_collects_batch_problems_in_order_with_their_custom_ids() -> None:
    got = list(imgcall.iter_images(ENVELOPES / "batch_output.jsonl", errors="collect"))
    assert [(type(g).__name__, g.context.get("custom_id")) for g in got] == [
        ("DecodedImage", "img-0001"),
        ("Problem", "img-0002"),
        ("Problem", "img-0003"),
        ("Problem", None),
        ("DecodedImage", "img-0005"),
        ("DecodedImage", "img-0005"),
        ("Problem", "img-0006"),
    ]
    first = got[0]
    assert isinstance(first, DecodedImage)
    assert (first.id, first.format, first.context["response_id"]) == ("ig_b1", "PNG", "resp_b1")


def test_iter_images_skip_keeps_only_images() -> None:
    got = list(imgcall.iter_images(ENVELOPES / "batch_output.jsonl", errors="skip"))
    assert [g.id for g in got] == ["ig_b1", "img-0005-0", "img-0005-1"]


def test_a_12_mb_sse_data_line_decodes(tmp_path: Path) -> None:
    png = noisy_png(9 * 1024 * 1024)
    item = {"type": "image_generation_call", "id": "ig_big", "status": "completed"}
    item["result"] = base64.b64encode(png).decode()
    event = {"type": "response.output_item.done", "output_index": 0, "item": item}
    line = json.dumps(event)
    assert len(line) > 12_000_000
    path = tmp_path / "big.sse"
    path.write_text(f"event: response.output_item.done\ndata: {line}\n\n")
    (image,) = imgcall.iter_images(path, check="fast")
    assert (image.id, image.format, image.size, len(image.data)) == (
        "ig_big",
        "PNG",
        (1024, 1024),
        len(png),
    )
    assert image.location == Location(str(path), "/item", 2)
    (call,) = imgcall.iter_calls(path.read_bytes().replace(b"\n", b"\r\n"))
    assert isinstance(call, ImageGenerationCall) and call.result == item["result"]


def test_problem_from_a_broken_json_lines_line_has_no_id_and_its_line() -> None:
    text = '{"type": "image_generation_call", "id": "a", "status": "completed"}\n{oops}\n'
    found = list(scan(text))
    assert isinstance(found[1], Problem)
    assert (found[1].id, found[1].status) == (None, None)
    assert found[1].location == Location("<input>", line=2, column=2)


# -- memory ------------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import json, resource, sys

    def peak_mib():
        # VmHWM belongs to this process image; ru_maxrss on Linux carries over the
        # parent's peak through fork and exec, so it would measure pytest instead.
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    import imgcall, imgcall.extract, imgcall.saving, imgcall.scan  # before the baseline

    path = sys.argv[1]
    baseline = peak_mib()
    if len(sys.argv) > 2:
        # Two workers decode images in place behind the reader, which releases pages.
        report = imgcall.save_images(path, sys.argv[2], workers=2, manifest=False)
        found = {"saved": len(report.paths)}
    else:
        found = {
            "calls": sum(1 for _ in imgcall.iter_calls(path)),
            "images": sum(1 for _ in imgcall.iter_images(path, check="fast")),
        }
    print(json.dumps({**found, "baseline_mib": baseline, "peak_mib": peak_mib()}))
    """
)


@pytest.mark.slow
def test_scanning_a_large_batch_file_keeps_memory_bounded(tmp_path: Path) -> None:
    """A JSON Lines batch file of ~370 MB is scanned in a few tens of MB."""
    lines = 150
    result = base64.b64encode(noisy_png(1_850_000, seed=1)).decode()  # ~2.5 MB of base64
    path = tmp_path / "batch_output.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for n in range(lines):
            body = {
                "id": f"resp_{n}",
                "object": "response",
                "output": [
                    {
                        "type": "image_generation_call",
                        "id": f"ig_{n}",
                        "status": "completed",
                        "result": result,
                    }
                ],
            }
            record = {
                "id": f"batch_req_{n}",
                "custom_id": f"c{n}",
                "response": {"status_code": 200, "body": body},
            }
            out.write(json.dumps(record) + "\n")
    size_mib = path.stat().st_size / 2**20
    assert size_mib > 300

    def child(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "error"},
        )
        report: dict[str, Any] = json.loads(done.stdout)
        assert report["peak_mib"] < min(150, size_mib / 2), report
        return report

    try:
        scanned = child()
        saved = child(str(tmp_path / "out"))
    finally:
        path.unlink()
    assert (scanned["calls"], scanned["images"], saved["saved"]) == (lines, lines, lines)
    # Records are ~2.5 MB: a few copies of one record, never a share of the file; saving
    # with two workers holds up to four images in flight, with their text.
    assert scanned["peak_mib"] - scanned["baseline_mib"] < 40, scanned
    assert saved["peak_mib"] - saved["baseline_mib"] < 70, saved


def test_deeply_nested_json_text_is_read_or_refused_never_a_foreign_error() -> None:
    def nested(depth: int) -> bytes:
        return b'{"output": ' + b"[" * depth + b"]" * depth + b"}"

    assert list(imgcall.iter_calls(nested(300))) == []  # deep, but nothing to find
    with pytest.raises(
        InvalidInputError,
        match=r"nested too deeply to read \(5001 levels\) \(line 1, column 5011\)",
    ):
        list(imgcall.iter_calls(nested(5000)))

"""imgcall.providers.google_batch: Gemini batch lines and inline results, Vertex predictions."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import (
    Problem,
)

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def collect(source: object, **kwargs: Any) -> list[imgcall.DecodedImage | Problem]:
    return list(imgcall.iter_images(source, errors="collect", **kwargs))


def images(source: object, **kwargs: Any) -> list[imgcall.DecodedImage]:
    return [x for x in collect(source, **kwargs) if isinstance(x, imgcall.DecodedImage)]


def problems(source: object, **kwargs: Any) -> list[Problem]:
    return [x for x in collect(source, **kwargs) if isinstance(x, Problem)]


def load(name: str) -> Any:
    return json.loads((PROVIDERS / name).read_text())


def part_bytes(value: Any, candidate: int, part: int, key: str = "inlineData") -> bytes:
    text = value["candidates"][candidate]["content"]["parts"][part][key]["data"]
    return base64.b64decode(text.replace("-", "+").replace("_", "/") + "==")


# -- batch outputs -----------------------------------------------------------------------


def test_gemini_batch_lines_keys_as_custom_ids_and_failures_in_the_providers_words() -> None:
    found = collect(PROVIDERS / "gemini_batch.jsonl")
    kinds = [(type(x).__name__, x.context.get("custom_id")) for x in found]
    assert kinds == [
        ("DecodedImage", "fox-1"),
        ("DecodedImage", "fox-1"),
        ("Problem", "fox-2"),
        ("Problem", "fox-3"),
    ]
    first, second, failed, blocked = found
    assert first.id != second.id  # one key, two images, two names
    assert isinstance(failed, Problem) and failed.code == "INVALID_ARGUMENT"
    assert "batch request 'fox-2' failed: Request contains an invalid argument." in failed.reason
    assert isinstance(blocked, Problem) and blocked.code == "IMAGE_SAFETY"


def test_repeated_keys_without_response_ids_keep_counting(tmp_path: Path) -> None:
    first, second = (
        json.loads(t) for t in (PROVIDERS / "gemini_batch.jsonl").read_text().splitlines()[:2]
    )
    first["response"]["responseId"] = None
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    assert [x.id for x in images(path)] == ["fox-1-0-0", "fox-1-0-1"]
    report = imgcall.save_images(path, tmp_path / "out", name="{custom_id}")
    assert sorted(p.name for p in report.paths) == ["fox-1-1.png", "fox-1.png"]
    assert not report.failed


def test_inline_batch_results_name_their_keys() -> None:
    image, problem = collect(PROVIDERS / "gemini_batch_inline.json")
    assert isinstance(image, imgcall.DecodedImage) and image.context["custom_id"] == "poster-a"
    assert image.context["batch"] == "batches/8h2kq0b7y3x5"
    assert isinstance(problem, Problem) and problem.id == "poster-b"
    assert problem.code == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize(
    "place",
    [(), ("response",), ("dest",), ("output",), ("metadata", "output")],
)
@pytest.mark.parametrize("key", ["inlinedResponses", "inlined_responses"])
@pytest.mark.parametrize("rest", [False, True])
def test_inline_results_are_found_wherever_a_batch_job_keeps_them(
    place: tuple[str, ...], key: str, rest: bool
) -> None:
    job = load("gemini_batch_inline.json")
    entries = job["response"]["inlinedResponses"]["inlinedResponses"]
    holder: dict[str, Any] = {key: {key: entries} if rest else entries}
    for name in reversed(place):
        holder = {name: holder}
    value = {"name": job["name"], **holder}
    image, problem = collect(value)
    assert isinstance(image, imgcall.DecodedImage) and image.context["custom_id"] == "poster-a"
    assert isinstance(problem, Problem) and problem.id == "poster-b"
    assert image.location is not None
    assert image.location.pointer.startswith("/" + "/".join((*place, key)))


def test_vertex_predictions_never_read_the_request_and_report_a_status_text() -> None:
    found = collect(PROVIDERS / "vertex_predictions.jsonl")
    image, problem = found  # the caller's own input image in "request" is not an output
    assert isinstance(image, imgcall.DecodedImage) and image.width == 36
    assert image.context["processed_time"].startswith("2026-11-20")
    assert isinstance(problem, Problem) and problem.code == "INVALID_ARGUMENT"
    assert problem.id == "vertex_predictions-2" and problem.context.get("custom_id") is None
    assert "empty text parameter" in problem.reason


def test_batch_line_with_neither_response_nor_error_is_a_problem() -> None:
    (problem,) = collect({"key": "k1", "status": None})
    assert isinstance(problem, Problem) and "neither a response nor an error" in problem.reason

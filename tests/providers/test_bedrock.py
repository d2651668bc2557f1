"""imgcall.providers.bedrock: Titan / Nova / Stability bodies and batch records."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import imgcall
from imgcall.errors import EmptyResultError, ImageGenerationFailedError, Problem

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def collect(source: object) -> list[imgcall.DecodedImage | Problem]:
    return list(imgcall.iter_images(source, errors="collect"))


def load(name: str) -> Any:
    return json.loads((PROVIDERS / name).read_text())


def test_titan_images_are_read_by_their_bytes() -> None:
    body = load("bedrock_titan.json")
    found = collect(PROVIDERS / "bedrock_titan.json")
    assert [x.data for x in found] == [base64.b64decode(t) for t in body["images"]]  # type: ignore[union-attr]
    assert [x.id for x in found] == ["bedrock_titan-0", "bedrock_titan-1"]


def test_a_content_filter_error_without_images_is_a_problem() -> None:
    (problem,) = collect(PROVIDERS / "bedrock_nova_blocked.json")
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageGenerationFailedError)
    assert "blocked all of the images" in problem.reason
    assert "blocked by our content filters" in problem.reason


def test_some_images_blocked_keeps_the_others() -> None:
    body = {
        **load("bedrock_titan.json"),
        "error": "Some of the generated images have been blocked.",
    }
    first, second, blocked = collect(body)
    assert isinstance(first, imgcall.DecodedImage) and isinstance(second, imgcall.DecodedImage)
    assert isinstance(blocked, Problem) and "blocked some of the images" in blocked.reason


def test_a_stability_finish_reason_stops_that_image_only() -> None:
    image, filtered = collect(PROVIDERS / "bedrock_stability.json")
    assert isinstance(image, imgcall.DecodedImage) and image.context["seed"] == 2130420379
    assert isinstance(filtered, Problem) and filtered.id == "bedrock_stability-1"
    assert filtered.code == "Filter reason: output image"
    assert filtered.context["seed"] == 71035142


def test_batch_records_take_the_record_id_as_custom_id() -> None:
    image, failed = collect(PROVIDERS / "bedrock_batch.jsonl.out")
    assert isinstance(image, imgcall.DecodedImage)
    assert (image.id, image.context["custom_id"]) == ("CALL0000001-0", "CALL0000001")
    assert isinstance(failed, Problem) and failed.id == "CALL0000002"
    assert failed.code == "400" and "text must not be empty" in failed.reason


def test_a_batch_record_whose_output_holds_no_image() -> None:
    record = {"recordId": "R9", "modelInput": {}, "modelOutput": {"images": [], "error": None}}
    (problem,) = collect(record)
    assert isinstance(problem, Problem) and isinstance(problem.error, EmptyResultError)
    assert problem.context["custom_id"] == "R9"

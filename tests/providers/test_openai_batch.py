"""imgcall.providers.openai_batch: Batch API output lines, failed lines as problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import (
    EmptyResultError,
    ImageGenerationFailedError,
    InvalidInputError,
    Problem,
)
from imgcall.models import ImageGenerationCall, Location
from imgcall.scan import scan

ENVELOPES = Path(__file__).resolve().parents[2] / "fixtures" / "envelopes"


def found(source: object, **kwargs: Any) -> list[ImageGenerationCall | Problem]:
    return list(scan(source, **kwargs))


def calls(source: object) -> list[ImageGenerationCall]:
    return [f for f in found(source) if isinstance(f, ImageGenerationCall)]


def fixture(name: str) -> Path:
    return ENVELOPES / name


def load(name: str) -> Any:
    return json.loads(fixture(name).read_text())


def test_batch_output_yields_images_and_a_problem_per_failed_line() -> None:
    path = fixture("batch_output.jsonl")
    got = found(path)
    summary = [
        (type(f).__name__, f.id, f.location.line if isinstance(f.location, Location) else None)
        for f in got
    ]
    assert summary == [
        ("ImageGenerationCall", "ig_b1", 1),
        ("Problem", "img-0002", 2),
        ("Problem", "img-0003", 3),
        ("Problem", None, 4),
        ("ImageGenerationCall", "img-0005-0", 5),
        ("ImageGenerationCall", "img-0005-1", 5),
        ("Problem", "img-0006", 6),
    ]
    good = got[0]
    assert isinstance(good, ImageGenerationCall)
    assert good.location == Location(str(path), "/response/body/output/0", 1)
    assert good.context == {
        "custom_id": "img-0001",
        "batch_request_id": "batch_req_1",
        "response_id": "resp_b1",
        "model": "gpt-5",
        "size": "1024x1024",
        "output_format": "png",
    }
    assert [f.context["custom_id"] for f in got if f.id is not None] == [
        "img-0001",
        "img-0002",
        "img-0003",
        "img-0005",
        "img-0005",
        "img-0006",
    ]


def test_batch_problems_name_the_custom_id_and_the_api_message() -> None:
    problems = [f for f in found(fixture("batch_output.jsonl")) if isinstance(f, Problem)]
    rejected, expired, broken, empty = problems
    assert isinstance(rejected.error, ImageGenerationFailedError)
    assert rejected.reason == (
        "batch request 'img-0002' failed with HTTP 400: "
        "Your request was rejected by the safety system. (moderation_blocked)"
    )
    assert rejected.status == "failed"
    assert isinstance(expired.error, ImageGenerationFailedError)
    assert expired.reason == (
        "batch request 'img-0003' failed: This request could not be executed before the "
        "completion window expired. (batch_expired)"
    )
    assert isinstance(broken.error, InvalidInputError)
    assert "line 4 is not valid JSON" in str(broken.error)
    assert isinstance(empty.error, EmptyResultError)
    assert (
        empty.reason
        == "batch request 'img-0006' succeeded (HTTP 200) but its response holds no image"
    )


def test_batch_body_that_ended_incomplete_says_why() -> None:
    line = {
        "custom_id": "c7",
        "response": {
            "status_code": 200,
            "body": {
                "id": "r7",
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "output": [],
            },
        },
    }
    (problem,) = found(line)
    assert isinstance(problem.error, EmptyResultError) and problem.status == "incomplete"
    assert problem.reason.endswith(
        "holds no image; the response status is 'incomplete' (max_output_tokens)"
    )


def test_batch_line_with_neither_response_nor_error() -> None:
    (problem,) = found({"custom_id": "c8", "response": None, "error": None})
    assert isinstance(problem.error, InvalidInputError)
    assert problem.reason == "batch request 'c8' has neither a response nor an error"


def test_batch_line_with_a_chat_body() -> None:
    chat = load("chat_completion.json")
    line = {"custom_id": "c9", "response": {"status_code": 200, "body": chat}, "error": None}
    (call,) = calls(line)
    assert call.id == "gen-1756000000-abc-0-0"
    assert call.context["custom_id"] == "c9"
    assert call.location == Location(
        "<object>", "/response/body/choices/0/message/images/0/image_url/url"
    )


def test_iter_calls_raises_the_first_batch_problem_and_skip_drops_them() -> None:
    path = fixture("batch_output.jsonl")
    got = []
    with pytest.raises(ImageGenerationFailedError, match="img-0002"):
        for call in imgcall.iter_calls(path):
            got.append(call.id)
    assert got == ["ig_b1"]
    assert [c.id for c in imgcall.iter_calls(path, errors="skip")] == [
        "ig_b1",
        "img-0005-0",
        "img-0005-1",
    ]

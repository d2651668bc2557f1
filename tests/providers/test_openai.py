"""imgcall.providers.openai: items, responses, chat completions, Images API bodies, errors."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import (
    ImageGenerationFailedError,
    InvalidItemError,
    Problem,
    UnsupportedResultError,
)
from imgcall.models import ImageGenerationCall, Location
from imgcall.providers import Walker, openai
from imgcall.scan import scan

ENVELOPES = Path(__file__).resolve().parents[2] / "fixtures" / "envelopes"
# The 1x1 PNG of the OpenRouter OpenAPI spec.
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def found(source: object, **kwargs: Any) -> list[ImageGenerationCall | Problem]:
    return list(scan(source, **kwargs))


def calls(source: object) -> list[ImageGenerationCall]:
    out = [f for f in found(source) if isinstance(f, ImageGenerationCall)]
    return out


def fixture(name: str) -> Path:
    return ENVELOPES / name


def load(name: str) -> Any:
    return json.loads(fixture(name).read_text())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to open a connection (URLs are never fetched)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("imgcall tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def is_images_body(value: dict[str, Any]) -> bool:
    return openai.ImagesBody(Walker()).claims(value)


# -- Responses ---------------------------------------------------------------------------


def test_response_yields_output_and_echoed_items_with_bytes_and_skips_references() -> None:
    path = fixture("response_echoed.json")
    got = calls(path)
    assert [c.id for c in got] == ["ig_echoed", "ig_new"]
    assert [c.location for c in got] == [
        Location(str(path), "/input/2"),
        Location(str(path), "/output/0"),
    ]
    assert got[1].context == {
        "response_id": "resp_echo",
        "model": "gpt-5",
        "revised_prompt": "The same cat, in blue.",
    }


def test_response_keeps_items_without_result_in_output_for_the_decoder() -> None:
    response = {
        "id": "r",
        "output": [{"type": "image_generation_call", "id": "ig", "status": "failed"}],
    }
    (call,) = calls(response)
    assert (call.id, call.result) == ("ig", None)
    with pytest.raises(ImageGenerationFailedError):
        imgcall.decode(call)


def test_failed_response_without_images_is_a_problem_naming_it_and_the_reason() -> None:
    response = {
        "id": "resp_f",
        "object": "response",
        "status": "failed",
        "output": [],
        "error": {"code": "moderation_blocked", "message": "Rejected by the safety system."},
    }
    (problem,) = found(response)
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageGenerationFailedError)
    assert (problem.id, problem.status) == ("resp_f", "failed")
    assert str(problem.error) == (
        "<object>#/error: response 'resp_f' failed: "
        "Rejected by the safety system. (moderation_blocked)"
    )


def test_invalid_item_inside_a_response_is_a_problem_with_its_location() -> None:
    response = {"id": "r", "output": [{"type": "image_generation_call", "status": "completed"}]}
    (problem,) = found(response)
    assert isinstance(problem, Problem) and isinstance(problem.error, InvalidItemError)
    assert problem.location == Location("<object>", "/output/0")
    assert "field 'id'" in str(problem.error)


def test_list_of_sdk_like_items_is_read() -> None:
    class SdkItem:
        def __init__(self, id: str) -> None:
            self.id = id

        def model_dump(self) -> dict[str, Any]:
            return {"type": "image_generation_call", "id": self.id, "status": "completed"}

    assert [c.id for c in calls([SdkItem("a"), SdkItem("b")])] == ["a", "b"]


# -- chat completions --------------------------------------------------------------------


def test_chat_completion_image_is_a_jpeg_from_its_data_url() -> None:
    path = fixture("chat_completion.json")
    (call,) = calls(path)
    assert call.id == "gen-1756000000-abc-0-0" and call.status == "completed"
    assert call.location == Location(str(path), "/choices/0/message/images/0/image_url/url")
    assert call.context == {
        "response_id": "gen-1756000000-abc",
        "model": "google/gemini-3-pro-image-preview",
    }
    image = imgcall.decode(call)  # no warning: the data URL says image/jpeg, and it is
    assert (image.format, image.warnings) == ("JPEG", ())


@pytest.mark.usefixtures("no_network")
def test_chat_image_given_as_an_http_url_is_a_problem() -> None:
    chat = {
        "id": "gen-9",
        "choices": [{"message": {"images": [{"image_url": {"url": "https://x.test/a.png"}}]}}],
    }
    (problem,) = found(chat)
    assert isinstance(problem, Problem) and isinstance(problem.error, UnsupportedResultError)
    assert problem.id == "gen-9-0-0"


def test_chat_completion_without_images_yields_nothing() -> None:
    chat = {"id": "gen-t", "choices": [{"message": {"role": "assistant", "content": "hi"}}]}
    assert found(chat) == []


# -- Images API --------------------------------------------------------------------------


def test_images_body_yields_every_entry_with_its_declared_format() -> None:
    path = fixture("images_body.json")
    got = calls(path)
    assert [c.id for c in got] == ["img-1713833628-0", "img-1713833628-1", "img-1713833628-2"]
    assert [c.location for c in got] == [
        Location(str(path), f"/data/{k}/b64_json") for k in range(3)
    ]
    assert [(c.model_extra or {}).get("media_type") for c in got] == [
        "image/png",
        "image/jpeg",
        "image/svg+xml",
    ]
    images = [imgcall.decode(c) for c in got]
    assert [i.format for i in images] == ["PNG", "JPEG", "SVG"]
    assert all(i.warnings == () for i in images)


def test_declared_format_that_disagrees_with_the_bytes_is_a_warning() -> None:
    body = load("images_body.json")
    body["data"][1]["media_type"] = "image/png"  # the bytes are a JPEG
    call = calls(body)[1]
    with pytest.warns(imgcall.ImgcallWarning, match="declared PNG but the bytes are JPEG"):
        assert imgcall.decode(call).format == "JPEG"


@pytest.mark.usefixtures("no_network")
def test_images_body_url_entry_is_a_problem() -> None:
    body = {"created": 5, "data": [{"url": "https://oaidalle.test/img.png"}]}
    (problem,) = found(body)
    assert isinstance(problem, Problem) and isinstance(problem.error, UnsupportedResultError)
    assert problem.id == "img-5-0"


def test_what_counts_as_an_images_body() -> None:
    assert is_images_body({"created": 1, "data": []})
    assert is_images_body({"data": [{"b64_json": "x"}, {"url": "y"}]})
    assert not is_images_body({"object": "list", "data": [{"b64_json": "x"}]})
    assert not is_images_body({"data": [{"id": "file_1"}]})
    assert not is_images_body({"data": []})


def test_images_body_without_created_is_named_after_the_input(tmp_path: Path) -> None:
    path = tmp_path / "dalle.json"
    path.write_text(json.dumps({"data": [{"b64_json": PNG_1X1}, {"b64_json": PNG_1X1}]}))
    assert [c.id for c in calls(path)] == ["dalle-0", "dalle-1"]


def test_error_body_is_a_problem() -> None:
    (problem,) = found({"error": {"message": "Invalid API key", "code": 401}})
    assert isinstance(problem.error, ImageGenerationFailedError)
    assert problem.reason == "the API reported an error: Invalid API key (401)"


# -- code interpreter, moderation, Azure ---------------------------------------------------

PROVIDERS = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


def test_code_interpreter_image_in_a_response() -> None:
    value = json.loads((PROVIDERS / "code_interpreter_response.json").read_text())
    (image,) = imgcall.iter_images(PROVIDERS / "code_interpreter_response.json")
    url = value["output"][0]["outputs"][1]["url"]
    assert image.data == base64.b64decode(url.split(",", 1)[1])
    assert image.id == "ci_68b1f0c2d4e48190-0"
    assert image.context["response_id"] == "resp_68b1f0a2c6a48190"
    assert image.context["container_id"] == "cntr_68b1f0a7b5ac8190"


def test_code_interpreter_image_in_a_stream_is_seen_once() -> None:
    text = (PROVIDERS / "code_interpreter_stream.sse").read_text()
    assert text.count('"type":"image","url"') == 2  # in output_item.done and completed
    found = list(imgcall.iter_images(PROVIDERS / "code_interpreter_stream.sse", errors="collect"))
    assert [(type(x).__name__, x.id) for x in found] == [("DecodedImage", "ci_68b1f0c2d4e48190-0")]


def test_moderation_blocked_item_keeps_its_code() -> None:
    (problem,) = imgcall.iter_images(PROVIDERS / "openai_moderation_blocked.json", errors="collect")
    assert isinstance(problem, Problem) and problem.code == "moderation_blocked"
    assert "rejected by the safety system" in problem.reason


def test_azure_images_body_keeps_filter_results_and_usage_in_the_context() -> None:
    (image,) = imgcall.iter_images(PROVIDERS / "azure_images_body.json")
    assert image.context["content_filter_results"]["violence"] == {
        "filtered": False,
        "severity": "safe",
    }
    assert image.context["usage"]["total_tokens"] == 4179
    assert image.context["revised_prompt"] == "A cosy reading nook with warm light"


def test_azure_policy_error_names_both_codes_and_keeps_the_verdicts() -> None:
    (problem,) = found(PROVIDERS / "azure_error.json")
    assert isinstance(problem, Problem) and problem.code == "content_policy_violation"
    assert "ResponsibleAIPolicyViolation" in problem.reason
    assert problem.context["content_filter_results"]["violence"]["filtered"] is True


def test_unknown_output_item_types_are_searched_by_content() -> None:
    body = {
        "id": "resp_x",
        "object": "response",
        "output": [
            {"type": "future_image_tool", "id": "fi_1", "image": f"data:image/png;base64,{PNG_1X1}"}
        ],
    }
    with pytest.warns(imgcall.ImgcallWarning, match="found by its content"):
        (image,) = imgcall.iter_images(body)
    assert image.id == "resp_x-output-0-image"

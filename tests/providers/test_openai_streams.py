"""imgcall.providers.openai_streams: each final once, partials, cut-off streams, laziness."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.errors import ImageGenerationFailedError, ImageNotReadyError, Problem
from imgcall.image import DecodedImage
from imgcall.models import ImageGenerationCall, Location
from imgcall.scan import scan

ENVELOPES = Path(__file__).resolve().parents[2] / "fixtures" / "envelopes"
# The 1x1 PNG of the OpenRouter OpenAPI spec.
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

Found = ImageGenerationCall | Problem


def fixture(name: str) -> Path:
    return ENVELOPES / name


def events_of(name: str) -> list[dict[str, Any]]:
    """The events of an SSE fixture, as dicts (an iterable of events)."""
    return [
        json.loads(line[len("data: ") :])
        for line in fixture(name).read_text().splitlines()
        if line.startswith("data: {")
    ]


def summary(found: list[Found]) -> list[tuple[str, str | None, int | None]]:
    return [
        (
            "partial" if isinstance(f, ImageGenerationCall) and f.partial else type(f).__name__,
            f.id,
            f.partial_index,
        )
        for f in found
    ]


def item(id: str, result: str | None = PNG_1X1, status: str = "completed") -> dict[str, Any]:
    return {"type": "image_generation_call", "id": id, "status": status, "result": result}


# -- OpenAI stream: finals once, partials on request ---------------------------------------


def test_each_final_image_is_yielded_once_though_the_stream_repeats_it() -> None:
    got = list(scan(fixture("openai_stream.sse")))
    assert summary(got) == [
        ("ImageGenerationCall", "ig_stream_a", None),
        ("ImageGenerationCall", "ig_stream_b", None),
    ]
    first = got[0]
    assert isinstance(first, ImageGenerationCall)
    assert first.location == Location(str(fixture("openai_stream.sse")), "/item", 26)
    assert first.context["response_id"] == "resp_stream1"
    assert first.context["model"] == "gpt-5"
    assert first.context["revised_prompt"].startswith("A gray tabby cat")


def test_first_complete_result_wins() -> None:
    # ig_stream_b's output_item.done says "generating"; response.completed says "completed".
    final_b = list(scan(fixture("openai_stream.sse")))[1]
    assert isinstance(final_b, ImageGenerationCall)
    assert final_b.status == "generating" and final_b.location is not None
    assert final_b.location.pointer == "/item"


def test_partials_come_before_their_final_with_flag_and_index() -> None:
    got = list(scan(fixture("openai_stream.sse"), partials=True))
    assert summary(got) == [
        ("partial", "ig_stream_a", 0),
        ("partial", "ig_stream_a", 1),
        ("ImageGenerationCall", "ig_stream_a", None),
        ("ImageGenerationCall", "ig_stream_b", None),
    ]
    partial = got[0]
    assert isinstance(partial, ImageGenerationCall)
    assert partial.status == "generating"
    assert partial.location == Location(str(fixture("openai_stream.sse")), "/partial_image_b64", 17)
    assert (partial.model_extra or {})["output_format"] == "png"


def test_partial_images_decode_without_a_status_warning_and_are_never_the_final() -> None:
    with pytest.warns(imgcall.ImgcallWarning, match="'ig_stream_b': status is 'generating'"):
        images = list(imgcall.iter_images(fixture("openai_stream.sse"), partials=True))
    assert [(i.id, i.partial, i.partial_index, i.size) for i in images[:3]] == [
        ("ig_stream_a", True, 0, (4, 3)),
        ("ig_stream_a", True, 1, (8, 6)),
        ("ig_stream_a", False, None, (16, 12)),
    ]
    assert images[0].warnings == ()


def test_openrouter_data_only_stream_with_crlf_comments_and_done() -> None:
    path = fixture("openrouter_stream.sse")
    assert b"\r\n" in path.read_bytes()
    got = list(scan(path, partials=True))
    assert summary(got) == [("partial", "ig_or_1", 0), ("ImageGenerationCall", "ig_or_1", None)]
    assert got[1].location == Location(str(path), "/item", 11)
    assert got[1].context == {"response_id": "gen-or-1"}


def test_multi_line_data_event() -> None:
    (call,) = scan(fixture("multiline_data.sse"))
    assert isinstance(call, ImageGenerationCall) and call.id == "ig_multi"
    assert call.location == Location(str(fixture("multiline_data.sse")), "/item", 2)


def test_json_lines_events_with_an_empty_completed_output() -> None:
    path = fixture("events.jsonl")
    (call,) = scan(path)
    assert isinstance(call, ImageGenerationCall)
    assert (call.id, call.location) == ("ig_jsonl", Location(str(path), "/item", 3))
    assert call.context == {
        "response_id": "resp_jsonl",
        "size": "1024x1024",
        "output_format": "png",
    }


def test_broken_event_is_a_problem_and_the_stream_goes_on() -> None:
    got = list(scan(fixture("broken_event.sse")))
    assert summary(got) == [("Problem", None, None), ("ImageGenerationCall", "ig_or_1", None)]
    assert "the SSE event at line 3 is not valid JSON" in str(got[0])


# -- streams that end early or fail --------------------------------------------------------


def test_cut_off_stream_yields_what_it_has_and_reports_the_missing_final() -> None:
    path = fixture("cut_off.sse")
    got = list(scan(path))
    assert summary(got) == [
        ("ImageGenerationCall", "ig_cut_done", None),
        ("Problem", "ig_stream_a", None),
    ]
    problem = got[1]
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageNotReadyError)
    assert problem.status == "generating" and problem.location == Location(str(path), "", 23)
    assert str(problem) == (
        f"{path}:23: item 'ig_stream_a': the stream ended before the final image "
        "(response.output_item.done); 2 partial images arrived "
        "(ask for partials to get them: --partials, or partials=True)"
    )


def test_cut_off_stream_with_partials_yields_them_before_the_problem() -> None:
    got = list(imgcall.iter_images(fixture("cut_off.sse"), partials=True, errors="collect"))
    kinds = [(type(x).__name__, x.id, x.partial_index) for x in got]
    assert kinds == [
        ("DecodedImage", "ig_cut_done", None),
        ("DecodedImage", "ig_stream_a", 0),
        ("DecodedImage", "ig_stream_a", 1),
        ("Problem", "ig_stream_a", None),
    ]
    assert "partial images arrived" in str(got[-1]) and "pass partials" not in str(got[-1])


def test_cut_off_stream_raises_with_the_default_error_policy() -> None:
    ids = []
    with pytest.raises(ImageNotReadyError, match="ig_stream_a"):
        for call in imgcall.iter_calls(fixture("cut_off.sse")):
            ids.append(call.id)
    assert ids == ["ig_cut_done"]


def test_failed_stream_without_images_reports_the_response_error() -> None:
    (problem,) = scan(fixture("stream_failed.sse"))
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageGenerationFailedError)
    assert problem.id == "resp_blocked"
    assert problem.reason == (
        "response 'resp_blocked' failed: Your request was rejected by the safety system. "
        "(moderation_blocked)"
    )


def test_failed_stream_reports_each_announced_item_with_the_reason() -> None:
    events = [
        {"type": "response.created", "response": {"id": "r1"}},
        {
            "type": "response.output_item.added",
            "item": {**item("ig_1", None), "status": "in_progress"},
        },
        {
            "type": "response.failed",
            "response": {
                "id": "r1",
                "status": "failed",
                "output": [],
                "error": {"message": "boom"},
            },
        },
    ]
    (problem,) = scan(events)
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageGenerationFailedError)
    assert problem.id == "ig_1"
    assert problem.reason == "the response failed (boom) before the final image"


def test_failed_item_is_reported_once_through_the_decoder() -> None:
    failed = {**item("ig_f", None, "failed"), "error": {"message": "moderation"}}
    events = [
        {"type": "response.output_item.done", "item": failed},
        {"type": "response.completed", "response": {"id": "r", "output": [failed]}},
    ]
    got = list(imgcall.iter_images(events, errors="collect"))
    assert len(got) == 1 and isinstance(got[0], Problem)
    assert isinstance(got[0].error, ImageGenerationFailedError) and got[0].id == "ig_f"


def test_a_complete_result_later_in_the_stream_beats_an_empty_one() -> None:
    events = [
        {"type": "response.output_item.done", "item": item("ig_e", None)},
        {"type": "response.completed", "response": {"id": "r", "output": [item("ig_e")]}},
    ]
    (call,) = scan(events)
    assert isinstance(call, ImageGenerationCall) and call.result == PNG_1X1
    assert call.location == Location("<object>", "/1/response/output/0")


def test_stream_error_event_is_a_problem() -> None:
    events = [{"type": "error", "code": "server_error", "message": "The server had an error"}]
    (problem,) = scan(events)
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageGenerationFailedError)
    assert problem.reason == "the API reported an error: The server had an error (server_error)"


def test_repeated_partial_is_yielded_once() -> None:
    partial = {
        "type": "response.image_generation_call.partial_image",
        "item_id": "ig_p",
        "partial_image_index": 0,
        "partial_image_b64": PNG_1X1,
    }
    events = [partial, partial, {"type": "response.output_item.done", "item": item("ig_p")}]
    assert summary(list(scan(events, partials=True))) == [
        ("partial", "ig_p", 0),
        ("ImageGenerationCall", "ig_p", None),
    ]


def test_server_tool_item_in_a_stream_is_deduplicated_by_its_synthetic_id() -> None:
    tool = {"type": "openrouter:image_generation", "status": "completed", "imageB64": PNG_1X1}
    events = [
        {"type": "response.created", "response": {"id": "resp_t"}},
        {"type": "response.output_item.done", "output_index": 2, "item": tool},
        {"type": "response.completed", "response": {"id": "resp_t", "output": [{}, {}, tool]}},
    ]
    assert [f.id for f in scan(events)] == ["resp_t-img2"]


# -- Images API and chat streams ------------------------------------------------------------


def test_images_api_stream_partial_and_final_share_an_id() -> None:
    got = list(scan(fixture("images_stream.sse"), partials=True))
    assert summary(got) == [
        ("partial", "img-1756000100-0", 0),
        ("ImageGenerationCall", "img-1756000100-0", None),
    ]
    assert [f.status for f in got] == ["generating", "completed"]
    (final,) = scan(fixture("images_stream.sse"))
    assert final.id == "img-1756000100-0"


def test_images_api_stream_cut_off_reports_the_missing_final() -> None:
    (problem,) = scan(events_of("images_stream.sse")[:1])
    assert isinstance(problem, Problem) and isinstance(problem.error, ImageNotReadyError)
    assert "the stream ended before the final image" in problem.reason


def test_chat_stream_numbers_images_across_chunks() -> None:
    path = fixture("chat_stream.sse")
    got = list(scan(path))
    assert [(f.id, f.location) for f in got] == [
        ("gen-chat-2-0-0", Location(str(path), "/choices/0/delta/images/0/image_url/url", 5)),
        ("gen-chat-2-0-1", Location(str(path), "/choices/0/delta/images/0/image_url/url", 7)),
    ]
    formats = [i.format for i in imgcall.iter_images(path)]
    assert formats == ["PNG", "JPEG"]


# -- laziness -----------------------------------------------------------------------------


def test_iterable_of_events_is_consumed_lazily_by_iter_images() -> None:
    """Each partial comes out as soon as it arrives, each final at its output_item.done."""
    events = events_of("openai_stream.sse")
    received: list[DecodedImage | Problem] = []

    def live() -> Iterator[dict[str, Any]]:
        seen_partials = 0
        for event in events:
            yield event
            kind = event["type"]
            if kind == "response.image_generation_call.partial_image":
                seen_partials += 1
                # The consumer already holds this partial before the next event is read.
                assert len(received) == seen_partials
            if kind == "response.output_item.done" and event["item"]["type"] != "message":
                assert received[-1].id == event["item"]["id"]
                assert not isinstance(received[-1], Problem) and not received[-1].partial

    with pytest.warns(imgcall.ImgcallWarning, match="'ig_stream_b'"):
        for found in imgcall.iter_images(live(), partials=True, errors="collect"):
            received.append(found)
    assert [(r.id, r.partial_index) for r in received] == [
        ("ig_stream_a", 0),
        ("ig_stream_a", 1),
        ("ig_stream_a", None),
        ("ig_stream_b", None),
    ]


def test_sse_lines_from_a_live_connection_are_consumed_lazily() -> None:
    text = fixture("openrouter_stream.sse").read_bytes().decode()
    received: list[ImageGenerationCall] = []

    def iter_lines() -> Iterator[str]:
        in_partial_event = False
        for line in text.split("\r\n"):
            yield line
            in_partial_event = in_partial_event or "partial_image_b64" in line
            if in_partial_event and line == "":
                # The blank line ends the partial's event: it is out before the next line.
                assert [c.partial_index for c in received] == [0]
                in_partial_event = False

    for call in imgcall.iter_calls(iter_lines(), partials=True):
        received.append(call)
    assert [(c.id, c.partial) for c in received] == [("ig_or_1", True), ("ig_or_1", False)]


def test_sdk_event_objects_are_read_with_model_dump() -> None:
    class Event:
        def __init__(self, data: dict[str, Any]) -> None:
            self._data = data

        def model_dump(self) -> dict[str, Any]:
            return self._data

    got = list(scan(Event(e) for e in events_of("openai_stream.sse")))
    assert [f.id for f in got] == ["ig_stream_a", "ig_stream_b"]
    assert got[0].location == Location("<object>", "/8/item")

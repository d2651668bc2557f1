"""ImageGenerationCall, ImageGenerationStatus, parse_call and Location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall import ImageGenerationCall, ImageGenerationStatus, InvalidItemError, parse_call
from imgcall.models import Location


def test_openai_item_keeps_extra_fields_and_round_trips(load_item: Any) -> None:
    """Every field the API adds is kept, and a JSON dump gives back the input object."""
    raw = load_item("openai_item")
    call = parse_call(raw)
    assert call.id == raw["id"]
    assert call.status is ImageGenerationStatus.COMPLETED
    assert call.revised_prompt == raw["revised_prompt"]  # type: ignore[attr-defined]
    assert call.model_dump(mode="json", exclude_unset=True) == raw


def test_openrouter_item(load_item: Any) -> None:
    raw = load_item("openrouter_item")
    call = parse_call(raw)
    assert (call.id, call.status, call.result) == (raw["id"], "completed", raw["result"])
    assert call.model_dump(mode="json", exclude_unset=True) == raw


@pytest.mark.parametrize("status", ["in_progress", "completed", "generating", "failed"])
def test_known_statuses_become_the_enum(status: str) -> None:
    call = parse_call({"type": "image_generation_call", "id": "ig", "status": status})
    assert call.status is ImageGenerationStatus(status)
    assert call.status == status


def test_unknown_status_is_kept_as_a_string() -> None:
    call = parse_call({"type": "image_generation_call", "id": "ig", "status": "queued"})
    assert call.status == "queued"
    assert not isinstance(call.status, ImageGenerationStatus)
    assert call.model_dump(mode="json")["status"] == "queued"


def test_result_defaults_to_none_and_null_is_accepted() -> None:
    missing = parse_call({"type": "image_generation_call", "id": "a", "status": "in_progress"})
    null = parse_call(
        {"type": "image_generation_call", "id": "b", "status": "failed", "result": None}
    )
    assert missing.result is None and null.result is None
    assert "result" not in missing.model_dump(exclude_unset=True)


def test_model_is_frozen() -> None:
    call = parse_call({"type": "image_generation_call", "id": "a", "status": "completed"})
    with pytest.raises(Exception, match="frozen"):
        call.id = "b"  # type: ignore[misc]


def test_repr_never_prints_the_base64(load_item: Any) -> None:
    raw = load_item("openai_item")
    text = repr(parse_call(raw))
    assert raw["result"] not in text
    assert raw["result"][:20] not in text
    assert f"result=<{len(raw['result'])} chars>" in text
    assert "status='completed'" in text
    assert str(parse_call(raw)).count("iVBOR") == 0


def test_repr_shortens_any_huge_extra_string() -> None:
    call = parse_call(
        {"type": "image_generation_call", "id": "a", "status": "completed", "blob": "x" * 5000}
    )
    assert "x" * 300 not in repr(call)
    assert "<5000 chars>" in repr(call)


@pytest.mark.parametrize("form", ["dict", "str", "bytes", "model_dump", "to_dict"])
def test_parse_call_accepts_every_form(form: str, load_item: Any) -> None:
    raw = load_item("openrouter_item")

    class PydanticLike:
        def model_dump(self) -> dict[str, Any]:
            return raw

    class DictLike:
        def to_dict(self) -> dict[str, Any]:
            return raw

    obj: object = {
        "dict": raw,
        "str": json.dumps(raw),
        "bytes": json.dumps(raw).encode(),
        "model_dump": PydanticLike(),
        "to_dict": DictLike(),
    }[form]
    assert parse_call(obj).id == raw["id"]


def test_parse_call_returns_a_call_unchanged(load_item: Any) -> None:
    call = parse_call(load_item("openai_item"))
    assert parse_call(call) is call


def test_parse_call_accepts_a_real_pydantic_sdk_model(load_item: Any) -> None:
    """An SDK object like openai-python's, built with pydantic, is read via model_dump()."""
    from typing import Literal, Optional

    from pydantic import BaseModel, ConfigDict

    class SdkImageGenerationCall(BaseModel):
        model_config = ConfigDict(extra="allow")
        id: str
        result: Optional[str] = None  # noqa: UP045 - mirrors the SDK's own annotation
        status: Literal["in_progress", "completed", "generating", "failed"]
        type: Literal["image_generation_call"]

    raw = load_item("openai_item")
    call = parse_call(SdkImageGenerationCall.model_validate(raw))
    assert call.model_dump(mode="json", exclude_unset=True) == raw


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"id": "m", "type": "message", "status": "completed"}, "type 'message'"),
        ({"id": "m", "status": "completed"}, "no 'type' field"),
        ({"type": "image_generation_call", "status": "completed"}, "field 'id': Field required"),
        ({"type": "image_generation_call", "id": "a"}, "field 'status': Field required"),
        ({"type": "image_generation_call", "id": 7, "status": "completed"}, "field 'id'"),
        ({"type": "image_generation_call", "id": "a", "status": 5}, "field 'status'"),
        (
            {"type": "image_generation_call", "id": "a", "status": "completed", "result": 5},
            "field 'result'",
        ),
        ("[1, 2", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[1, 2]", "got a value of type list"),
        (42, "cannot read an image_generation_call item from a value of type int"),
        (None, "item from null"),
    ],
)
def test_parse_call_errors_are_readable(obj: object, message: str) -> None:
    with pytest.raises(InvalidItemError) as info:
        parse_call(obj)
    assert message in str(info.value)
    assert "Traceback" not in str(info.value)
    assert "https://errors.pydantic.dev" not in str(info.value)


def test_text_that_is_not_unicode_is_an_invalid_item() -> None:
    """A str holding a lone surrogate cannot be UTF-8: a readable error, not a TypeError."""
    text = '{"type": "image_generation_call", "id": "\ud800", "status": "completed"}'
    with pytest.raises(InvalidItemError, match="not valid JSON"):
        parse_call(text)


def test_too_deeply_nested_item_is_an_invalid_item() -> None:
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(100_000):
        inner["a"] = inner = {}
    with pytest.raises(InvalidItemError, match="nested too deeply"):
        parse_call({"type": "image_generation_call", "id": "ig", "status": "completed", "x": deep})


def test_invalid_item_error_names_the_item_id() -> None:
    with pytest.raises(InvalidItemError) as info:
        parse_call({"id": "msg_9", "type": "message", "status": "completed"})
    assert info.value.id == "msg_9"
    assert "'msg_9'" in str(info.value)


def test_pydantic_errors_are_chained_not_leaked() -> None:
    import pydantic

    with pytest.raises(InvalidItemError) as info:
        parse_call({"type": "image_generation_call", "status": "completed"})
    assert isinstance(info.value.__cause__, pydantic.ValidationError)


def test_sdk_object_whose_dump_fails_is_an_invalid_item() -> None:
    class Broken:
        def model_dump(self) -> dict[str, Any]:
            raise RuntimeError("boom")

    with pytest.raises(InvalidItemError, match=r"Broken.model_dump\(\) failed: boom"):
        parse_call(Broken())


def test_origin_is_attached_without_changing_the_data(load_item: Any) -> None:
    raw = load_item("openrouter_item")
    call = parse_call(raw)
    location = Location("resp.json").child("output", 0)
    assert call.with_origin(location, {"response_id": "resp_1"}, partial_index=2) is call
    assert call.location == location and call.context == {"response_id": "resp_1"}
    assert call.partial and call.partial_index == 2
    assert call.model_dump(mode="json", exclude_unset=True) == raw


def test_location_renders_input_line_and_pointer() -> None:
    assert str(Location("resp.json").child("output", 0)) == "resp.json#/output/0"
    assert (
        str(Location("b.jsonl", line=12).child("response", "body")) == "b.jsonl:12#/response/body"
    )
    assert str(Location("x", line=3, column=9)) == "x:3:9"
    assert Location("x").child("a/b~c").pointer == "/a~1b~0c"


def test_the_model_is_the_public_one() -> None:
    assert imgcall.ImageGenerationCall is ImageGenerationCall
    assert ImageGenerationCall.model_fields["result"].repr is False


# --- SDK objects round-trip (the openai package is a test dependency) ------------------------


def test_an_openai_sdk_item_round_trips_without_fields_the_api_never_sent(
    load_item: Any,
) -> None:
    from openai.types.responses.response_output_item import ImageGenerationCall as SdkCall

    raw = load_item("openai_item")
    sdk = SdkCall.model_validate(raw)
    # What a plain model_dump() would have added: fields the API never sent, as None.
    assert {k: v for k, v in sdk.model_dump().items() if k not in raw}
    assert all(v is None for k, v in sdk.model_dump().items() if k not in raw)
    call = parse_call(sdk)
    assert call.model_dump(mode="json", exclude_unset=True) == raw


def test_a_pydantic_model_with_optional_fields_gives_only_the_fields_that_were_set(
    load_item: Any,
) -> None:
    from typing import Optional

    from pydantic import BaseModel

    class Sdk(BaseModel):  # the shape of an SDK model: optional fields default to None
        id: str
        type: str
        status: str
        result: Optional[str] = None  # noqa: UP045 - mirrors the SDK's own annotation
        error: Optional[dict[str, Any]] = None  # noqa: UP045
        revised_prompt: Optional[str] = None  # noqa: UP045

    raw = {k: v for k, v in load_item("openai_item").items() if k in Sdk.model_fields}
    call = parse_call(Sdk.model_validate(raw))
    assert call.model_dump(mode="json", exclude_unset=True) == raw


def openai_events(load_item: Any) -> list[Any]:
    from openai.types.responses import (
        ResponseImageGenCallPartialImageEvent,
        ResponseOutputItemDoneEvent,
    )

    raw = load_item("openai_item")
    partial = ResponseImageGenCallPartialImageEvent.model_validate(
        {
            "type": "response.image_generation_call.partial_image",
            "item_id": raw["id"],
            "output_index": 0,
            "partial_image_index": 0,
            "partial_image_b64": raw["result"],
            "sequence_number": 1,
        }
    )
    done = ResponseOutputItemDoneEvent.model_validate(
        {"type": "response.output_item.done", "output_index": 0, "sequence_number": 2, "item": raw}
    )
    return [partial, done]


def test_a_list_and_an_iterator_of_sdk_events_are_labelled_alike(load_item: Any) -> None:
    events = openai_events(load_item)
    from_list = list(imgcall.iter_calls(events, partials=True))
    from_iterator = list(imgcall.iter_calls(iter(events), partials=True))
    assert [str(c.location) for c in from_list] == [str(c.location) for c in from_iterator]
    assert [str(c.location) for c in from_list] == [
        "<object>#/0/partial_image_b64",
        "<object>#/1/item",
    ]
    final = from_list[-1]
    assert final.model_dump(mode="json", exclude_unset=True) == load_item("openai_item")


# --- decode() given a file or a whole response -------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "response.json",
        Path("response.json"),
        {"object": "response", "id": "resp_1", "output": []},
        [{"type": "image_generation_call", "id": "a", "status": "completed"}],
    ],
    ids=["path-text", "path", "response", "list"],
)
def test_decode_of_a_file_or_a_response_points_to_iter_images(source: object) -> None:
    with pytest.raises(imgcall.InvalidItemError, match=r"use imgcall\.iter_images\(") as info:
        imgcall.decode(source)
    assert "decode() and parse_call() take one item" in str(info.value)


def test_broken_json_of_an_item_does_not_suggest_iter_images() -> None:
    with pytest.raises(imgcall.InvalidItemError) as info:
        parse_call('{"type": "image_generation_call", ')
    assert "iter_images" not in str(info.value)
